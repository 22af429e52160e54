/**
 * Orders CQRS projection: order events (keyed by orderId on `order-events`) → a per-customer
 * summary table (store `customer-summaries`, also sent to the compacted topic
 * `customer-summaries`).
 *
 * Why a per-order table. Shipping and cancelling an order change the customer's summary by what
 * the order was (its total, its status): a cancellation must subtract the total of an order that
 * was still open, and must not count twice or undo a shipment. Rather than copy the total and
 * customer into every event (and trust the producers to keep them consistent), the first step
 * keeps each order's state in the store `orders` (keyed by orderId, so the topic's own
 * partitioning puts all of an order's events in one task) and emits the change it made, before
 * and after. The second step groups the changes by customer (repartitioning through
 * `<appId>-by-customer-repartition`) and folds them into the summary: subtract what the order
 * contributed before, add what it contributes after — Kafka Streams' KTable groupBy with an
 * adder and a subtractor. So events only need what they mean: `OrderShipped` and `OrderCancelled`
 * carry just the orderId.
 *
 * The lifecycle is the table `orderLifecycle`: placed → open → shipped | cancelled. An event that
 * does not fit (a second placement, a shipment of a cancelled order, an event for an unknown
 * order) is ignored: it changes nothing and emits nothing. Totals are integer cents, so sums and
 * differences are exact.
 */
import { type CreateTopicRequest, aggregate, groupBy, process, topology, type Topology } from
  '../src/index.ts'

export const orderEventsTopic = 'order-events'
export const customerSummariesTopic = 'customer-summaries'
/** Per-order state, keyed by orderId. */
export const ordersStore = 'orders'
/** Per-customer summaries, keyed by customerId. */
export const customerSummariesStore = 'customer-summaries'

export interface OrderPlaced {
  readonly type: 'OrderPlaced'
  readonly orderId: string
  readonly customerId: string
  /** Integer cents. */
  readonly total: number
  /** Epoch milliseconds. */
  readonly at: number
}

export interface OrderShipped {
  readonly type: 'OrderShipped'
  readonly orderId: string
  readonly at: number
}

export interface OrderCancelled {
  readonly type: 'OrderCancelled'
  readonly orderId: string
  readonly at: number
}

export type OrderEvent = OrderPlaced | OrderShipped | OrderCancelled

export type OrderStatus = 'open' | 'shipped' | 'cancelled'

/** An order as the store `orders` keeps it. */
export interface OrderState {
  readonly orderId: string
  readonly customerId: string
  readonly total: number
  readonly placedAt: number
  readonly status: OrderStatus
}

/** What one event did to one order (before is null for a placement). */
export interface OrderChange {
  readonly before: OrderState | null
  readonly after: OrderState
}

export interface CustomerSummary {
  readonly customerId: string
  /** Orders placed, whatever became of them: open + shipped + cancelled. */
  readonly orders: number
  readonly open: number
  readonly shipped: number
  readonly cancelled: number
  /** Cents of the orders not cancelled (open or shipped). */
  readonly totalSpent: number
  /** When the customer's latest order was placed (epoch ms). */
  readonly lastOrderAt: number
}

/** The order lifecycle: the status an event requires (undefined: no order yet) and leads to. */
export const orderLifecycle: Readonly<Record<OrderEvent['type'],
{ readonly from: OrderStatus | undefined, readonly to: OrderStatus }>> = {
  OrderPlaced: { from: undefined, to: 'open' },
  OrderShipped: { from: 'open', to: 'shipped' },
  OrderCancelled: { from: 'open', to: 'cancelled' },
}

/** The order after `event`, or undefined when the lifecycle does not allow the event. */
export function applyOrderEvent(state: OrderState | undefined, event: OrderEvent):
OrderState | undefined {
  const step = orderLifecycle[event.type]
  if (state?.status !== step.from) return undefined
  if (event.type === 'OrderPlaced') {
    return { orderId: event.orderId, customerId: event.customerId, total: event.total,
      placedAt: event.at, status: step.to }
  }
  return { ...state!, status: step.to }
}

export function emptySummary(customerId: string): CustomerSummary {
  return { customerId, orders: 0, open: 0, shipped: 0, cancelled: 0, totalSpent: 0,
    lastOrderAt: 0 }
}

/** Adds (`sign` 1) or removes (`sign` -1) what one order contributes to its customer's summary. */
function contribute(summary: CustomerSummary, order: OrderState, sign: 1 | -1): CustomerSummary {
  return {
    ...summary,
    orders: summary.orders + sign,
    open: summary.open + (order.status === 'open' ? sign : 0),
    shipped: summary.shipped + (order.status === 'shipped' ? sign : 0),
    cancelled: summary.cancelled + (order.status === 'cancelled' ? sign : 0),
    totalSpent: summary.totalSpent + (order.status === 'cancelled' ? 0 : sign * order.total),
  }
}

/** The summary after one order's change: its old contribution out, its new one in. */
export function applyOrderChange(summary: CustomerSummary, change: OrderChange):
CustomerSummary {
  const without = change.before === null ? summary : contribute(summary, change.before, -1)
  const next = contribute(without, change.after, 1)
  // placedAt never changes, so the max over orders can be kept without subtracting.
  return { ...next, customerId: change.after.customerId,
    lastOrderAt: Math.max(next.lastOrderAt, change.after.placedAt) }
}

/**
 * The projection's topology.
 * @example
 * await weir.admin().createTopics(ordersProjectionTopics(3))
 * const app = await ordersProjection().start({ weir, stateDir: './state' })
 * await app.caughtUp()
 * await app.query<CustomerSummary>(customerSummariesStore).get('customer-7')
 */
export function ordersProjection(appId = 'orders-projection'): Topology {
  const t = topology(appId)
  t.stream<OrderEvent>(orderEventsTopic).pipe(
    process<OrderEvent, OrderChange>({
      process(event, context) {
        // The per-order state is only correct if every event of an order reaches this task.
        if (context.record.key !== event.orderId) {
          throw new Error(`${orderEventsTopic} must be keyed by orderId: record key `
            + `${String(context.record.key)} carries order ${event.orderId}`)
        }
        const orders = context.store<string, OrderState>(ordersStore)
        const before = orders.get(event.orderId)
        const after = applyOrderEvent(before, event)
        if (after === undefined) return
        orders.put(event.orderId, after)
        context.forward({ before: before ?? null, after })
      },
    }, { stores: [{ store: ordersStore }] }),
    groupBy(change => change.after.customerId, { name: 'by-customer' }),
    aggregate<OrderChange, CustomerSummary>(() => emptySummary(''), applyOrderChange,
      { store: customerSummariesStore }),
  ).to(customerSummariesTopic)
  return t
}

/** The topics the projection reads and writes (the summaries topic is compacted). */
export function ordersProjectionTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: orderEventsTopic, partitions },
    { topic: customerSummariesTopic, partitions, config: { cleanupPolicy: 'compact' } }]
}

/** Summaries as aligned text: a header line, then one line per customer (spend in units). */
export function formatSummaries(rows: readonly CustomerSummary[]): string[] {
  const cells = (row: CustomerSummary): string[] => [row.customerId, String(row.orders),
    String(row.open), String(row.shipped), String(row.cancelled),
    (row.totalSpent / 100).toFixed(2), new Date(row.lastOrderAt).toISOString()]
  const table = [['customer', 'orders', 'open', 'shipped', 'cancelled', 'spent', 'last order'],
    ...rows.map(cells)]
  const widths = table[0]!.map((_, column) => Math.max(...table.map(row => row[column]!.length)))
  return table.map(row => row.map((cell, column) => column === 0 || column === 6
    ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)).join('  ').trimEnd())
}
