/**
 * Goal (issue 8): a projection is rebuilt from scratch with one command
 * (`weir projection rebuild`, docs/event-sourcing.md "Projections"), and the rebuild gives the
 * read model the live run gave.
 *
 * Properties:
 * - Rebuilding the account-balances projection from scratch yields exactly the read model the
 *   live run built while the events arrived, and both equal a model of the events (per account:
 *   deposits minus withdrawals of the events applied, an event whose version is at most the last
 *   applied one — a redelivery — being ignored).
 * Examples: a rebuild discards a wrong read model (one built by a buggy projection under the same
 * app id) rather than keeping it; a projection with a repartition topic (the orders projection)
 * rebuilds to its live table; a rebuild while the app runs is refused and changes nothing.
 *
 * Method: an embedded broker; `StoredEvent` records produced directly to `account-events` (as
 * the aggregate task writes them, plus redeliveries of earlier versions) in chunks while the app
 * runs; the rebuild is `rebuildProjection`, the function the CLI command runs, on the same broker
 * and state directory.
 */
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  process, type StoredEvent, type StreamsApp, topology, type Topology, WeirError,
} from '../../src/index.ts'
import { rebuildProjection } from '../../src/cli/commands/projection.ts'
import {
  type AccountBalance, accountBalances, accountBalancesStore, accountBalancesTopic,
  accountBalancesTopics, type AccountEvent, accountEventsTopic,
} from '../../topologies/account-balances.ts'
import {
  type CustomerSummary, customerSummariesStore, orderEventsTopic, ordersProjection,
  ordersProjectionTopics,
} from '../../topologies/orders-projection.ts'
import { generateOrderEvents } from '../../topologies/orders-generator.ts'
import { harness, type Harness, quickApp } from '../helpers/topology-runner.ts'
import { propertyParameters } from '../helpers/streams-fixtures.ts'
import { byKeyBytes, committedByKey } from '../helpers/topologies-fixtures.ts'

const CAUGHT_UP_MS = 20_000
const accountIds = ['acc-1', 'acc-2', 'acc-3', 'konto-ü']

/** A new event on an account, or a redelivery of one of its earlier events (`back` ≥ 0). */
type Step =
  | { readonly kind: 'event', readonly account: string, readonly event: AccountEvent }
  | { readonly kind: 'redeliver', readonly account: string, readonly back: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('event' as const),
    account: fc.constantFrom(...accountIds),
    event: fc.oneof({ weight: 8, arbitrary: fc.record({
      type: fc.constantFrom('deposited' as const, 'withdrawn' as const),
      amount: fc.integer({ min: 1, max: 1_000 }) }) },
    { weight: 1, arbitrary: fc.constant({ type: 'closed' as const }) }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redeliver' as const),
    account: fc.constantFrom(...accountIds), back: fc.nat({ max: 5 }) }) },
)

interface Keyed { readonly key: string, readonly stored: StoredEvent<AccountEvent> }

/**
 * The records each chunk of steps writes: versions 1..n per account across the chunks, a
 * redelivery repeating an earlier event of its account (none before the account's first).
 */
function records(chunks: ReadonlyArray<readonly Step[]>): Keyed[][] {
  const streams = new Map<string, Array<StoredEvent<AccountEvent>>>()
  return chunks.map(chunk => chunk.flatMap((s): Keyed[] => {
    const stream = streams.get(s.account) ?? []
    streams.set(s.account, stream)
    if (s.kind === 'redeliver') {
      return stream.length === 0 ? []
        : [{ key: s.account, stored: stream[Math.max(0, stream.length - 1 - s.back)]! }]
    }
    const stored = { version: stream.length + 1, event: s.event,
      requestId: `r-${s.account}-${stream.length + 1}` }
    stream.push(stored)
    return [{ key: s.account, stored }]
  }))
}

interface ModelBalance { balance: number, closed: boolean, version: number }

/** Per account, the balance and version of its distinct events (redeliveries change nothing). */
function model(written: readonly Keyed[]): Map<string, ModelBalance> {
  const accounts = new Map<string, ModelBalance>()
  for (const { key, stored } of written) {
    const account = accounts.get(key) ?? { balance: 0, closed: false, version: 0 }
    if (stored.version !== account.version + 1) continue // seen already
    const { event } = stored
    accounts.set(key, { version: stored.version, closed: account.closed || event.type === 'closed',
      balance: account.balance + (event.type === 'deposited' ? event.amount
        : event.type === 'withdrawn' ? -event.amount : 0) })
  }
  return accounts
}

async function produce(h: Harness, chunk: readonly Keyed[]): Promise<void> {
  await h.produce(accountEventsTopic, chunk.map(({ key, stored }) =>
    ({ key, value: JSON.stringify(stored) })))
}

type Row = { key: string, value: AccountBalance }

function readModel(app: StreamsApp): Promise<Row[]> {
  return app.query<AccountBalance>(accountBalancesStore).all()
}

/** Rebuilds on the harness's broker and state directory; returns the rebuilt read model. */
async function rebuild(h: Harness, t: Topology): Promise<Row[]> {
  const { app } = await rebuildProjection({ weir: h.weir, topology: t,
    stateDir: join(h.dir, 'state'), start: quickApp })
  try {
    return await readModel(app)
  } finally {
    await app.close()
  }
}

/** Runs the live app over `chunks` produced one after the other; its read model, caught up. */
async function live(h: Harness, t: Topology, chunks: ReadonlyArray<readonly Keyed[]>):
Promise<Row[]> {
  const app = await h.start(t)
  for (const [i, chunk] of chunks.entries()) {
    await produce(h, chunk)
    if (i % 2 === 1) await app.caughtUp({ timeoutMs: CAUGHT_UP_MS })
  }
  await app.caughtUp({ timeoutMs: CAUGHT_UP_MS })
  const rows = await readModel(app)
  await app.close()
  return rows
}

describe('account-balances projection rebuild', () => {
  test.prop([fc.array(fc.array(step, { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 1, max: 3 })],
    propertyParameters(12) as fc.Parameters<[Step[][], number]>)(
    'rebuilding the projection from scratch yields the same read model as the live one',
    async (stepChunks, partitions) => {
      const chunks = records(stepChunks)
      const written = chunks.flat()
      const h = await harness(accountBalancesTopics(partitions))
      try {
        const liveRows = await live(h, accountBalances(), chunks)
        expect(liveRows.map(({ key, value }) => [key, { balance: value.balance,
          closed: value.closed, version: value.version }])).toEqual(byKeyBytes(model(written))
          .map(({ key, value }) => [key, value]))
        expect(await rebuild(h, accountBalances())).toEqual(liveRows)
        const output = await committedByKey<AccountBalance>(h.weir, accountBalancesTopic)
        expect(byKeyBytes([...output].map(([key, values]) => [key, values.at(-1)!] as const)))
          .toEqual(liveRows)
      } finally {
        await h.close()
      }
    }, 60_000)

  it('a rebuild discards a read model built wrong (a projection that ignored withdrawals) '
    + 'rather than keeping it', async () => {
    const h = await harness(accountBalancesTopics(2))
    try {
      const chunks = records([[
        { kind: 'event', account: 'a', event: { type: 'deposited', amount: 100 } },
        { kind: 'event', account: 'a', event: { type: 'withdrawn', amount: 30 } },
        { kind: 'event', account: 'b', event: { type: 'deposited', amount: 5 } },
        { kind: 'redeliver', account: 'a', back: 1 },
      ]])
      const wrong = await live(h, depositsOnly(), chunks)
      expect(wrong.map(row => row.value.balance)).toEqual([100, 5])
      const rebuilt = await rebuild(h, accountBalances())
      expect(rebuilt.map(({ key, value }) => [key, value.balance, value.version]))
        .toEqual([['a', 70, 2], ['b', 5, 1]])
    } finally {
      await h.close()
    }
  }, 40_000)

  it('a projection with a repartition topic and two stores (the orders projection) rebuilds to '
    + 'the live table: its repartition topic and the group\'s offsets on it start again too',
  async () => {
    const h = await harness(ordersProjectionTopics(3))
    try {
      const events = generateOrderEvents({ orders: 60, customers: 8, seed: 3 })
      const app = await h.start(ordersProjection())
      await h.produce(orderEventsTopic, events.map(event =>
        ({ key: event.orderId, value: JSON.stringify(event) })))
      await app.caughtUp({ timeoutMs: CAUGHT_UP_MS })
      const liveRows = await app.query<CustomerSummary>(customerSummariesStore).all()
      await app.close()
      expect(liveRows.length).toBeGreaterThan(0)
      const result = await rebuildProjection({ weir: h.weir, topology: ordersProjection(),
        stateDir: join(h.dir, 'state'), start: quickApp })
      try {
        expect(await result.app.query<CustomerSummary>(customerSummariesStore).all())
          .toEqual(liveRows)
        expect(result.records).toBe(events.length)
        expect(result.deletedTopics).toContain('orders-projection-by-customer-repartition')
      } finally {
        await result.app.close()
      }
    } finally {
      await h.close()
    }
  }, 40_000)

  it('a rebuild while the app runs is refused with NON_EMPTY_GROUP and changes nothing',
    async () => {
      const h = await harness(accountBalancesTopics(1))
      try {
        await produce(h, records([[
          { kind: 'event', account: 'a', event: { type: 'deposited', amount: 7 } }]])[0]!)
        const app = await h.start(accountBalances())
        await app.caughtUp({ timeoutMs: CAUGHT_UP_MS })
        const error = await rebuildProjection({ weir: h.weir, topology: accountBalances(),
          stateDir: join(h.dir, 'state'), start: quickApp }).then(() => undefined, e => e)
        expect(WeirError.is(error, 'NON_EMPTY_GROUP')).toBe(true)
        expect((await readModel(app)).map(row => row.value.balance)).toEqual([7])
        const lag = await h.weir.admin().lag('account-balances', [accountEventsTopic])
        expect(lag.map(p => p.committedOffset)).toEqual([1])
      } finally {
        await h.close()
      }
    }, 40_000)
})

/** The balances projection with a bug (withdrawals ignored), under the same app id and store. */
function depositsOnly(): Topology {
  const t = topology('account-balances')
  t.stream<StoredEvent<AccountEvent>>(accountEventsTopic).pipe(
    process<StoredEvent<AccountEvent>, AccountBalance>({
      process(stored, context) {
        const key = context.record.key as string
        const balances = context.store<string, AccountBalance>(accountBalancesStore)
        const current = balances.get(key)
        if (current !== undefined && stored.version <= current.version) return
        const amount = stored.event.type === 'deposited' ? stored.event.amount : 0
        const next = { accountId: key, balance: (current?.balance ?? 0) + amount,
          closed: false, version: stored.version }
        balances.put(key, next)
        context.forward(next)
      },
    }, { stores: [{ store: accountBalancesStore }] }),
  ).to(accountBalancesTopic)
  return t
}
