/**
 * Order enrichment: orders keyed by orderId on `orders`, joined with the customers table (the
 * compacted topic `customers`, keyed by customerId) → each order with its customer's name and
 * tier, or `customer: null` when the table has no such customer, on `orders-enriched` keyed by
 * customerId.
 *
 * The join needs an order and its customer in the same task, so each order is re-keyed by its
 * customerId (selectKey) and goes through the repartition topic
 * `<appId>-orders-by-customer-repartition` (`repartitionTopic(appId)`, named by the join's
 * `name` option). The app creates that topic with the partition count of `customers`, so the
 * two are co-partitioned whatever the count of `orders`. The table lives in the store
 * `customers`.
 *
 * Which customer an order sees: the customer as it is when the order is processed, Kafka's
 * stream–table join with a plain (non-versioned) KTable. So a customer created or updated after
 * an order was processed does not change that order: it stays `customer: null` or keeps the old
 * name; and a customer record produced just before an order may still arrive after it (the
 * task reads the two topics in arrival order). A deleted customer (a tombstone on `customers`)
 * gives `customer: null` from then on. To look the customer up as of the order's time instead,
 * pass `{ versioned: { store, historyRetentionMs } }` to `leftJoin` (KIP-914,
 * joins/stream-table-join.ts); the order's time is then its record timestamp, not its `at`
 * field, unless a timestampExtractor reads `at`.
 *
 * An order for an unknown customer is not dropped: `leftJoin`, not `join`, so it goes out with
 * `customer: null`, for a later step to handle. An order without a string customerId has no
 * key to join on: it is re-keyed to null and the join drops it, as Kafka's stream–table joins
 * drop records with a null key. The other fields of an order are passed on unchecked.
 */
import {
  type CreateTopicRequest, selectKey, topology, type Topology,
} from '../src/index.ts'

export const ordersTopic = 'orders'
export const customersTopic = 'customers'
export const ordersEnrichedTopic = 'orders-enriched'
/** The customers table's store (t.table's default: the topic's name). */
export const customersStore = 'customers'

const REPARTITION_NAME = 'orders-by-customer'

/** The internal topic of the orders re-keyed by customerId (created by the app). */
export function repartitionTopic(appId = 'order-enrichment'): string {
  return `${appId}-${REPARTITION_NAME}-repartition`
}

export interface Order {
  readonly orderId: string
  readonly customerId: string
  /** Cents. */
  readonly total: number
  /** When the order was placed, ms since the epoch. */
  readonly at: number
}

export type CustomerTier = 'standard' | 'gold' | 'platinum'

/** The value of `customers`, keyed by customerId. */
export interface Customer {
  readonly name: string
  readonly tier: CustomerTier
}

export interface EnrichedOrder extends Order {
  /** The customer when the order was processed; null if the table had none. */
  readonly customer: Customer | null
}

/** The order with the customer's name and tier (only those: the table value may grow). */
export function enrich(order: Order, customer: Customer | null): EnrichedOrder {
  const { orderId, customerId, total, at } = order
  return { orderId, customerId, total, at,
    customer: customer === null ? null : { name: customer.name, tier: customer.tier } }
}

/** The order's customerId, the join key; null (the join drops it) when it is not a string. */
export function customerKey(order: Order): string | null {
  const customerId: unknown = typeof order === 'object' && order !== null
    ? order.customerId : undefined
  return typeof customerId === 'string' ? customerId : null
}

/**
 * The order-enrichment topology.
 * @example
 * await weir.admin().createTopics(orderEnrichmentTopics(3))
 * const app = await orderEnrichment().start({ weir, stateDir: './state' })
 * await app.query<Customer>(customersStore).get('c-1')
 */
export function orderEnrichment(appId = 'order-enrichment'): Topology {
  const t = topology(appId)
  const customers = t.table<Customer>(customersTopic)
  t.stream<Order>(ordersTopic)
    .pipe(selectKey<Order, string | null>(customerKey))
    .leftJoin(customers, enrich, { name: REPARTITION_NAME })
    .to(ordersEnrichedTopic)
  return t
}

/** The topics the topology reads and writes; `customers` is compacted (it is a table). */
export function orderEnrichmentTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: ordersTopic, partitions },
    { topic: customersTopic, partitions, config: { cleanupPolicy: 'compact' } },
    { topic: ordersEnrichedTopic, partitions }]
}
