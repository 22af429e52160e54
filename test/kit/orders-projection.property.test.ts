/**
 * Goal (issue 10): the orders projection (topologies/orders-projection.ts) keeps its customer
 * table equal to the fold of the order events, and sends each change of a customer's summary
 * exactly once and in order, even when its app crashes (keeping or losing its state
 * directory), the broker restarts or loses power, a request is delivered twice, or a zombie
 * instance keeps running. Written only with the public kit, as a user's suite would be.
 *
 * Property: for random order events (orders re-placed, shipped after cancelling, events for
 * unknown orders...) and any fault schedule, (1) the store `customer-summaries` equals the
 * model's per-customer fold of the changes the lifecycle accepts, (2) the compacted topic
 * `customer-summaries` ends, per customer, with that same summary, and (3) each accepted event
 * moves its customer's `orders + shipped + cancelled` up by exactly one, so the topic holds,
 * per customer, that step count 1..n exactly once and in offset order — a duplicate, lost or
 * replayed change shows as a step twice, missing, or out of order. (The order check found a
 * producer bug: a send overtook an earlier one still adding its partition to the transaction;
 * test/client/producer-order.test.ts.) (A run is far too small for
 * compaction to clean a segment, so the compacted topic still holds every summary.)
 *
 * Method: `simulate` runs the projection alone on 2 partitions (events keyed by orderId, so an
 * order's events stay in order; the summaries are repartitioned by customer, so the run
 * covers two sub-topologies and an internal topic). The model below is written from the
 * lifecycle rules, not from the topology's functions. Soak with WEIR_NUM_RUNS; replay with
 * WEIR_SEED (and WEIR_PATH) from a failure's report.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  assertValid, type CheckResult, exactlyOnce, faultSchedules, keys, perKeyOrder,
  propertyParameters, type ReadRecord, records, type ScheduledFault, simulate, stateEqualsFold,
  type TestRecord,
} from 'weir/testing'
import {
  type CustomerSummary, customerSummariesStore, customerSummariesTopic, type OrderEvent,
  orderEventsTopic, ordersProjection, ordersProjectionTopics,
} from '../../topologies/orders-projection.ts'

const PARTITIONS = 2
const INPUTS_MIN = 12
const INPUTS_MAX = 24
/** Faults land within the input: fast-check keeps most arrays near their minimum length. */
const FAULTS_WITHIN = 18
const ORDER_IDS = ['o1', 'o2', 'o3', 'o4', 'o5', 'ordre-é']
const CUSTOMER_IDS = ['alice', 'bob', 'ü-carol']

/** An event without its orderId: the record's key (drawn by the kit's `keys`) supplies it. */
type EventBody =
  | { readonly type: 'OrderPlaced', readonly customerId: string, readonly total: number,
    readonly at: number }
  | { readonly type: 'OrderShipped' | 'OrderCancelled', readonly at: number }

const at = fc.integer({ min: 0, max: 1e12 })
const eventBody: fc.Arbitrary<EventBody> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('OrderPlaced' as const),
    customerId: fc.constantFrom(...CUSTOMER_IDS), total: fc.integer({ min: 1, max: 100_000 }),
    at }) },
  { weight: 2, arbitrary: fc.record({
    type: fc.constantFrom('OrderShipped' as const, 'OrderCancelled' as const), at }) },
)

/** Order events keyed by orderId, a hot order among them so one order sees many events. */
const eventRecords: fc.Arbitrary<Array<TestRecord<string, OrderEvent>>> =
  records(eventBody, { keys: keys({ alphabet: ORDER_IDS }),
    minLength: INPUTS_MIN, maxLength: INPUTS_MAX })
    .map(drawn => drawn.map(({ key, value }) => ({ key, value: { ...value, orderId: key } })))

interface ModelOrder {
  readonly customerId: string
  readonly total: number
  readonly status: 'open' | 'shipped' | 'cancelled'
}

/** An event the lifecycle accepts, as it changes its customer's summary. */
interface Change {
  readonly key: string
  readonly event: OrderEvent
  readonly order: ModelOrder
}

/** The rules: placed once, then shipped or cancelled once; anything else changes nothing. */
function acceptedChanges(events: readonly OrderEvent[]): Change[] {
  const orders = new Map<string, ModelOrder>()
  const changes: Change[] = []
  for (const event of events) {
    const order = orders.get(event.orderId)
    let next: ModelOrder | undefined
    if (event.type === 'OrderPlaced') {
      if (order === undefined) {
        next = { customerId: event.customerId, total: event.total, status: 'open' }
      }
    } else if (order?.status === 'open') {
      next = { ...order, status: event.type === 'OrderShipped' ? 'shipped' : 'cancelled' }
    }
    if (next === undefined) continue
    orders.set(event.orderId, next)
    changes.push({ key: next.customerId, event, order: next })
  }
  return changes
}

/** The model: a customer's summary after one accepted change (order-independent per field). */
function foldSummary(summary: CustomerSummary | undefined, { key, event, order }: Change):
CustomerSummary {
  const s = summary ?? { customerId: key, orders: 0, open: 0, shipped: 0, cancelled: 0,
    totalSpent: 0, lastOrderAt: 0 }
  switch (event.type) {
    case 'OrderPlaced':
      return { ...s, orders: s.orders + 1, open: s.open + 1,
        totalSpent: s.totalSpent + order.total, lastOrderAt: Math.max(s.lastOrderAt, event.at) }
    case 'OrderShipped':
      return { ...s, open: s.open - 1, shipped: s.shipped + 1 }
    case 'OrderCancelled':
      return { ...s, open: s.open - 1, cancelled: s.cancelled + 1,
        totalSpent: s.totalSpent - order.total }
  }
}

/** How many accepted events a summary reflects: each adds one to exactly one of these. */
function steps(summary: CustomerSummary): number {
  return summary.orders + summary.shipped + summary.cancelled
}

/** Per customer, the step counts the topic must hold: 1..n, n its accepted changes. */
function expectedSteps(changes: readonly Change[]): Array<{ key: string, value: number }> {
  const seen = new Map<string, number>()
  return changes.map(({ key }) => {
    seen.set(key, (seen.get(key) ?? 0) + 1)
    return { key, value: seen.get(key)! }
  })
}

/** The last summary per customer in the topic, as store-like entries. */
function lastPerKey(summaries: ReadonlyArray<ReadRecord<string, CustomerSummary>>):
Array<{ key: string, value: CustomerSummary }> {
  const last = new Map<string, CustomerSummary>()
  for (const record of summaries) last.set(record.key, record.value)
  return [...last].map(([key, value]) => ({ key, value }))
}

/** The model's table: the fold of the accepted changes per customer. */
function modelTable(changes: readonly Change[]): Record<string, CustomerSummary> {
  const table: Record<string, CustomerSummary> = {}
  for (const change of changes) table[change.key] = foldSummary(table[change.key], change)
  return table
}

/** assertValid, plus the values in full: anomaly messages cut values at 80 characters. */
function assertValidShowing(result: CheckResult, what: string, values: () => unknown): void {
  if (!result.valid) assertValid(result, `${what}\nin full: ${JSON.stringify(values())}`)
}

async function holds(inputs: Array<TestRecord<string, OrderEvent>>, faults: ScheduledFault[],
  seed: number): Promise<void> {
  const changes = acceptedChanges(inputs.map(record => record.value))
  const result = await simulate(ordersProjection(), { seed, faults, partitions: PARTITIONS,
    topics: ordersProjectionTopics(PARTITIONS),
    inputs: inputs.map(record => ({ topic: orderEventsTopic, record })),
    outputs: [customerSummariesTopic], stores: [customerSummariesStore] })
  // The topic's values are summaries: the topology writes nothing else there.
  const summaries = result.outputs[customerSummariesTopic] as
    Array<ReadRecord<string, CustomerSummary>>
  const trace = `\ntrace:\n  ${result.trace.join('\n  ')}`
  const store = result.stores[customerSummariesStore]!
  assertValidShowing(stateEqualsFold(store, changes, foldSummary),
    `store ${customerSummariesStore} = the model's fold of the accepted events${trace}`,
    () => ({ store, model: modelTable(changes) }))
  assertValidShowing(stateEqualsFold(lastPerKey(summaries), changes, foldSummary),
    `topic ${customerSummariesTopic}: the last summary per customer = the model's${trace}`,
    () => ({ topic: lastPerKey(summaries), model: modelTable(changes) }))
  assertValid(exactlyOnce(summaries, expectedSteps(changes), {
    outputId: record => [record.key, steps(record.value)],
    inputId: expected => [expected.key, expected.value] }),
  `topic ${customerSummariesTopic}: one summary per accepted event (step counts 1..n per `
    + `customer, each once)${trace}`)
  assertValid(perKeyOrder(summaries, { sequence: record => steps(record.value) }),
    `topic ${customerSummariesTopic}: each customer's step counts rise in offset order${trace}`)
}

/** One schedule that surely covers both kinds of crash and a power loss, whatever the seed. */
const coveringSchedule: ScheduledFault[] = [
  { afterRecords: 4, fault: { kind: 'crash', step: 'after-changelog', loseState: true } },
  { afterRecords: 10, fault: { kind: 'power-loss' } },
  { afterRecords: 16, fault: { kind: 'crash', step: 'before-commit', loseState: false } },
]
const coveringInputs: Array<TestRecord<string, OrderEvent>> = Array.from({ length: 20 },
  (_, i) => {
    const orderId = ORDER_IDS[i % ORDER_IDS.length]!
    const event: OrderEvent = i < 12
      ? { type: 'OrderPlaced', orderId, customerId: CUSTOMER_IDS[i % 3]!, total: 100 + i, at: i }
      : { type: i % 2 === 0 ? 'OrderShipped' : 'OrderCancelled', orderId, at: i }
    return { key: orderId, value: event }
  })

const numRuns = propertyParameters(6).numRuns!
/** Room for a soak; shrinking a failure stops in time for fast-check to report it. */
const testTimeoutMs = Math.max(120_000, numRuns * 5_000)
const parameters: fc.Parameters<[Array<TestRecord<string, OrderEvent>>, ScheduledFault[],
  number]> = propertyParameters(6, {
  interruptAfterTimeLimit: testTimeoutMs - 30_000,
  examples: [[coveringInputs, coveringSchedule, 1]],
})

describe('orders projection with the public test kit', () => {
  it('property: under crashes (with or without state loss), broker restarts, power loss, '
    + 'duplicated requests and zombies, the customer table equals the model\'s fold and each '
    + 'accepted event changes its customer\'s summary exactly once, in order', async () => {
    await fc.assert(fc.asyncProperty(eventRecords,
      faultSchedules({ kinds: ['crash', 'broker-restart', 'power-loss', 'duplicate-request',
        'zombie'], maxFaults: 3, inputs: FAULTS_WITHIN }),
      fc.nat({ max: 1_000_000 }), holds), parameters)
  }, testTimeoutMs)
})
