/**
 * The order-fulfilment saga (issue 8, docs/event-sourcing.md "Sagas"): reserves an order's
 * stock (stock.ts), charges the customer's wallet (payments.ts) and ships it (shipping.ts) by
 * commands to the three aggregates' single writers; on a refusal it undoes what was done, one
 * compensation at a time, and reports each order's outcome once.
 *
 * Topics. In: `fulfilment-orders` (`OrderPlaced`, keyed by orderId) and `stock-replies`,
 * `payment-replies`, `shipping-replies` (the writers' replies, keyed by their request's
 * `replyTo`, which the saga sets to the orderId). All four are read by one task per partition,
 * so they must be co-partitioned: same partition count, same key. Out: `stock-requests` (keyed
 * by sku), `payment-requests` (by customerId), `shipping-requests` (by region) and
 * `fulfilment-outcomes` (keyed by orderId: completed, failed or compensated, once).
 *
 * States (store `fulfilment-sagas`, one entry per orderId), and what moves them:
 *
 * | state | on | next | sends |
 * |---|---|---|---|
 * | placed | valid order | reserving | reserve on `sku` |
 * | placed | invalid order (ids, quantity, amount) | failed | outcome |
 * | reserving | reserve appended | charging | charge on `customerId` |
 * | reserving | reserve rejected (e.g. insufficient stock) | failed | outcome (nothing held) |
 * | charging | charge appended | shipping | ship on `region` |
 * | charging | charge rejected (e.g. payment declined) | releasing | release on `sku` |
 * | shipping | ship appended | completed | outcome |
 * | shipping | ship rejected (region suspended) | refunding | refund on `customerId` |
 * | refunding | refund appended | releasing | release on `sku` |
 * | releasing | release appended | compensated | outcome |
 *
 * 'placed' is never stored: an order's first step (read it, store 'reserving', write the
 * reserve) is one transaction. Every step is one exactly-once transaction of the streams runtime
 * (read the input record, update the entry, write requests and outcome, commit the offset), so
 * a step is never half done and never done twice. A step replayed after an aborted transaction
 * writes the same request again with the same id (`<orderId>:reserve`, `:charge`, `:ship`,
 * `:refund`, `:release`), and the writer's recent-request check would answer it without
 * applying it twice; the aggregates also treat a repeated reserve, charge or ship of one order
 * as a no-op. A reply the entry does not wait for (a repeated answer, another client's reply)
 * is ignored, and so is a repeated OrderPlaced (its saga has started already).
 *
 * Compensations run in reverse order of the steps, each awaited before the next: the refund is
 * appended before the release is sent, so at every moment what the order holds is a prefix of
 * reserve → charge. Refund and release are never refused by their aggregates (a compensation
 * must not be refusable, or stock or money could stay stuck with an order that did not happen),
 * so a rejected one is a bug and throws.
 *
 * No deadline: a sent request is always answered (the writer answers each request exactly
 * once), so waiting is safe. A stream-time deadline like the transfer saga's could only be
 * checked when a reply arrives, and would add a state for nothing the aggregates need.
 *
 * Retention: an ended order's entry (what makes a repeated OrderPlaced a no-op) is kept
 * `retentionMs` (default 7 days) of stream time after the order ended, then deleted
 * (`sagaRetention`, src/es/saga-retention.ts). The aggregates' per-order records (holds,
 * charges, shipped orders) are not pruned.
 */
import { map } from 'rxjs'
import {
  aggregateTopics, type CreateTopicRequest, process, type ProcessorContext, type Reply,
  repliesTopic, type Request, requestsTopic, sagaRetention, topology, type Topology,
} from '../src/index.ts'
import { type PaymentCommand, paymentType } from './payments.ts'
import { type ShippingCommand, shippingType } from './shipping.ts'
import { type StockCommand, stockType } from './stock.ts'

export const fulfilmentOrdersTopic = 'fulfilment-orders'
export const fulfilmentOutcomesTopic = 'fulfilment-outcomes'
export const fulfilmentSagasStore = 'fulfilment-sagas'

export interface OrderPlaced {
  readonly orderId: string
  readonly customerId: string
  readonly sku: string
  /** A positive integer. */
  readonly quantity: number
  /** A positive integer (cents). */
  readonly amount: number
  readonly region: string
}

export type FulfilmentStatus = 'reserving' | 'charging' | 'shipping' | 'refunding'
  | 'releasing' | 'completed' | 'failed' | 'compensated'

export interface FulfilmentSaga {
  readonly order: OrderPlaced
  readonly status: FulfilmentStatus
  /** Why it failed or is being compensated. */
  readonly reason?: string
  /** The stream time at which it ended (set with its outcome); it expires `retentionMs` later. */
  readonly endedAtMs?: number
}

export interface FulfilmentOutcome extends OrderPlaced {
  readonly outcome: 'completed' | 'failed' | 'compensated'
  readonly reason?: string
}

export type Step = 'reserve' | 'charge' | 'ship' | 'refund' | 'release'
type AnyReply = Reply<unknown, unknown>
type Input =
  | { readonly kind: 'order', readonly order: OrderPlaced }
  | { readonly kind: 'reply', readonly reply: AnyReply }
type Output =
  | { readonly to: 'stock', readonly value: Request<StockCommand, never> }
  | { readonly to: 'payment', readonly value: Request<PaymentCommand, never> }
  | { readonly to: 'shipping', readonly value: Request<ShippingCommand, never> }
  | { readonly to: 'outcomes', readonly value: FulfilmentOutcome }

/** The request id of an order's step: deterministic, so a replayed step repeats it. */
export const stepRequestId = (orderId: string, step: Step): string => `${orderId}:${step}`

/** The step a saga in `status` waits for the reply of. */
const awaited: Partial<Record<FulfilmentStatus, Step>> = { reserving: 'reserve',
  charging: 'charge', shipping: 'ship', refunding: 'refund', releasing: 'release' }

/** What a state change does: the next entry, a request to send, an outcome to report. */
export interface Transition {
  readonly next: FulfilmentSaga
  readonly send?: Step
  readonly outcome?: FulfilmentOutcome
}

function ended(saga: FulfilmentSaga, outcome: FulfilmentOutcome['outcome'], reason?: string):
Transition {
  const why = reason === undefined ? {} : { reason }
  return { next: { ...saga, status: outcome, ...why }, outcome: { ...saga.order, outcome,
    ...why } }
}

const isId = (id: unknown): boolean => typeof id === 'string' && id !== ''
const isCount = (count: unknown): boolean => Number.isSafeInteger(count) && (count as number) > 0

/** An order's first step: its saga, reserving, or failed at once if the order is invalid. */
export function start(order: OrderPlaced): Transition {
  const saga: FulfilmentSaga = { order, status: 'reserving' }
  const valid = isId(order.customerId) && isId(order.sku) && isId(order.region)
    && isCount(order.quantity) && isCount(order.amount)
  if (!valid) return ended(saga, 'failed', 'invalid-order')
  return { next: saga, send: 'reserve' }
}

/**
 * The table above for a reply to the step `saga` waits for.
 * @throws if a refund or release is rejected: the aggregates never refuse them (a bug)
 */
export function advance(saga: FulfilmentSaga, reply: AnyReply): Transition {
  const { outcome } = reply
  const rejection = outcome.kind === 'rejected' ? String(outcome.rejection) : undefined
  if (outcome.kind !== 'appended' && rejection === undefined) {
    throw new Error(`unexpected outcome ${outcome.kind} for ${reply.requestId}`)
  }
  switch (saga.status) {
    case 'reserving':
      if (rejection !== undefined) return ended(saga, 'failed', rejection)
      return { next: { ...saga, status: 'charging' }, send: 'charge' }
    case 'charging':
      if (rejection === undefined) return { next: { ...saga, status: 'shipping' }, send: 'ship' }
      return { next: { ...saga, status: 'releasing', reason: rejection }, send: 'release' }
    case 'shipping':
      if (rejection === undefined) return ended(saga, 'completed')
      return { next: { ...saga, status: 'refunding', reason: rejection }, send: 'refund' }
    case 'refunding':
    case 'releasing':
      if (rejection !== undefined) {
        throw new Error(`compensation ${reply.requestId} was rejected (${rejection}): `
          + 'the order holds what it should not')
      }
      return saga.status === 'refunding'
        ? { next: { ...saga, status: 'releasing' }, send: 'release' }
        : ended(saga, 'compensated', saga.reason)
    default:
      throw new Error(`order ${saga.order.orderId} is ${saga.status}: no reply awaited`)
  }
}

/** The request of a step, where it goes, and the aggregate id it is keyed by. */
export function stepRequest(order: OrderPlaced, step: Step): { key: string, output: Output } {
  const { orderId, customerId, sku, quantity, amount, region } = order
  const envelope = { requestId: stepRequestId(orderId, step), replyTo: orderId,
    expectedVersion: 'any' as const }
  const command = <C>(c: C) => ({ ...envelope, body: { kind: 'command' as const, command: c } })
  switch (step) {
    case 'reserve':
      return { key: sku, output: { to: 'stock',
        value: command<StockCommand>({ type: 'reserve', orderId, quantity }) } }
    case 'release':
      return { key: sku, output: { to: 'stock',
        value: command<StockCommand>({ type: 'release', orderId }) } }
    case 'charge':
      return { key: customerId, output: { to: 'payment',
        value: command<PaymentCommand>({ type: 'charge', orderId, amount }) } }
    case 'refund':
      return { key: customerId, output: { to: 'payment',
        value: command<PaymentCommand>({ type: 'refund', orderId }) } }
    case 'ship':
      return { key: region, output: { to: 'shipping',
        value: command<ShippingCommand>({ type: 'ship', orderId }) } }
  }
}

/** Stores the transition's entry and forwards its request and outcome. */
function apply(transition: Transition, context: ProcessorContext<Output>): void {
  const { orderId } = transition.next.order
  const endedAtMs = Math.max(context.streamTimeMs, context.record.timestamp)
  context.store<string, FulfilmentSaga>(fulfilmentSagasStore).put(orderId,
    transition.outcome === undefined ? transition.next : { ...transition.next, endedAtMs })
  if (transition.send !== undefined) {
    const { key, output } = stepRequest(transition.next.order, transition.send)
    context.forward(output, { key })
  }
  if (transition.outcome !== undefined) {
    context.forward({ to: 'outcomes', value: transition.outcome }, { key: orderId })
  }
}

function onInput(input: Input, context: ProcessorContext<Output>): void {
  const key = context.record.key as string
  const saga = context.store<string, FulfilmentSaga>(fulfilmentSagasStore).get(key)
  if (input.kind === 'order') {
    const { order } = input
    if (typeof order !== 'object' || order === null || order.orderId !== key) {
      throw new Error(`${fulfilmentOrdersTopic} must hold orders keyed by orderId: record key `
        + `${key} carries ${JSON.stringify(order)}`)
    }
    // A repeated OrderPlaced: its saga has started already.
    if (saga !== undefined) return
    apply(start(order), context)
    return
  }
  const step = saga === undefined ? undefined : awaited[saga.status]
  // Another client's reply, a repeated answer or one to a step already done: not awaited.
  if (saga === undefined || step === undefined
    || input.reply.requestId !== stepRequestId(key, step)) return
  apply(advance(saga, input.reply), context)
}

/** The aggregate types the saga commands, in the order of its steps. */
const aggregateTypes = [stockType, paymentType, shippingType] as const

/**
 * The saga's topology (app `order-fulfilment-saga`); the three writers
 * (`aggregateTopology(stock())`, `(payments())`, `(shipping())`) must run too.
 * @example
 * await weir.admin().createTopics(orderFulfilmentTopics(3))
 * for (const aggregate of [stock(), payments(), shipping()]) {
 *   await aggregateTopology(aggregate).start({ weir, stateDir: `./${aggregate.type}` })
 * }
 * const saga = await orderFulfilmentSaga().start({ weir, stateDir: './saga' })
 */
export function orderFulfilmentSaga(options: { appId?: string, retentionMs?: number } = {}):
Topology {
  const t = topology(options.appId ?? 'order-fulfilment-saga')
  const orders = t.stream<OrderPlaced>(fulfilmentOrdersTopic)
    .pipe(map((order): Input => ({ kind: 'order', order })))
  const replies = aggregateTypes.map(type => t.stream<AnyReply>(repliesTopic(type))
    .pipe(map((reply): Input => ({ kind: 'reply', reply }))))
  const outputs = orders.merge(...replies).pipe(process<Input, Output>({
    process: onInput,
  }, { stores: [{ store: fulfilmentSagasStore, expiry: sagaRetention(options.retentionMs) }] }))
  const [toStock, toPayment, toShipping, outcomes] = outputs.branch(
    output => output.to === 'stock', output => output.to === 'payment',
    output => output.to === 'shipping')
  toStock!.pipe(map(output => output.value)).to(requestsTopic(stockType))
  toPayment!.pipe(map(output => output.value)).to(requestsTopic(paymentType))
  toShipping!.pipe(map(output => output.value)).to(requestsTopic(shippingType))
  outcomes!.pipe(map(output => output.value)).to(fulfilmentOutcomesTopic)
  return t
}

/**
 * Every topic of the saga and the three writers: one partition count for all, so the orders
 * and the three replies topics are co-partitioned.
 */
export function orderFulfilmentTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: fulfilmentOrdersTopic, partitions },
    { topic: fulfilmentOutcomesTopic, partitions },
    ...aggregateTypes.flatMap(type => aggregateTopics(type, partitions))]
}
