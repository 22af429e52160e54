/**
 * Order history per customer, a CQRS read model over the orders' events (`order-events`, keyed
 * by orderId, the events of orders-projection.ts): for each customer their orders, newest
 * first, each with its total, status and when it was placed — what a "my orders" page reads
 * with `app.query(orderHistoryStore).get(customerId)`.
 *
 * As in orders-projection.ts, a first step keeps each order's state (store `order-history-
 * orders`, keyed by orderId: one task sees all of an order's events) by the same lifecycle
 * (`applyOrderEvent`: events that do not fit are ignored), and emits the order's new state; a
 * second step, after repartitioning by customer (`<appId>-by-customer-repartition`), replaces
 * that order's line in the customer's history. A history keeps the customer's newest
 * `historyOrdersMax` orders (100 by default): a read model for a page, bounded so one busy
 * customer cannot grow a store entry without limit. Order lines are replaced by orderId, so
 * replaying the events (a rebuild) yields the same history.
 */
import {
  aggregate, type CreateTopicRequest, groupBy, process, topology, type Topology,
} from '../src/index.ts'
import {
  applyOrderEvent, type OrderEvent, orderEventsTopic, type OrderState, type OrderStatus,
} from './orders-projection.ts'

export const orderHistoryStore = 'order-history'
export const orderHistoryOrdersStore = 'order-history-orders'

/** One order in a customer's history. */
export interface OrderLine {
  readonly orderId: string
  /** Integer cents. */
  readonly total: number
  readonly status: OrderStatus
  readonly placedAt: number
}

export interface OrderHistory {
  readonly customerId: string
  /** Newest first (by placedAt, then orderId), at most `historyOrdersMax`. */
  readonly orders: readonly OrderLine[]
}

/** The customer's history with `order`'s line added or replaced, newest first, bounded. */
export function withOrder(history: OrderHistory, order: OrderState, ordersMax: number):
OrderHistory {
  const line: OrderLine = { orderId: order.orderId, total: order.total, status: order.status,
    placedAt: order.placedAt }
  const orders = [...history.orders.filter(existing => existing.orderId !== order.orderId), line]
    .sort((a, b) => b.placedAt - a.placedAt || (a.orderId < b.orderId ? -1 : 1))
    .slice(0, ordersMax)
  return { customerId: order.customerId, orders }
}

export function orderHistory(appId = 'order-history', historyOrdersMax = 100): Topology {
  const t = topology(appId)
  t.stream<OrderEvent>(orderEventsTopic).pipe(
    process<OrderEvent, OrderState>({
      process(event, context) {
        const orders = context.store<string, OrderState>(orderHistoryOrdersStore)
        const after = applyOrderEvent(orders.get(event.orderId), event)
        if (after === undefined) return
        orders.put(event.orderId, after)
        context.forward(after)
      },
    }, { stores: [{ store: orderHistoryOrdersStore }] }),
    groupBy(order => order.customerId, { name: 'by-customer' }),
    aggregate<OrderState, OrderHistory>(() => ({ customerId: '', orders: [] }),
      (history, order) => withOrder(history, order, historyOrdersMax),
      { store: orderHistoryStore }),
  )
  return t
}

/** The topic the read model reads (it writes none: the store is the read model). */
export function orderHistoryTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: orderEventsTopic, partitions }]
}
