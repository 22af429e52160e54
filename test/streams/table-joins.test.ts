/**
 * Goal: stream–table and table–table joins equal a model join of their inputs (issue 7).
 *
 * Properties, for random keys, values, deletes and event times (out of order), produced to both
 * topics in random chunks while the app runs so that the two sides interleave at random:
 * - stream–table (inner, left; current or versioned lookup): the output is, record by record,
 *   the model's join — the table's value when the record was processed, or with `versioned`
 *   the newest table version at or before the record's time (none when the record is older
 *   than stream time − history, a table update that old not kept);
 * - table–table (inner, left, outer): the output is exactly the model's sequence of result
 *   updates (a value, or null when a key leaves the result), and the result store ends equal
 *   to the join of the final tables.
 *
 * Method: a task reads its two input partitions in arrival order, so the order is recorded as it
 * happens — a `tap` on each side before the join (the app runs in-process on the embedded
 * broker, exactly once, without crashes: each record is processed once) — and the model runs
 * over that order. Examples: co-partitioning is checked at start; a stream keyed by another
 * field is repartitioned before a join.
 */
import { fc, test } from '@fast-check/vitest'
import { tap } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { selectKey, type Serde, topology, WeirError } from '../../src/index.ts'
import { currentRecord } from '../../src/streams/processing-context.ts'
import { harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

interface Update { key: string, value: number | null, timestamp: number }
type Seen = { side: 'L' | 'R' } & Update

const HISTORY_MS = 30

const update: fc.Arbitrary<Update> = fc.record({ key: fc.constantFrom('a', 'b', 'c'),
  value: fc.option(fc.nat(99), { freq: 5, nil: null }), timestamp: fc.nat(100) })

/** Both sides' records, produced in this many chunks (a wait for the app after some). */
const inputs = fc.record({ left: fc.array(update, { maxLength: 20 }),
  right: fc.array(update, { maxLength: 20 }), chunks: fc.integer({ min: 1, max: 4 }) })

/** Records what the task processes, in order: a tap per side. */
function recorder(seen: Seen[], side: 'L' | 'R') {
  return tap<number | null>(value => {
    const { key, timestamp } = currentRecord('test tap')
    seen.push({ side, key: key as string, value, timestamp })
  })
}

/** The newest version at or before `t` (the last written wins a tie), per the versioned rule. */
function versionAt(versions: readonly Update[], key: string, t: number): number | null {
  let found: Update | undefined
  for (const v of versions) if (v.key === key && v.timestamp <= t &&
    (found === undefined || v.timestamp >= found.timestamp)) found = v
  return found?.value ?? null
}

function streamTableModel(seen: readonly Seen[], kind: 'inner' | 'left', versioned: boolean):
string[] {
  const table = new Map<string, number>()
  const versions: Update[] = []
  let streamTime = -1
  const out: string[] = []
  for (const record of seen) {
    streamTime = Math.max(streamTime, record.timestamp)
    const oldest = streamTime - HISTORY_MS
    if (record.side === 'R') {
      if (record.value === null) table.delete(record.key)
      else table.set(record.key, record.value)
      if (record.timestamp >= oldest) versions.push(record)
      continue
    }
    const found = !versioned ? table.get(record.key) ?? null
      : record.timestamp < oldest ? null : versionAt(versions, record.key, record.timestamp)
    if (found === null && kind === 'inner') continue
    out.push(`${record.key}:${record.value}+${found}@${record.timestamp}`)
  }
  return out
}

async function produceChunked(h: Awaited<ReturnType<typeof harness>>,
  app: { caughtUp(): Promise<void> }, sides: Array<[string, Update[]]>, chunks: number):
  Promise<void> {
  for (let chunk = 0; chunk < chunks; chunk++) {
    for (const [topic, records] of sides) {
      const size = Math.ceil(records.length / chunks)
      const part = records.slice(chunk * size, (chunk + 1) * size)
      if (part.length === 0) continue
      await h.produce(topic, part.map(r => ({ key: r.key,
        value: r.value === null ? null : String(r.value), timestamp: r.timestamp })))
    }
    if (chunk % 2 === 1) await app.caughtUp()
  }
  await app.caughtUp()
}

describe('stream–table joins', () => {
  test.prop([inputs, fc.constantFrom('inner', 'left') as fc.Arbitrary<'inner' | 'left'>,
    fc.boolean()], { numRuns: numRuns(20) })(
    'stream–table join equals the model join of the inputs in the order processed, for random '
    + 'interleavings of both sides, out-of-order event times, deletes, current or versioned '
    + 'lookup', async ({ left, right, chunks }, kind, versioned) => {
      const h = await harness([{ topic: 'clicks' }, { topic: 'users' }, { topic: 'out' }])
      try {
        const seen: Seen[] = []
        const t = topology('stream-table')
        const users = t.table<number>('users')
        users.toStream().pipe(recorder(seen, 'R'))
        const clicks = t.stream<number>('clicks').pipe(recorder(seen, 'L'))
        const joiner = (value: number | null, user: number | null): string =>
          `${value}+${user}`
        const options = versioned
          ? { versioned: { store: 'user-versions', historyRetentionMs: HISTORY_MS } } : {}
        const joined = kind === 'inner'
          ? clicks.join(users, joiner, options) : clicks.leftJoin(users, joiner, options)
        joined.to('out', { serde: stringOut() })
        const app = await h.start(t)
        await produceChunked(h, app, [['clicks', left.filter(r => r.value !== null)],
          ['users', right]], chunks)
        const out = await readWithTime(h, 'out')
        expect(out).toEqual(streamTableModel(seen, kind, versioned))
      } finally {
        await h.close()
      }
    })

  it('versioned lookup: a record sees the table as of its time, within the history',
    async () => {
      const h = await harness([{ topic: 'clicks' }, { topic: 'users' }, { topic: 'out' }])
      try {
        const t = topology('versioned-lookup')
        t.stream<number>('clicks').leftJoin(t.table<number>('users'),
          (click, user) => `${click}+${user}`,
          { versioned: { store: 'user-versions', historyRetentionMs: HISTORY_MS } })
          .to('out', { serde: stringOut() })
        const app = await h.start(t)
        await h.produce('users', [{ key: 'a', value: '1', timestamp: 10 },
          { key: 'a', value: '2', timestamp: 60 }, { key: 'a', value: '3', timestamp: 50 }])
        await app.caughtUp()
        // Stream time 60, history 30: the version at 10 is still the value from 30 to 50.
        await h.produce('clicks', [{ key: 'a', value: '7', timestamp: 40 },
          { key: 'a', value: '8', timestamp: 20 }, { key: 'a', value: '9', timestamp: 55 },
          { key: 'a', value: '6', timestamp: 61 }])
        await app.caughtUp()
        expect(await readWithTime(h, 'out'))
          .toEqual(['a:7+1@40', 'a:8+null@20', 'a:9+3@55', 'a:6+2@61'])
      } finally {
        await h.close()
      }
    })

  it('a stream and a table of different partition counts cannot be joined: start fails with '
    + 'WEIR_ERR_STREAMS_COPARTITION', async () => {
    const h = await harness([{ topic: 'clicks', partitions: 2 }, { topic: 'users', partitions: 3 },
      { topic: 'out' }])
    try {
      const t = topology('not-copartitioned')
      t.stream<number>('clicks').join(t.table<number>('users'), (a, b) => a + b).to('out')
      const failure = await h.start(t).then(() => undefined, (error: unknown) => error)
      expect(WeirError.is(failure, 'WEIR_ERR_STREAMS_COPARTITION')).toBe(true)
      expect((failure as Error).message).toMatch(/clicks: 2, users: 3/)
    } finally {
      await h.close()
    }
  })

  it('a stream keyed by another field is repartitioned by its new key before the join, into '
    + 'as many partitions as the table has', async () => {
      const h = await harness([{ topic: 'orders', partitions: 2 },
        { topic: 'customers', partitions: 3 }, { topic: 'out' }])
      try {
        const t = topology('rekeyed-join')
        const customers = t.table<{ name: string }>('customers')
        t.stream<{ customer: string, total: number }>('orders')
          .pipe(selectKey(order => order.customer))
          .join(customers, (order, customer) => `${customer.name}:${order.total}`,
            { name: 'orders-by-customer' })
          .to('out', { serde: stringOut() })
        const app = await h.start(t)
        await h.produce('customers', [{ key: 'c1', value: '{"name":"Ada"}' },
          { key: 'c2', value: '{"name":"Bob"}' }])
        await app.caughtUp()
        // Keyed by order id, each on a partition other than its customer's.
        const partitionOf = new Map((await h.read('customers')).map(r => [r.key, r.partition]))
        const elsewhere = (customer: string): number => partitionOf.get(customer) === 0 ? 1 : 0
        await h.produce('orders', [
          { key: 'o1', value: '{"customer":"c1","total":5}', partition: elsewhere('c1') },
          { key: 'o2', value: '{"customer":"c2","total":7}', partition: elsewhere('c2') }])
        await app.caughtUp()
        expect((await h.read('out')).map(r => `${r.key}=${r.value}`).sort())
          .toEqual(['c1=Ada:5', 'c2=Bob:7'])
        expect(t.describe().subTopologies.length).toBe(2)
        const [repartition] = await h.weir.admin().describeTopics(
          ['rekeyed-join-orders-by-customer-repartition'])
        expect(repartition?.partitions).toBe(3)
      } finally {
        await h.close()
      }
    })
})

function tableTableModel(seen: readonly Seen[], kind: 'inner' | 'left' | 'outer'):
{ updates: string[], final: Map<string, string> } {
  const tables = { L: new Map<string, number>(), R: new Map<string, number>() }
  const result = new Map<string, string>()
  const updates: string[] = []
  for (const { side, key, value } of seen) {
    if (value === null) tables[side].delete(key)
    else tables[side].set(key, value)
    const l = tables.L.get(key) ?? null
    const r = tables.R.get(key) ?? null
    const present = kind === 'inner' ? l !== null && r !== null
      : kind === 'left' ? l !== null : l !== null || r !== null
    if (present) {
      result.set(key, `${l}+${r}`)
      updates.push(`${key}=${l}+${r}`)
    } else if (result.delete(key)) {
      updates.push(`${key}=null`)
    }
  }
  return { updates, final: result }
}

describe('table–table joins', () => {
  test.prop([inputs, fc.constantFrom('inner', 'left', 'outer') as
    fc.Arbitrary<'inner' | 'left' | 'outer'>], { numRuns: numRuns(20) })(
    'table–table join emits exactly the model\'s result updates for random interleavings of '
    + 'both sides (deletes included), and its store ends equal to the join of the final tables',
    async ({ left, right, chunks }, kind) => {
      const h = await harness([{ topic: 'lt' }, { topic: 'rt' }, { topic: 'out' }])
      try {
        const seen: Seen[] = []
        const t = topology('table-table')
        const lt = t.table<number>('lt')
        const rt = t.table<number>('rt')
        lt.toStream().pipe(recorder(seen, 'L'))
        rt.toStream().pipe(recorder(seen, 'R'))
        const joiner = (l: number | null, r: number | null): string => `${l}+${r}`
        const options = { store: 'joined' }
        const joined = kind === 'inner' ? lt.join(rt, joiner, options)
          : kind === 'left' ? lt.leftJoin(rt, joiner, options) : lt.outerJoin(rt, joiner, options)
        joined.toStream().to('out', { serde: stringOut() })
        const app = await h.start(t)
        await produceChunked(h, app, [['lt', left], ['rt', right]], chunks)
        const expected = tableTableModel(seen, kind)
        expect((await h.read('out')).map(r => `${r.key}=${r.value ?? 'null'}`))
          .toEqual(expected.updates)
        const stored = await app.query<string>('joined').all()
        expect(new Map(stored.map(({ key, value }) => [key as unknown as string, value])))
          .toEqual(expected.final)
      } finally {
        await h.close()
      }
    })
})

/** Strings out as they are (the sink keeps a null as a tombstone). */
function stringOut(): Serde<string> {
  return { name: 'string', serialize: value => Buffer.from(value),
    deserialize: bytes => bytes.toString() }
}

/** `key:value@timestamp` of every committed record of a topic. */
async function readWithTime(h: Awaited<ReturnType<typeof harness>>, topic: string):
Promise<string[]> {
  return (await readCommitted(h.weir.transport, topic, 0)).map(r =>
    `${r.key?.toString()}:${r.value?.toString()}@${r.timestamp}`)
}
