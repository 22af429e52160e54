/**
 * Goal (issue 10): the order-enrichment topology (topologies/order-enrichment.ts) sends every
 * order exactly once, keyed by its customerId, with the customer as the table held it when
 * the order was processed, and ends with the table equal to the latest value of each
 * customer, even when its app crashes (keeping or losing its state directory, so the table is
 * restored), the broker restarts or loses power, or a request is delivered twice. Written
 * only with the public kit, as a user's suite would be.
 *
 * Property: for random inputs mixing customer updates (deletes among them) and orders (some
 * for customers that never exist) and any fault schedule, (1) the store `customers` equals
 * the fold of the customer updates (latest value; a null deletes), (2) `orders-enriched`
 * holds each order exactly once, unchanged, keyed by its customerId, and (3) each order's
 * `customer` is a version of its customer the table could hold when the order was processed:
 * not older than the version at the start of the order's chunk (simulate waits until the app
 * has processed each chunk before the next) nor newer than the one at its end; and per
 * customer, successive orders see versions that never go back.
 *
 * Why versions and not one exact value: the app reads `customers` and the repartitioned
 * orders in arrival order, so within one chunk an update produced before an order may be
 * applied after it, and one produced after it before (the topology's header says so). Each
 * update gets a unique name (`<name>#<input position>`), so a value names its version.
 *
 * Method: `simulate` runs the topology with `customers` compacted and 2 partitions per topic
 * (the repartition topic follows `customers`). The chunk boundaries are the fault schedule's
 * `afterRecords` (as simulate documents). Soak with WEIR_NUM_RUNS; replay with WEIR_SEED (and
 * WEIR_PATH) from a failure's report.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  type Anomaly, assertValid, type CheckResult, exactlyOnce, faultSchedules, keys,
  propertyParameters, type ReadRecord, records, type ScheduledFault, simulate, stateEqualsFold,
  type TestRecord,
} from 'weir/testing'
import {
  type Customer, customersStore, customersTopic, type EnrichedOrder, type Order,
  orderEnrichment, orderEnrichmentTopics, ordersEnrichedTopic, ordersTopic,
} from '../../topologies/order-enrichment.ts'

const PARTITIONS = 2
const INPUTS_MIN = 12
const INPUTS_MAX = 30
/** Faults land within the input: fast-check keeps most arrays near their minimum length. */
const FAULTS_WITHIN = 20
const CUSTOMER_IDS = ['c1', 'c2', 'ü-3']
/** Ids never given a customer: their orders always go out with `customer: null`. */
const UNKNOWN_IDS = ['nobody']

/** What one input is, before it gets its topic and record key. */
type Body =
  | { readonly kind: 'customer', readonly customer: Customer | null }
  | { readonly kind: 'order', readonly total: number, readonly at: number }

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('customer' as const),
    customer: fc.oneof({ weight: 5, arbitrary: fc.record({
      name: fc.constantFrom('Ada', 'Bo', 'Zoë'),
      tier: fc.constantFrom('standard' as const, 'gold' as const, 'platinum' as const) }) },
    { weight: 1, arbitrary: fc.constant(null) }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('order' as const),
    total: fc.integer({ min: 1, max: 1_000_000 }),
    at: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }) }) },
)

interface Input {
  readonly topic: string
  readonly record: TestRecord<string, Customer | Order | null>
}

/**
 * The inputs: the kit's `keys` draw the customerId (a hot customer first); a customer update
 * goes to `customers` keyed by it, with a name unique to its position; an order goes to
 * `orders` keyed by its own id. Unknown ids only ever get orders.
 */
const inputsArbitrary: fc.Arbitrary<Input[]> = records(body,
  { keys: keys({ alphabet: [...CUSTOMER_IDS, ...UNKNOWN_IDS] }), minLength: INPUTS_MIN,
    maxLength: INPUTS_MAX })
  .map(drawn => drawn.map(({ key: customerId, value }, position): Input => {
    if (value.kind === 'customer' && !UNKNOWN_IDS.includes(customerId)) {
      const customer = value.customer === null ? null
        : { ...value.customer, name: `${value.customer.name}#${position}` }
      return { topic: customersTopic, record: { key: customerId, value: customer } }
    }
    const order: Order = { orderId: `o${position}`, customerId,
      total: value.kind === 'order' ? value.total : 1, at: value.kind === 'order' ? value.at : 0 }
    return { topic: ordersTopic, record: { key: order.orderId, value: order } }
  }))

/** Where simulate cuts the input into chunks: 0, each fault's clamped `afterRecords`, the end. */
function chunkBounds(length: number, faults: readonly ScheduledFault[]): number[] {
  return [...new Set([0, length,
    ...faults.map(f => Math.max(0, Math.min(length, f.afterRecords)))])].sort((a, b) => a - b)
}

/** A customer's versions: 0 is "none yet"; version v is the v-th update, null if a delete. */
function versionsOf(inputs: readonly Input[]): Map<string, Array<Customer | null>> {
  const versions = new Map<string, Array<Customer | null>>()
  for (const { topic, record } of inputs) {
    if (topic !== customersTopic) continue
    versions.set(record.key, [...versions.get(record.key) ?? [null],
      record.value as Customer | null])
  }
  return versions
}

/** For each order, the versions of its customer it may see: [lowest, highest]. */
function allowedVersions(inputs: readonly Input[], faults: readonly ScheduledFault[]):
Map<string, readonly [number, number]> {
  const bounds = chunkBounds(inputs.length, faults)
  const updatesBefore = (customerId: string, position: number): number => inputs
    .slice(0, position).filter(({ topic, record }) => topic === customersTopic
      && record.key === customerId).length
  const allowed = new Map<string, readonly [number, number]>()
  inputs.forEach(({ topic, record }, position) => {
    if (topic !== ordersTopic) return
    const { orderId, customerId } = record.value as Order
    const start = bounds.filter(bound => bound <= position).at(-1)!
    const end = bounds.find(bound => bound > position)!
    allowed.set(orderId, [updatesBefore(customerId, start), updatesBefore(customerId, end)])
  })
  return allowed
}

/**
 * Each output's customer is a version in its order's allowed range, and per customer (in
 * offset order) the versions seen never go back: the least version that fits is taken each
 * time, so a valid choice exists exactly when this finds one.
 */
function versionsSeen(outputs: ReadonlyArray<ReadRecord<string, EnrichedOrder>>,
  inputs: readonly Input[], faults: readonly ScheduledFault[]): CheckResult {
  const versions = versionsOf(inputs)
  const allowed = allowedVersions(inputs, faults)
  const current = new Map<string, number>()
  const anomalies: Anomaly[] = []
  for (const { key, value, partition, offset } of outputs) {
    const history = versions.get(value.customerId) ?? [null]
    const [lowest, highest] = allowed.get(value.orderId) ?? [0, 0]
    const from = Math.max(lowest, current.get(key) ?? 0)
    const seen = JSON.stringify(value.customer)
    let version = from
    while (version <= highest && JSON.stringify(history[version]) !== seen) version++
    if (version > highest) {
      anomalies.push({ type: 'stale-or-future-customer', key, partition, offset, value,
        message: `order ${value.orderId} saw customer ${seen}; allowed: versions ${from}..`
          + `${highest} of ${JSON.stringify(history)}` })
      continue
    }
    current.set(key, version)
  }
  return { valid: anomalies.length === 0, anomalies }
}

/** The order an output carries, without its customer: what the input said. */
function orderOf(value: EnrichedOrder | Order): Order {
  const { orderId, customerId, total, at } = value
  return { orderId, customerId, total, at }
}

async function holds(inputs: Input[], faults: ScheduledFault[], seed: number): Promise<void> {
  const result = await simulate(orderEnrichment(), { seed, faults, inputs,
    topics: orderEnrichmentTopics(PARTITIONS), partitions: PARTITIONS,
    outputs: [ordersEnrichedTopic], stores: [customersStore] })
  const trace = `\ntrace:\n  ${result.trace.join('\n  ')}`
  const updates = inputs.filter(input => input.topic === customersTopic)
    .map(({ record }) => ({ key: record.key, value: record.value as Customer | null }))
  assertValid(stateEqualsFold(result.stores[customersStore]!, updates,
    (_, update) => update.value ?? undefined),
  `store ${customersStore} = the latest value of each customer${trace}`)
  // The topology writes only EnrichedOrders there.
  const enriched = result.outputs[ordersEnrichedTopic] as
    Array<ReadRecord<string, EnrichedOrder>>
  const orders = inputs.filter(input => input.topic === ordersTopic)
    .map(({ record }) => ({ key: record.key, value: record.value as Order }))
  assertValid(exactlyOnce(enriched, orders, {
    outputId: record => [record.key, orderOf(record.value)],
    inputId: order => [order.value.customerId, orderOf(order.value)] }),
  `${ordersEnrichedTopic}: each order once, unchanged, keyed by its customerId${trace}`)
  assertValid(versionsSeen(enriched, inputs, faults),
    `${ordersEnrichedTopic}: each order's customer as the table held it then${trace}`)
}

/** One schedule that surely covers both kinds of crash and a power loss, whatever the seed. */
const coveringSchedule: ScheduledFault[] = [
  { afterRecords: 5, fault: { kind: 'crash', step: 'after-changelog', loseState: true } },
  { afterRecords: 11, fault: { kind: 'power-loss' } },
  { afterRecords: 16, fault: { kind: 'crash', step: 'after-outputs', loseState: false } },
]
const coveringInputs: Input[] = Array.from({ length: 22 }, (_, position): Input => {
  const customerId = CUSTOMER_IDS[position % CUSTOMER_IDS.length]!
  if (position % 4 === 0) {
    const customer = position === 12 ? null : { name: `N#${position}`, tier: 'gold' as const }
    return { topic: customersTopic, record: { key: customerId, value: customer } }
  }
  const id = position % 7 === 0 ? UNKNOWN_IDS[0]! : customerId
  return { topic: ordersTopic, record: { key: `o${position}`,
    value: { orderId: `o${position}`, customerId: id, total: position, at: position } } }
})

const numRuns = propertyParameters(6).numRuns!
/** Room for a soak; shrinking a failure stops in time for fast-check to report it. */
const testTimeoutMs = Math.max(120_000, numRuns * 5_000)
const parameters: fc.Parameters<[Input[], ScheduledFault[], number]> = propertyParameters(6, {
  interruptAfterTimeLimit: testTimeoutMs - 30_000,
  examples: [[coveringInputs, coveringSchedule, 1]],
})

describe('order enrichment with the public test kit', () => {
  it('property: under crashes (with or without state loss), broker restarts, power loss and '
    + 'duplicated requests, every order goes out once with a customer version the table '
    + 'held when it was processed, never going back, and the table ends at each customer\'s '
    + 'latest value', async () => {
    await fc.assert(fc.asyncProperty(inputsArbitrary,
      faultSchedules({ kinds: ['crash', 'broker-restart', 'power-loss', 'duplicate-request'],
        maxFaults: 3, inputs: FAULTS_WITHIN }),
      fc.nat({ max: 1_000_000 }), holds), parameters)
  }, testTimeoutMs)
})
