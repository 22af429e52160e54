/**
 * Goal: stream–stream windowed joins (inner, left, outer) equal a model join of their inputs,
 * with Kafka's window, grace, late-drop and unmatched-emission rules
 * (src/streams/joins/stream-stream-join.ts).
 *
 * Property, one per join type: for random keys and event times on both sides (nearly in order,
 * so some records are out of order within grace and some beyond it) and random windows (before,
 * after, grace), produced to both topics in random chunks while the app runs — waiting for it
 * after some chunks — so that the sides interleave at random, the output topic holds exactly the
 * model's records (key, value, timestamp) in order, the late counters equal the model's, and
 * the pending store ends holding exactly the model's waiting records.
 *
 * The model is a plain loop over the order the task processed the records in (stream time = the
 * largest timestamp so far): emit the waiting unmatched records whose window closed (close time
 * < stream time; by timestamp, right before left, key, arrival), drop the record as late if its
 * own window closed, join it with every open record of the other side in its window (oldest
 * first), keep it, and let it wait if it joined nothing on a side whose unmatched records are
 * emitted.
 *
 * Method: a task reads its two input partitions in arrival order, so the order is recorded as it
 * happens — a `tap` on each side before the join (the app runs in-process on the embedded
 * broker, exactly once, without crashes: each record is processed once) — and the model runs
 * over that order. Examples: a worked example with concrete numbers for all three joins (late
 * drop counted, a null key, a custom serde), store retention, and co-partitioning checked at
 * start.
 */
import { fc, test } from '@fast-check/vitest'
import { tap } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { type Serde, topology, WeirError } from '../../src/index.ts'
import { JoinWindows } from '../../src/streams/joins/join-windows.ts'
import {
  joinStreams, type PendingKey, type PendingValues, type StreamJoinKind,
} from '../../src/streams/joins/stream-stream-join.ts'
import type { KStream } from '../../src/streams/kstream.ts'
import { currentRecord } from '../../src/streams/processing-context.ts'
import { type Harness, harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

type Side = 'L' | 'R'
interface Item { id: string }
interface Seen { side: Side, id: string, key: string, timestamp: number }
interface Out { key: string | null, value: string, timestamp: number }
interface Windows { before: number, after: number, grace: number }

const joiner = (l: Item | null, r: Item | null): string => `${l?.id ?? '-'}|${r?.id ?? '-'}`

function emitsUnmatched(kind: StreamJoinKind, side: Side): boolean {
  return kind === 'outer' || (kind === 'left' && side === 'L')
}

/** The model: outputs, late counts and the records still waiting, per the rules above. */
function model(kind: StreamJoinKind, seen: readonly Seen[], w: Windows):
{ out: Out[], late: Record<Side, number>, waiting: string[] } {
  const closesAt = (r: Seen): number => r.timestamp + (r.side === 'L' ? w.after : w.before)
    + w.grace
  const inWindow = (a: Seen, b: Seen): boolean => {
    const [l, r] = a.side === 'L' ? [a, b] : [b, a]
    return l.timestamp - w.before <= r.timestamp && r.timestamp <= l.timestamp + w.after
  }
  let streamTime = -1
  const kept: Seen[] = []
  let waiting: Seen[] = []
  const out: Out[] = []
  const late = { L: 0, R: 0 }
  for (const record of seen) {
    streamTime = Math.max(streamTime, record.timestamp)
    const closed = waiting.filter(r => closesAt(r) < streamTime)
      .sort((a, b) => a.timestamp - b.timestamp || (a.side === b.side ? 0 : a.side === 'R' ? -1 : 1)
        || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    for (const r of closed) {
      out.push({ key: r.key, timestamp: r.timestamp,
        value: r.side === 'L' ? `${r.id}|-` : `-|${r.id}` })
    }
    waiting = waiting.filter(r => !closed.includes(r))
    if (closesAt(record) < streamTime) {
      late[record.side]++
      continue
    }
    const partners = kept.filter(o => o.side !== record.side && o.key === record.key
      && closesAt(o) >= streamTime && inWindow(record, o))
      .sort((a, b) => a.timestamp - b.timestamp)
    for (const o of partners) {
      waiting = waiting.filter(r => r !== o)
      out.push({ key: record.key, timestamp: Math.max(record.timestamp, o.timestamp),
        value: record.side === 'L' ? `${record.id}|${o.id}` : `${o.id}|${record.id}` })
    }
    kept.push(record)
    if (partners.length === 0 && emitsUnmatched(kind, record.side)) waiting.push(record)
  }
  return { out, late, waiting: waiting.map(r => r.id).sort() }
}

/** Records what the task processes, in order: a tap per side. */
function recorder(seen: Seen[], side: Side) {
  return tap<Item>(value => {
    const { key, timestamp } = currentRecord('test tap')
    seen.push({ side, id: value.id, key: key as string, timestamp })
  })
}

async function readOut(h: Harness, topic: string): Promise<Out[]> {
  return (await readCommitted(h.weir.transport, topic, 0)).map(r => ({
    key: r.key?.toString() ?? null, value: JSON.parse(r.value!.toString()) as string,
    timestamp: r.timestamp }))
}

interface Produced { side: Side, key: string, timestamp: number }
interface Chunk { size: number, rightFirst: boolean, wait: 'none' | 'sleep' | 'caughtUp' }

/**
 * Both sides' records on one timeline, nearly in timestamp order: most delayed by up to 15 ms,
 * some by up to 50, so some arrive out of order within grace and some beyond it.
 */
const recordsArbitrary: fc.Arbitrary<Produced[]> = fc.array(fc.record({
  side: fc.constantFrom<Side>('L', 'R'), key: fc.constantFrom('a', 'b'), timestamp: fc.nat(100),
  delay: fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.nat(15), weight: 2 },
    { arbitrary: fc.nat(50), weight: 1 }),
}), { minLength: 12, maxLength: 30 })
  .map(records => [...records].sort((x, y) => x.timestamp + x.delay - y.timestamp - y.delay)
    .map(({ side, key, timestamp }) => ({ side, key, timestamp })))

const windowsArbitrary: fc.Arbitrary<Windows> = fc.record({ before: fc.nat(20),
  after: fc.option(fc.nat(20), { nil: undefined }),
  grace: fc.oneof({ arbitrary: fc.constant(0), weight: 1 },
    { arbitrary: fc.integer({ min: 5, max: 25 }), weight: 3 }) })
  .map(({ before, after, grace }) => ({ before, after: after ?? before, grace }))

/** How the timeline is cut into produce calls, and whether to wait for the app after each. */
const chunksArbitrary: fc.Arbitrary<Chunk[]> = fc.array(fc.record({
  size: fc.integer({ min: 1, max: 4 }), rightFirst: fc.boolean(),
  wait: fc.constantFrom<Chunk['wait']>('none', 'sleep', 'sleep', 'caughtUp') }),
{ minLength: 1, maxLength: 8 })

interface Case { records: Produced[], windows: Windows, chunks: Chunk[] }

const caseArbitrary: fc.Arbitrary<Case> = fc.record({ records: recordsArbitrary,
  windows: windowsArbitrary, chunks: chunksArbitrary })

/**
 * Produces the timeline chunk by chunk (cycling through the plan): each chunk's left and right
 * records in one call per side, then the chunk's wait. Values are `{ id }`, ids per side.
 */
async function produceChunked(h: Harness, app: { caughtUp(): Promise<void> },
  records: readonly Produced[], chunks: readonly Chunk[]): Promise<void> {
  const ids = new Map(records.map((r, i) => [r, `${r.side}${records.slice(0, i)
    .filter(o => o.side === r.side).length}`]))
  for (let at = 0, i = 0; at < records.length; i++) {
    const chunk = chunks[i % chunks.length]!
    const part = records.slice(at, at + chunk.size)
    at += part.length
    for (const side of chunk.rightFirst ? ['R', 'L'] : ['L', 'R']) {
      const mine = part.filter(r => r.side === side)
      if (mine.length === 0) continue
      await h.produce(side === 'L' ? 'left' : 'right', mine.map(r => ({ key: r.key,
        timestamp: r.timestamp, value: JSON.stringify({ id: ids.get(r) }) })))
    }
    if (chunk.wait === 'sleep') await new Promise(resolve => setTimeout(resolve, 30))
    if (chunk.wait === 'caughtUp') await app.caughtUp()
  }
  await app.caughtUp()
}

function windowsOf(w: Windows): JoinWindows {
  return JoinWindows.ofTimeDifferenceAndGrace(w.before, w.grace).after(w.after)
}

/** One property run: the join of random inputs equals the model over the processed order. */
async function checkAgainstModel(kind: StreamJoinKind, input: Case): Promise<void> {
  const h = await harness([{ topic: 'left' }, { topic: 'right' }, { topic: 'out' }])
  try {
    const seen: Seen[] = []
    const t = topology(`stream-stream-${kind}`)
    const left = t.stream<Item>('left').pipe(recorder(seen, 'L'))
    const right = t.stream<Item>('right').pipe(recorder(seen, 'R'))
    const windows = windowsOf(input.windows)
    const joined = kind === 'inner' ? left.join(right, joiner, windows, { store: 'j' })
      : kind === 'left' ? left.leftJoin(right, joiner, windows, { store: 'j' })
        : left.outerJoin(right, joiner, windows, { store: 'j' })
    joined.to('out')
    const app = await h.start(t)
    await produceChunked(h, app, input.records, input.chunks)
    expect(new Set(seen.map(s => s.id)).size).toBe(input.records.length)
    expect(seen.length).toBe(input.records.length)
    const expected = model(kind, seen, input.windows)
    expect(await readOut(h, 'out')).toEqual(expected.out)
    const late = app.metrics().lateRecordsDropped
    expect({ L: late['j-left'] ?? 0, R: late['j-right'] ?? 0 }).toEqual(expected.late)
    if (kind !== 'inner') {
      const pending = await app.query<PendingValues, PendingKey>('j-pending').all()
      expect(pending.flatMap(({ value }) => value.values.map(v => (v as Item).id)).sort())
        .toEqual(expected.waiting)
    }
  } finally {
    await h.close()
  }
}

const title = 'equals a model join of the inputs for random interleavings of both sides, '
  + 'including out-of-order records within grace'

describe('stream–stream joins', () => {
  for (const kind of ['inner', 'left', 'outer'] as const) {
    test.prop([caseArbitrary], { numRuns: numRuns(10) })(`${kind} join ${title}`,
      input => checkAgainstModel(kind, input))
  }

  it('worked example: before = after = 10 ms, grace 5 ms — joins, a late drop, a null key, '
    + 'unmatched records emitted once their windows close', async () => {
    const h = await harness([{ topic: 'left' }, { topic: 'right' }, { topic: 'inner' },
      { topic: 'left-join' }, { topic: 'outer' }])
    try {
      const t = topology('stream-stream-example')
      const left = t.stream<Item>('left')
      const right = t.stream<Item>('right')
      const windows = JoinWindows.ofTimeDifferenceAndGrace(10, 5)
      const joins: Array<[StreamJoinKind, string]> = [['inner', 'inner'], ['left', 'left-join'],
        ['outer', 'outer']]
      for (const [kind, topic] of joins) {
        joinStreams(kind, left, right, joiner, windows, { store: kind,
          ...kind === 'outer' ? { leftSerde: idSerde } : {} }).to(topic)
      }
      const app = await h.start(t)
      // One at a time, so the processing order is the order listed. Windows close 15 ms after
      // the record (10 + grace 5): at stream time > t + 15.
      const steps: Array<[Side, string | null, string, number]> = [
        ['L', 'k', 'L1', 100], // waits (left, outer)
        ['R', 'k', 'R1', 105], // joins L1 at 105
        ['R', 'k', 'R2', 130], // stream time 130; waits (outer)
        ['L', 'k', 'L2', 112], // closed at 127 < 130: late, dropped
        ['L', 'k', 'L3', 121], // 9 ms behind, within grace: joins R2 at 130
        ['R', 'k', 'R3', 150], // waits (outer); R1, R2 leave the right store (closed)
        ['L', null, 'L6', 155], // null key: left and outer emit L6|- at once, inner skips it
        ['L', 'x', 'L4', 160], // waits (left, outer)
        ['L', 'k', 'L5', 170], // R3 closed (165 < 170): outer emits -|R3 at 150 first
        ['R', 'z', 'R4', 200], // L4 (175) and L5 (185) closed: emitted, by timestamp
      ]
      for (const [side, key, id, timestamp] of steps) {
        await h.produce(side === 'L' ? 'left' : 'right',
          [{ key, value: JSON.stringify({ id }), timestamp }])
        await app.caughtUp()
      }
      const joined = [{ key: 'k', value: 'L1|R1', timestamp: 105 },
        { key: 'k', value: 'L3|R2', timestamp: 130 }]
      const nullKey = { key: null, value: 'L6|-', timestamp: 155 }
      expect(await readOut(h, 'inner')).toEqual(joined)
      expect(await readOut(h, 'left-join')).toEqual([...joined, nullKey,
        { key: 'x', value: 'L4|-', timestamp: 160 }, { key: 'k', value: 'L5|-', timestamp: 170 }])
      expect(await readOut(h, 'outer')).toEqual([...joined, nullKey,
        { key: 'k', value: '-|R3', timestamp: 150 }, { key: 'x', value: 'L4|-', timestamp: 160 },
        { key: 'k', value: 'L5|-', timestamp: 170 }])
      expect(app.metrics().lateRecordsDropped)
        .toEqual({ 'inner-left': 1, 'left-left': 1, 'outer-left': 1 })
      // Retention, at stream time 200: every record but R4 (open until 215) has closed, so the
      // expiry sweep deleted the other keys; R4 waits for a left partner (outer).
      expect(await app.query('outer-left').all()).toEqual([])
      expect(await app.query('outer-right').all())
        .toEqual([{ key: 'z', value: [{ timestamp: 200, value: { id: 'R4' } }] }])
      expect(await app.query('outer-pending').all()).toEqual([{
        key: { timestamp: 200, side: 'right', key: 'z' }, value: { side: 'right',
          values: [{ id: 'R4' }] } }])
      expect(await app.query('left-pending').all()).toEqual([])
    } finally {
      await h.close()
    }
  })

  it('the stores keep a record only while its window is open', async () => {
    const h = await harness([{ topic: 'left' }, { topic: 'right' }, { topic: 'out' }])
    try {
      const t = topology('stream-stream-retention')
      joinStreams('inner', t.stream<Item>('left'), t.stream<Item>('right'), joiner,
        JoinWindows.ofTimeDifferenceWithNoGrace(20).before(5), { store: 'j' }).to('out')
      const app = await h.start(t)
      await h.produce('right', [{ key: 'a', value: '{"id":"R0"}', timestamp: 12 }])
      await app.caughtUp()
      await h.produce('left', ['a', 'b', 'c'].map((key, i) =>
        ({ key, value: JSON.stringify({ id: `L${i}` }), timestamp: 10 * i })))
      await app.caughtUp()
      expect((await app.query('j-left').all()).map(e => e.key)).toEqual(['a', 'b', 'c'])
      expect((await app.query('j-right').all()).map(e => e.key)).toEqual(['a'])
      // A left record's window closes at t + 20, a right one's at t + 5: at stream time 40 only
      // c (20 + 20 ≥ 40) and d are still open; the expiry sweep deleted the rest.
      await h.produce('left', [{ key: 'd', value: '{"id":"L3"}', timestamp: 40 }])
      await app.caughtUp()
      expect((await app.query('j-left').all()).map(e => e.key)).toEqual(['c', 'd'])
      expect(await app.query('j-right').all()).toEqual([])
      expect(await readOut(h, 'out')).toEqual([{ key: 'a', value: 'L0|R0', timestamp: 12 }])
    } finally {
      await h.close()
    }
  })

  it('streams of different partition counts cannot be joined: start fails with '
    + 'WEIR_ERR_STREAMS_COPARTITION', async () => {
    const h = await harness([{ topic: 'left', partitions: 2 }, { topic: 'right', partitions: 3 },
      { topic: 'out' }])
    try {
      const t = topology('stream-stream-copartition')
      joinStreams('outer', t.stream<Item>('left'), t.stream<Item>('right'), joiner,
        JoinWindows.ofTimeDifferenceAndGrace(10, 0), { store: 'j' }).to('out')
      const failure = await h.start(t).then(() => undefined, (error: unknown) => error)
      expect(WeirError.is(failure, 'WEIR_ERR_STREAMS_COPARTITION')).toBe(true)
    } finally {
      await h.close()
    }
  })

  it('rejects invalid windows and store names with WEIR_ERR_STREAMS_TOPOLOGY', () => {
    const refused = (build: () => unknown): boolean => {
      try {
        build()
        return false
      } catch (error) {
        return WeirError.is(error, 'WEIR_ERR_STREAMS_TOPOLOGY')
      }
    }
    expect(refused(() => JoinWindows.ofTimeDifferenceAndGrace(-1, 0))).toBe(true)
    expect(refused(() => JoinWindows.ofTimeDifferenceAndGrace(10, 0.5))).toBe(true)
    expect(refused(() => JoinWindows.ofTimeDifferenceWithNoGrace(10).after(-1))).toBe(true)
    const t = topology('stream-stream-invalid')
    const left: KStream<Item> = t.stream<Item>('left')
    const right: KStream<Item> = t.stream<Item>('right')
    expect(refused(() => joinStreams('inner', left, right, joiner,
      JoinWindows.ofTimeDifferenceWithNoGrace(10), { store: 'no spaces' }))).toBe(true)
  })
})

/** Left values as their id's text: exercises the stores' framing around a custom serde. */
const idSerde: Serde<Item> = {
  name: 'id',
  serialize: item => Buffer.from(item.id),
  deserialize: bytes => ({ id: bytes.toString() }),
}
