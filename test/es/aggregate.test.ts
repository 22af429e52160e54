/**
 * Goal (issue 8): aggregates with optimistic concurrency on the single writer
 * (docs/event-sourcing.md).
 *
 * Properties:
 * - Concurrent command handlers on one account (clients issuing deposits and withdrawals at
 *   once, random interleavings) never violate the invariant the aggregate enforces (balance ≥
 *   0 after every event), and the account's event stream has versions 1..n without gap or
 *   duplicate, one event per successful command.
 * - Snapshots are an optimisation only: with a snapshot every few events, `load()` gives the
 *   state of folding every event of the stream from the initial state; and the compacted
 *   `<type>-snapshots` topic holds one snapshot every `snapshotEvery` events, each the fold of
 *   the events up to its version.
 * Examples: of two appends expecting the same version exactly one succeeds and the other gets
 * WRONG_EXPECTED_VERSION with the actual version; 'no-stream' and 'any'; a request sent twice
 * with one id appends once and gets the same outcome twice; malformed requests write nothing and
 * leave the writer running; a rejected command writes nothing.
 *
 * Method: the aggregate's writer runs as a streams app (exactly once) on an embedded broker;
 * clients are real AggregateClients; the event stream is read back with read_committed.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  AggregateClient, aggregateTopics, aggregateTopology, defineAggregate, eventsTopic, reject,
  repliesTopic, requestsTopic, snapshotsTopic, type StoredEvent, type StreamsApp, WeirError,
} from '../../src/index.ts'
import { harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

interface Account { readonly balance: number }
type AccountCommand =
  | { readonly type: 'deposit', readonly amount: number }
  | { readonly type: 'withdraw', readonly amount: number }
type AccountEvent =
  | { readonly type: 'deposited', readonly amount: number }
  | { readonly type: 'withdrawn', readonly amount: number }

function account(snapshotEvery = 100) {
  return defineAggregate<Account, AccountCommand, AccountEvent, 'insufficient-funds'>({
    type: 'account',
    initial: () => ({ balance: 0 }),
    evolve: (state, event) => ({ balance: state.balance
      + (event.type === 'deposited' ? event.amount : -event.amount) }),
    decide: (state, command) => {
      if (command.type === 'deposit') return [{ type: 'deposited', amount: command.amount }]
      if (command.amount > state.balance) return reject('insufficient-funds' as const)
      return [{ type: 'withdrawn', amount: command.amount }]
    },
    snapshotEvery,
  })
}

type Harness = Awaited<ReturnType<typeof harness>>

/** The writer app and `clients` clients over a fresh embedded broker. */
async function world<T>(snapshotEvery: number, clients: number,
  work: (h: Harness, app: StreamsApp,
    clients: Array<AggregateClient<Account, AccountCommand, AccountEvent,
      'insufficient-funds'>>) => Promise<T>): Promise<T> {
  const aggregate = account(snapshotEvery)
  const h = await harness(aggregateTopics('account', 2))
  const opened: Array<AggregateClient<Account, AccountCommand, AccountEvent,
    'insufficient-funds'>> = []
  try {
    const app = await h.start(aggregateTopology(aggregate))
    for (let i = 0; i < clients; i++) opened.push(await AggregateClient.open(h.weir, aggregate))
    return await work(h, app, opened)
  } finally {
    await Promise.allSettled(opened.map(client => client.close()))
    await h.close()
  }
}

/**
 * The committed events of aggregate `id`, in stream order, once at least `least` are visible: a
 * transaction's commit can reach the replies partition (the client's answer) before the events
 * partition, as in Kafka, where each partition gets its commit marker on its own.
 */
async function streamOf(h: Harness, id: string, least = 0):
Promise<Array<StoredEvent<AccountEvent>>> {
  for (let attempt = 0; ; attempt++) {
    const events = await committedEvents(h, id)
    if (events.length >= least || attempt >= 100) return events
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function committedEvents(h: Harness, id: string): Promise<Array<StoredEvent<AccountEvent>>> {
  const events: Array<StoredEvent<AccountEvent>> = []
  for (let partition = 0; partition < 2; partition++) {
    for (const record of await readCommitted(h.weir.transport, eventsTopic('account'),
      partition)) {
      if (record.key?.toString() !== id) continue
      events.push(JSON.parse(record.value!.toString()) as StoredEvent<AccountEvent>)
    }
  }
  return events
}

/**
 * The committed snapshots of aggregate `id` on the compacted `account-snapshots`, oldest first,
 * once at least `least` are visible (nothing is compacted: the segments are still active).
 */
async function snapshotsOf(h: Harness, id: string, least: number):
Promise<Array<{ version: number, state: Account }>> {
  for (let attempt = 0; ; attempt++) {
    const snapshots: Array<{ version: number, state: Account }> = []
    for (let partition = 0; partition < 2; partition++) {
      for (const record of await readCommitted(h.weir.transport, snapshotsTopic('account'),
        partition)) {
        if (record.key?.toString() === id) snapshots.push(JSON.parse(record.value!.toString()))
      }
    }
    if (snapshots.length >= least || attempt >= 100) return snapshots
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const command: fc.Arbitrary<AccountCommand> = fc.record({
  type: fc.constantFrom('deposit', 'withdraw') as fc.Arbitrary<'deposit' | 'withdraw'>,
  amount: fc.integer({ min: 1, max: 20 }) })

describe('aggregates', () => {
  test.prop([fc.array(fc.array(command, { maxLength: 8 }), { minLength: 2, maxLength: 3 })],
    { numRuns: numRuns(15) })(
    'concurrent command handlers on one aggregate never make the balance negative, and the '
    + 'event stream has versions 1..n without gap or duplicate, one per successful command',
    async perClient => {
      await world(100, perClient.length, async (h, _app, clients) => {
        const results = await Promise.all(perClient.map((commands, i) => (async () => {
          let succeeded = 0
          for (const c of commands) {
            try {
              await clients[i]!.handle('acc-1', c)
              succeeded++
            } catch (error) {
              const rejected = WeirError.is(error, 'WEIR_ERR_ES_REJECTED')
              const conflicted = WeirError.is(error, 'WRONG_EXPECTED_VERSION')
              if (!rejected && !conflicted) throw error
            }
          }
          return succeeded
        })()))
        const succeeded = results.reduce((a, b) => a + b, 0)
        const events = await streamOf(h, 'acc-1', succeeded)
        expect(events.map(e => e.version)).toEqual(events.map((_, i) => i + 1))
        let balance = 0
        for (const { event } of events) {
          balance += event.type === 'deposited' ? event.amount : -event.amount
          expect(balance).toBeGreaterThanOrEqual(0)
        }
        expect(events.length).toBe(succeeded)
        expect(await clients[0]!.load('acc-1')).toEqual({ version: events.length,
          state: { balance } })
      })
    }, 120_000)

  test.prop([fc.array(command, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 4 })],
    { numRuns: numRuns(6) })(
    'snapshots are an optimisation only: load() equals the fold of every event of the stream, '
    + 'and each snapshot on the compacted topic is the fold of the events up to its version',
    async (commands, snapshotEvery) => {
      await world(snapshotEvery, 1, async (h, _app, [client]) => {
        let appended = 0
        for (const c of commands) {
          await client!.execute('acc-2', c).then(() => appended++, () => undefined)
        }
        const events = await streamOf(h, 'acc-2', appended)
        const balance = events.reduce((sum, { event }) =>
          sum + (event.type === 'deposited' ? event.amount : -event.amount), 0)
        expect(await client!.load('acc-2')).toEqual({ version: events.length,
          state: { balance } })
        const balances = events.map((_, i) => events.slice(0, i + 1).reduce((sum, { event }) =>
          sum + (event.type === 'deposited' ? event.amount : -event.amount), 0))
        const due = balances.flatMap((b, i) => (i + 1) % snapshotEvery === 0
          ? [{ version: i + 1, state: { balance: b } }] : [])
        expect(await snapshotsOf(h, 'acc-2', due.length)).toEqual(due)
      })
    }, 120_000)

  it('of two appends expecting the same version exactly one succeeds; the other gets '
    + 'WRONG_EXPECTED_VERSION with the actual version', async () => {
    await world(100, 2, async (h, _app, [a, b]) => {
      await a!.append('acc-3', [{ type: 'deposited', amount: 5 }], { expectedVersion: 'no-stream' })
      const outcomes = await Promise.allSettled([
        a!.append('acc-3', [{ type: 'deposited', amount: 1 }, { type: 'deposited', amount: 2 }],
          { expectedVersion: 1 }),
        b!.append('acc-3', [{ type: 'deposited', amount: 7 }], { expectedVersion: 1 })])
      const won = outcomes.filter(o => o.status === 'fulfilled')
      const lost = outcomes.filter(o => o.status === 'rejected')
      expect(won).toHaveLength(1)
      expect(lost).toHaveLength(1)
      const error = (lost[0] as PromiseRejectedResult).reason as WeirError & {
        actualVersion: number }
      expect(error.code).toBe('WRONG_EXPECTED_VERSION')
      expect(error.actualVersion).toBe((await streamOf(h, 'acc-3', 2)).length)
      await expect(a!.append('acc-3', [{ type: 'deposited', amount: 1 }],
        { expectedVersion: 'no-stream' })).rejects.toMatchObject({ code: 'WRONG_EXPECTED_VERSION' })
      await expect(a!.append('acc-3', [{ type: 'deposited', amount: 1 }],
        { expectedVersion: 'any' })).resolves.toBeDefined()
      await expect(a!.append('acc-3', [], {})).rejects.toMatchObject(
        { code: 'WEIR_ERR_ES_REQUEST' })
      await expect(a!.append('acc-3', [{ type: 'deposited', amount: 1 }],
        { expectedVersion: -1 })).rejects.toMatchObject({ code: 'WEIR_ERR_ES_REQUEST' })
    })
  }, 60_000)

  it('a request sent twice with one id appends once; malformed requests write nothing and '
    + 'leave the writer running; a rejected command writes nothing', async () => {
    await world(100, 1, async (h, app, [client]) => {
      const request = { requestId: 'r-1', expectedVersion: 'any',
        body: { kind: 'append', events: [{ type: 'deposited', amount: 3 }] } }
      await h.produce(requestsTopic('account'), [
        { key: 'acc-4', value: JSON.stringify(request) },
        { key: 'acc-4', value: JSON.stringify(request) }])
      // Malformed requests (anyone can write the topic) are answered, not fatal to the writer.
      await h.produce(requestsTopic('account'), [
        { key: 'acc-4', value: JSON.stringify({ ...request, requestId: 'r-2',
          expectedVersion: -3 }) },
        { key: 'acc-4', value: JSON.stringify({ requestId: 'r-3', expectedVersion: 'any',
          body: { kind: 'erase' } }) }])
      await app.caughtUp()
      expect((await streamOf(h, 'acc-4')).map(e => e.version)).toEqual([1])
      await expect(client!.execute('acc-4', { type: 'withdraw', amount: 10 }))
        .rejects.toMatchObject({ code: 'WEIR_ERR_ES_REJECTED', rejection: 'insufficient-funds' })
      await expect(client!.handle('acc-4', { type: 'withdraw', amount: 10 }))
        .rejects.toMatchObject({ code: 'WEIR_ERR_ES_REJECTED' })
      expect(await streamOf(h, 'acc-4')).toHaveLength(1)
      // Garbage on the client's replies partition (anyone can write it) answers nothing and
      // does not stop the client from reading the real replies.
      await h.produce(repliesTopic('account'), [{ key: client!.clientId, value: 'not json' },
        { key: client!.clientId, value: JSON.stringify({ requestId: 42 }) }])
      await expect(client!.execute('acc-4', { type: 'deposit', amount: 2 })).resolves
        .toEqual({ firstVersion: 2, lastVersion: 2 })
    })
  }, 60_000)
})
