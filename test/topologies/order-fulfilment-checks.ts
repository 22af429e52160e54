/**
 * For order-fulfilment-saga.test.ts: random scenarios (initial stock, wallets and suspended
 * regions; orders, some placed twice, mixed with restocks and top-ups), what read_committed
 * readers see of the outcomes and of the three aggregates' events, and `problems`, the checker
 * of everything the saga promises, computed from those events alone.
 */
import { fc } from '@fast-check/vitest'
import { eventsTopic, requestsTopic, type StoredEvent, type Weir } from '../../src/index.ts'
import { balanceChange, type PaymentEvent, paymentType } from '../../topologies/payments.ts'
import { type ShippingEvent, shippingType } from '../../topologies/shipping.ts'
import { availableChange, type StockEvent, stockType } from '../../topologies/stock.ts'
import {
  type FulfilmentOutcome, fulfilmentOrdersTopic, fulfilmentOutcomesTopic, type OrderPlaced,
  stepRequestId,
} from '../../topologies/order-fulfilment-saga.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

export const SKUS = ['apple', 'pear']
export const CUSTOMERS = ['ann', 'ben', 'cy']
export const REGIONS = ['north', 'south', 'east']

/** A record a scenario produces while the apps run. */
export type Item =
  | { readonly kind: 'order', readonly order: OrderPlaced }
  | { readonly kind: 'restock', readonly requestId: string, readonly sku: string,
    readonly quantity: number }
  | { readonly kind: 'topUp', readonly requestId: string, readonly customerId: string,
    readonly amount: number }

export interface Scenario {
  readonly stock: readonly number[]
  readonly wallets: readonly number[]
  readonly suspended: readonly boolean[]
  readonly orders: OrderPlaced[]
  /** In the order produced: orders (some twice, the repeats last), restocks, top-ups. */
  readonly items: Item[]
}

const itemArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('order' as const),
    // Quantity 0 makes an invalid order, which fails at once.
    customerId: fc.constantFrom(...CUSTOMERS), sku: fc.constantFrom(...SKUS),
    quantity: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 3 }) },
      { weight: 1, arbitrary: fc.constant(0) }), amount: fc.integer({ min: 1, max: 200 }),
    region: fc.constantFrom(...REGIONS), repeated: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restock' as const),
    sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('topUp' as const),
    customerId: fc.constantFrom(...CUSTOMERS), amount: fc.integer({ min: 1, max: 200 }) }) })

const counts = (length: number, max: number) => fc.array(fc.integer({ min: 0, max }),
  { minLength: length, maxLength: length })

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  stock: counts(SKUS.length, 15),
  wallets: counts(CUSTOMERS.length, 500),
  suspended: fc.array(fc.boolean(), { minLength: REGIONS.length, maxLength: REGIONS.length }),
  drawn: fc.array(itemArbitrary, { minLength: 4, maxLength: 20 }),
}).map(({ stock, wallets, suspended, drawn }) => {
  const orders: OrderPlaced[] = []
  const repeats: Item[] = []
  const items = drawn.map((item, i): Item => {
    if (item.kind === 'restock') return { ...item, requestId: `extra:${i}` }
    if (item.kind === 'topUp') return { ...item, requestId: `extra:${i}` }
    const { customerId, sku, quantity, amount, region } = item
    const order = { orderId: `o${i}`, customerId, sku, quantity, amount, region }
    orders.push(order)
    if (item.repeated) repeats.push({ kind: 'order', order })
    return { kind: 'order', order }
  })
  return { stock, wallets, suspended, orders, items: [...items, ...repeats] }
})

type Message = { key: string, value: string }

const command = (requestId: string, key: string, body: unknown): Message => ({ key,
  value: JSON.stringify({ requestId, expectedVersion: 'any',
    body: { kind: 'command', command: body } }) })

/** The requests that set the scenario up, per requests topic (no replies asked for). */
export function setupMessages(scenario: Scenario): Array<[string, Message[]]> {
  return [
    [requestsTopic(stockType), SKUS.flatMap((sku, i) => scenario.stock[i] === 0 ? []
      : [command(`init:${sku}`, sku, { type: 'restock', quantity: scenario.stock[i] })])],
    [requestsTopic(paymentType), CUSTOMERS.flatMap((customer, i) => scenario.wallets[i] === 0
      ? [] : [command(`init:${customer}`, customer, { type: 'topUp',
        amount: scenario.wallets[i] })])],
    [requestsTopic(shippingType), REGIONS.flatMap((region, i) => scenario.suspended[i]
      ? [command(`init:${region}`, region, { type: 'suspend' })] : [])],
  ]
}

/** A chunk of items as messages per topic. */
export function itemMessages(chunk: readonly Item[]): Array<[string, Message[]]> {
  const orders: Message[] = []
  const restocks: Message[] = []
  const topUps: Message[] = []
  for (const item of chunk) {
    if (item.kind === 'order') {
      orders.push({ key: item.order.orderId, value: JSON.stringify(item.order) })
    } else if (item.kind === 'restock') {
      restocks.push(command(item.requestId, item.sku, { type: 'restock',
        quantity: item.quantity }))
    } else {
      topUps.push(command(item.requestId, item.customerId, { type: 'topUp',
        amount: item.amount }))
    }
  }
  return [[fulfilmentOrdersTopic, orders], [requestsTopic(stockType), restocks],
    [requestsTopic(paymentType), topUps]]
}

export async function committedOutcomes(weir: Weir, partitions: number):
Promise<FulfilmentOutcome[]> {
  const outcomes: FulfilmentOutcome[] = []
  for (let partition = 0; partition < partitions; partition++) {
    for (const record of await readCommitted(weir.transport, fulfilmentOutcomesTopic,
      partition)) {
      outcomes.push(JSON.parse(record.value!.toString()) as FulfilmentOutcome)
    }
  }
  return outcomes
}

export type AnyEvent = StockEvent | PaymentEvent | ShippingEvent

/** Every aggregate's committed events in stream order, keyed `<type>/<id>`. */
export async function committedEvents(weir: Weir, partitions: number):
Promise<Map<string, Array<StoredEvent<AnyEvent>>>> {
  const streams = new Map<string, Array<StoredEvent<AnyEvent>>>()
  for (const type of [stockType, paymentType, shippingType]) {
    for (let partition = 0; partition < partitions; partition++) {
      for (const record of await readCommitted(weir.transport, eventsTopic(type), partition)) {
        const stream = `${type}/${record.key!.toString()}`
        streams.set(stream, [...streams.get(stream) ?? [],
          JSON.parse(record.value!.toString()) as StoredEvent<AnyEvent>])
      }
    }
  }
  return streams
}

/** An event as a comparable string: stream, type, quantity or amount, request id. */
function describeEvent(stream: string, { event, requestId }: StoredEvent<AnyEvent>): string {
  const size = 'quantity' in event ? event.quantity : 'amount' in event ? event.amount : ''
  return `${stream} ${event.type} ${size} ${requestId}`
}

/** The events an outcome must have left, each tied to the order. */
function expectedEvents(outcome: FulfilmentOutcome): string[] {
  const { orderId, customerId, sku, quantity, amount, region } = outcome
  const at = (stream: string, type: string, size: number | '', step: Parameters<
    typeof stepRequestId>[1]) => `${stream} ${type} ${size} ${stepRequestId(orderId, step)}`
  const reserved = at(`stock/${sku}`, 'reserved', quantity, 'reserve')
  const released = at(`stock/${sku}`, 'released', quantity, 'release')
  const charged = at(`payment/${customerId}`, 'charged', amount, 'charge')
  const refunded = at(`payment/${customerId}`, 'refunded', amount, 'refund')
  if (outcome.outcome === 'completed') {
    return [reserved, charged, at(`shipping/${region}`, 'shipped', '', 'ship')]
  }
  if (outcome.outcome === 'failed') return []
  if (outcome.reason === 'payment-declined') return [reserved, released]
  return [reserved, charged, refunded, released]
}

/** Whether the outcome's kind and reason are possible for the order in the scenario. */
function outcomePossible(scenario: Scenario, outcome: FulfilmentOutcome): boolean {
  const suspended = scenario.suspended[REGIONS.indexOf(outcome.region)]!
  if (outcome.quantity === 0) return outcome.outcome === 'failed'
    && outcome.reason === 'invalid-order'
  if (outcome.outcome === 'completed') return !suspended && outcome.reason === undefined
  if (outcome.outcome === 'failed') return outcome.reason === 'insufficient-stock'
  return outcome.reason === 'payment-declined'
    || (outcome.reason === 'region-suspended' && suspended)
}

/** What an event does to its aggregate's level: available stock or balance (0 for shipping). */
function levelChange(stream: string, event: AnyEvent): number {
  if (stream.startsWith(`${stockType}/`)) return availableChange(event as StockEvent)
  if (stream.startsWith(`${paymentType}/`)) return balanceChange(event as PaymentEvent)
  return 0
}

/**
 * Conservation, per SKU: restocked (initial + restocks, each once) = available + what the
 * completed orders took; per customer: topped up (initial + top-ups, each once) = balance + what
 * the completed orders paid; per region: suspended once if it was suspended, never resumed.
 */
function conservation(scenario: Scenario,
  streams: ReadonlyMap<string, ReadonlyArray<StoredEvent<AnyEvent>>>,
  completed: readonly FulfilmentOutcome[]): string[] {
  const found: string[] = []
  const check = (stream: string, added: string, initial: number, extras: number,
    taken: number) => {
    const events = streams.get(stream) ?? []
    const level = events.reduce((sum, { event }) => sum + levelChange(stream, event), 0)
    const total = events.filter(({ event }) => event.type === added)
      .reduce((sum, { event }) => sum + levelChange(stream, event), 0)
    if (total !== initial + extras) found.push(`${stream}: ${added} ${total}, not `
      + `${initial} + ${extras}`)
    if (level + taken !== total) found.push(`${stream}: ${level} left + ${taken} taken by `
      + `completed orders, ${total} ${added}`)
  }
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0)
  SKUS.forEach((sku, i) => check(`${stockType}/${sku}`, 'restocked', scenario.stock[i]!,
    sum(scenario.items.map(item => item.kind === 'restock' && item.sku === sku
      ? item.quantity : 0)),
    sum(completed.filter(outcome => outcome.sku === sku).map(outcome => outcome.quantity))))
  CUSTOMERS.forEach((customer, i) => check(`${paymentType}/${customer}`, 'topped-up',
    scenario.wallets[i]!, sum(scenario.items.map(item => item.kind === 'topUp'
      && item.customerId === customer ? item.amount : 0)),
    sum(completed.filter(outcome => outcome.customerId === customer)
      .map(outcome => outcome.amount))))
  REGIONS.forEach((region, i) => {
    const stream = `${shippingType}/${region}`
    const changes = (streams.get(stream) ?? []).filter(({ event }) => event.type !== 'shipped')
      .map(({ event }) => event.type)
    if (JSON.stringify(changes) !== JSON.stringify(scenario.suspended[i] ? ['suspended'] : [])) {
      found.push(`${stream}: ${changes.join(', ')}`)
    }
  })
  return found
}

/** Everything wrong with the outcomes and events; empty when all is right. */
export function problems(scenario: Scenario,
  streams: ReadonlyMap<string, ReadonlyArray<StoredEvent<AnyEvent>>>,
  outcomes: readonly FulfilmentOutcome[]): string[] {
  const found: string[] = []
  const outcomeOf = new Map<string, FulfilmentOutcome>()
  for (const outcome of outcomes) {
    if (outcomeOf.has(outcome.orderId)) found.push(`${outcome.orderId} ended twice`)
    outcomeOf.set(outcome.orderId, outcome)
  }
  const requestIds = new Set<string>()
  const byOrder = new Map<string, string[]>()
  for (const [stream, events] of streams) {
    let level = 0
    events.forEach((stored, i) => {
      const { version, event, requestId } = stored
      if (version !== i + 1) found.push(`${stream}: event ${i + 1} has version ${version}`)
      if (requestIds.has(requestId)) found.push(`${requestId} applied twice`)
      requestIds.add(requestId)
      level += levelChange(stream, event)
      if (level < 0) found.push(`${stream}: ${level} at version ${version}`)
      if ('orderId' in event) {
        byOrder.set(event.orderId, [...byOrder.get(event.orderId) ?? [],
          describeEvent(stream, stored)])
      }
    })
  }
  found.push(...conservation(scenario, streams,
    [...outcomeOf.values()].filter(outcome => outcome.outcome === 'completed')))
  for (const order of scenario.orders) {
    const outcome = outcomeOf.get(order.orderId)
    if (outcome === undefined) {
      found.push(`${order.orderId} has no outcome`)
      continue
    }
    const { outcome: kind, reason, ...placed } = outcome
    if (JSON.stringify(placed) !== JSON.stringify(order)) {
      found.push(`${order.orderId}: outcome ${JSON.stringify(outcome)} is not of the order`)
    }
    if (!outcomePossible(scenario, outcome)) found.push(`${order.orderId}: ${kind} ${reason}`)
    const actual = JSON.stringify((byOrder.get(order.orderId) ?? []).sort())
    const expected = JSON.stringify(expectedEvents(outcome).sort())
    if (actual !== expected) found.push(`${order.orderId} ${kind}: ${actual}, not ${expected}`)
  }
  if (outcomeOf.size !== scenario.orders.length) found.push(`${outcomeOf.size} outcomes`)
  return found
}
