/**
 * Goal (issue 10): the inventory topology (topologies/inventory.ts) keeps each SKU's stock
 * level and the orders' holds by its rules, sends each applied event's new level once and in
 * order, and refuses exactly the events the rules refuse — once each, with the model's reason
 * — even when its app crashes (keeping or losing its state directory), the broker restarts, a
 * request is delivered twice or a zombie instance keeps running. Written only with the public
 * kit, as a user's suite would be.
 *
 * Property: for random inventory events over a few SKUs and orders (invalid quantities among
 * them) and any fault schedule, (1) the stores `stock-levels` and `reservations`, read
 * together per SKU, equal the model's per-SKU fold of the events, (2) `stock-levels` holds,
 * per SKU, exactly the model's levels, one per applied event, in order, and (3)
 * `reservation-rejections` holds exactly the model's rejections, once each, in event order
 * per SKU.
 *
 * Method: `simulate` runs the topology on 2 partitions (events keyed by SKU, so a SKU's events
 * stay in order). Each event carries its input position as an extra field `seq`, which the
 * topology passes on in a rejection's `event`: it tells two identical events apart. The model
 * is written from the rules in the topology's header, not from its functions. Soak with
 * WEIR_NUM_RUNS; replay with WEIR_SEED (and WEIR_PATH) from a failure's report.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assertValid, type CheckResult, exactlyOnce, faultSchedules, keys, perKeyOrder,
  propertyParameters, type ReadRecord, records, type ScheduledFault, simulate, stateEqualsFold,
  type StoreEntry, type TestRecord,
} from 'weir/testing'
import {
  inventory, type InventoryEvent, inventoryEventsTopic, inventoryTopics, type Rejection,
  type RejectionReason, reservationRejectionsTopic, reservationsStore, type StockLevel,
  stockLevelsStore, stockLevelsTopic,
} from '../../topologies/inventory.ts'

const PARTITIONS = 2
const INPUTS_MIN = 15
const INPUTS_MAX = 30
/** Faults land within the input: fast-check keeps most arrays near their minimum length. */
const FAULTS_WITHIN = 22
const SKUS = ['sku-1', 'sku-2', 'skü-3']
const ORDER_IDS = ['o1', 'o2', 'o3']

/** An event as produced: its input position rides along, so identical events differ. */
type Numbered = InventoryEvent & { readonly seq: number }

/** An event without its SKU (the record's key, drawn by the kit's `keys`) and position. */
type EventBody =
  | { readonly type: 'Restocked', readonly quantity: number }
  | { readonly type: 'Reserved' | 'Released' | 'Fulfilled', readonly orderId: string,
    readonly quantity: number }

const quantity = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -2, 1.5) })
const eventBody: fc.Arbitrary<EventBody> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ type: fc.constant('Restocked' as const), quantity }) },
  { weight: 5, arbitrary: fc.record({
    type: fc.constantFrom('Reserved' as const, 'Released' as const, 'Fulfilled' as const),
    orderId: fc.constantFrom(...ORDER_IDS), quantity }) },
)

const eventRecords: fc.Arbitrary<Array<TestRecord<string, Numbered>>> =
  records(eventBody, { keys: keys({ alphabet: SKUS }), minLength: INPUTS_MIN,
    maxLength: INPUTS_MAX })
    .map(drawn => drawn.map(({ key, value }, seq) => ({ key,
      value: { ...value, sku: key, seq } })))

/** A SKU as the model keeps it: its level and each order's hold on it (none: absent). */
interface ModelSku {
  readonly level: StockLevel
  readonly holds: Readonly<Record<string, number>>
}

/** What the rules refuse `event` for, given the SKU's state; undefined when they accept it. */
function refusal(sku: ModelSku | undefined, event: Numbered): RejectionReason | undefined {
  const q = event.quantity
  if (!Number.isInteger(q) || q < 1) return 'invalid-quantity'
  if (event.type === 'Restocked') return undefined
  if (event.type === 'Reserved') {
    return q > (sku?.level.available ?? 0) ? 'insufficient-stock' : undefined
  }
  return q > (sku?.holds[event.orderId] ?? 0) ? 'exceeds-reservation' : undefined
}

/** The model: a SKU after one event; a refused event leaves it as it was (maybe absent). */
function foldSku(sku: ModelSku | undefined, { key, value: event }: TestRecord<string, Numbered>):
ModelSku | undefined {
  if (refusal(sku, event) !== undefined) return sku
  const { onHand, reserved } = sku?.level ?? { onHand: 0, reserved: 0 }
  const holds = { ...sku?.holds }
  const q = event.quantity
  const level = (nextOnHand: number, nextReserved: number): StockLevel =>
    ({ sku: key, onHand: nextOnHand, reserved: nextReserved, available: nextOnHand - nextReserved })
  if (event.type === 'Restocked') return { level: level(onHand + q, reserved), holds }
  const held = (holds[event.orderId] ?? 0) + (event.type === 'Reserved' ? q : -q)
  if (held === 0) delete holds[event.orderId]
  else holds[event.orderId] = held
  return { level: level(event.type === 'Fulfilled' ? onHand - q : onHand,
    event.type === 'Reserved' ? reserved + q : reserved - q), holds }
}

interface Expected {
  /** Per SKU, the level after each applied event, in order. */
  readonly levels: Map<string, StockLevel[]>
  readonly rejections: Array<{ key: string, value: { seq: number, reason: RejectionReason } }>
}

function expected(inputs: ReadonlyArray<TestRecord<string, Numbered>>): Expected {
  const skus = new Map<string, ModelSku | undefined>()
  const levels = new Map<string, StockLevel[]>()
  const rejections: Expected['rejections'] = []
  for (const input of inputs) {
    const before = skus.get(input.key)
    const reason = refusal(before, input.value)
    if (reason !== undefined) {
      rejections.push({ key: input.key, value: { seq: input.value.seq, reason } })
      continue
    }
    const after = foldSku(before, input)!
    skus.set(input.key, after)
    levels.set(input.key, [...levels.get(input.key) ?? [], after.level])
  }
  return { levels, rejections }
}

/** The two stores read together per SKU, in the model's shape. */
function skusFromStores(levels: ReadonlyArray<StoreEntry<string, unknown>>,
  holds: ReadonlyArray<StoreEntry<string, unknown>>): Array<StoreEntry<string, ModelSku>> {
  const skus = new Map<string, { level: StockLevel, holds: Record<string, number> }>()
  for (const { key, value } of levels) skus.set(key, { level: value as StockLevel, holds: {} })
  for (const { key, value } of holds) {
    // The store's key is reservationKey(sku, orderId): JSON [sku, orderId].
    const [sku, orderId] = JSON.parse(key) as [string, string]
    const entry = skus.get(sku) ?? { level: { sku, onHand: NaN, reserved: NaN, available: NaN },
      holds: {} }
    entry.holds[orderId] = value as number
    skus.set(sku, entry)
  }
  return [...skus].map(([key, value]) => ({ key, value }))
}

/** Per key, the values in offset order (read records come by partition, then offset). */
function perKey<V>(outputs: ReadonlyArray<ReadRecord<string, V>>): Map<string, V[]> {
  const byKey = new Map<string, V[]>()
  for (const { key, value } of outputs) byKey.set(key, [...byKey.get(key) ?? [], value])
  return byKey
}

/** assertValid, plus the values in full: anomaly messages cut values at 80 characters. */
function assertValidShowing(result: CheckResult, what: string, values: () => unknown): void {
  if (!result.valid) assertValid(result, `${what}\nin full: ${JSON.stringify(values())}`)
}

async function holds(inputs: Array<TestRecord<string, Numbered>>, faults: ScheduledFault[],
  seed: number): Promise<void> {
  const model = expected(inputs)
  const result = await simulate(inventory(), { seed, faults, partitions: PARTITIONS,
    topics: inventoryTopics(PARTITIONS),
    inputs: inputs.map(record => ({ topic: inventoryEventsTopic, record })),
    outputs: [stockLevelsTopic, reservationRejectionsTopic],
    stores: [stockLevelsStore, reservationsStore] })
  const trace = `\ntrace:\n  ${result.trace.join('\n  ')}`
  const stored = skusFromStores(result.stores[stockLevelsStore]!,
    result.stores[reservationsStore]!)
  assertValidShowing(stateEqualsFold(stored, inputs, foldSku),
    `stores ${stockLevelsStore} + ${reservationsStore} = the model's fold per SKU${trace}`,
    () => stored)
  // The topology writes only StockLevels and Rejections to these topics.
  const levels = result.outputs[stockLevelsTopic] as Array<ReadRecord<string, StockLevel>>
  const rejections = result.outputs[reservationRejectionsTopic] as
    Array<ReadRecord<string, Rejection & { event: Numbered }>>
  assertValid(exactlyOnce(rejections, model.rejections, {
    outputId: record => [record.value.event.seq, record.value.reason],
    inputId: refused => [refused.value.seq, refused.value.reason] }),
  `${reservationRejectionsTopic}: exactly the model's rejections (by seq and reason)${trace}`)
  assertValid(perKeyOrder(rejections, { sequence: record => record.value.event.seq }),
    `${reservationRejectionsTopic}: in event order per SKU${trace}`)
  expect(perKey(levels), `${stockLevelsTopic}: per SKU, the model's level after each applied `
    + `event, once each, in order${trace}`).toEqual(model.levels)
}

/** One schedule that surely covers both kinds of crash and a zombie, whatever the seed. */
const coveringSchedule: ScheduledFault[] = [
  { afterRecords: 3, fault: { kind: 'crash', step: 'after-outputs', loseState: true } },
  { afterRecords: 9, fault: { kind: 'zombie' } },
  { afterRecords: 15, fault: { kind: 'crash', step: 'after-checkpoint', loseState: false } },
]
const coveringInputs: Array<TestRecord<string, Numbered>> = Array.from({ length: 20 },
  (_, seq) => {
    const sku = SKUS[seq % SKUS.length]!
    const orderId = ORDER_IDS[seq % 2]!
    const kinds = ['Restocked', 'Reserved', 'Reserved', 'Released', 'Fulfilled'] as const
    const type = kinds[Math.floor(seq / 2) % kinds.length]!
    const value: Numbered = type === 'Restocked' ? { type, sku, quantity: 4, seq }
      : { type, sku, orderId, quantity: 1 + (seq % 3), seq }
    return { key: sku, value }
  })

const numRuns = propertyParameters(6).numRuns!
/** Room for a soak; shrinking a failure stops in time for fast-check to report it. */
const testTimeoutMs = Math.max(120_000, numRuns * 5_000)
const parameters: fc.Parameters<[Array<TestRecord<string, Numbered>>, ScheduledFault[],
  number]> = propertyParameters(6, {
  interruptAfterTimeLimit: testTimeoutMs - 30_000,
  examples: [[coveringInputs, coveringSchedule, 1]],
})

describe('inventory with the public test kit', () => {
  it('property: under crashes (with or without state loss), broker restarts, duplicated '
    + 'requests and zombies, stock levels and holds equal the model\'s fold, each applied '
    + 'event\'s level is sent once in order, and exactly the model\'s rejections go out',
  async () => {
    await fc.assert(fc.asyncProperty(eventRecords,
      faultSchedules({ kinds: ['crash', 'broker-restart', 'duplicate-request', 'zombie'],
        maxFaults: 3, inputs: FAULTS_WITHIN }),
      fc.nat({ max: 1_000_000 }), holds), parameters)
  }, testTimeoutMs)
})
