/**
 * The streams part of `weir quickstart`: runs the orders CQRS projection
 * (topologies/orders-projection.ts) end to end on the embedded broker. It creates `order-events`
 * and `customer-summaries` if missing, produces generated order events, runs the topology as
 * the app `quickstart-orders` (exactly-once, state under `<dir>/streams`) until it has caught
 * up, and checks the per-customer table against a fold computed here: every event of
 * `order-events` read back from offset 0, folded one at a time with the projection's rules.
 * A difference is a runtime bug (lost, repeated or reordered processing), not a rules
 * question: the rules themselves are tested against an independent model in test/topologies.
 *
 * Running it again on the same directory is a continuation, not a reset: the new run's orders
 * get ids of their own (prefixed with the number of events already in the topic), the app
 * resumes from its group's committed offsets with its local state (or restores it from the
 * changelog if `<dir>/streams` was deleted), and the table then covers every run's orders —
 * which the fold over the whole topic checks. A run killed part way is completed by the next
 * one: exactly-once processing leaves nothing half-applied.
 */
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type { Weir } from '../client/weir.ts'
import { systemClock } from '../util/clock.ts'
import { generateOrderEvents } from '../../topologies/orders-generator.ts'
import {
  applyOrderChange, applyOrderEvent, type CustomerSummary, customerSummariesStore, emptySummary,
  formatSummaries, type OrderEvent, orderEventsTopic, ordersProjection, ordersProjectionTopics,
  type OrderState,
} from '../../topologies/orders-projection.ts'

export const ORDERS_APP_ID = 'quickstart-orders'
const PARTITIONS = 3
const CUSTOMERS = 50
const SEND_EVENTS_MAX = 1000
const ROWS_SHOWN = 5

export interface OrdersJobOptions {
  readonly dir: string
  readonly orders: number
  readonly log: (line: string) => void
}

export interface OrdersJobResult {
  /** Events this run produced, and all the topic holds (earlier runs' too). */
  readonly producedEvents: number
  readonly totalEvents: number
  readonly customers: number
  readonly caughtUpMs: number
}

export async function runOrdersProjection(weir: Weir, options: OrdersJobOptions):
Promise<OrdersJobResult> {
  const admin = weir.admin()
  const existing = new Set((await admin.listTopics()).map(topic => topic.name))
  const missing = ordersProjectionTopics(PARTITIONS).filter(t => !existing.has(t.topic))
  if (missing.length > 0) {
    await admin.createTopics(missing)
    options.log(`created topics ${missing.map(t => t.topic).join(', ')} with ${PARTITIONS} `
      + 'partitions')
  }
  const earlier = await eventsInTopic(weir)
  const events = generateOrderEvents({ orders: options.orders, customers: CUSTOMERS,
    seed: earlier, orderIdPrefix: `order-${earlier}-`,
    startAtMs: systemClock.nowMs() - options.orders * 1000 })
  const producer = weir.producer({ lingerMs: 1 })
  for (let sent = 0; sent < events.length; sent += SEND_EVENTS_MAX) {
    const chunk = events.slice(sent, sent + SEND_EVENTS_MAX)
    await producer.send({ topic: orderEventsTopic,
      messages: chunk.map(event => ({ key: event.orderId, value: JSON.stringify(event) })) })
  }
  await producer.close()
  options.log(`produced ${events.length} order events (${options.orders} orders, ${CUSTOMERS} `
    + `customers) to ${orderEventsTopic}; ${earlier} were there from earlier runs`)

  const started = performance.now()
  // A fixed instanceId: if an earlier run was killed mid-transaction, this one fences it and
  // aborts its transaction at once instead of waiting for the transaction timeout.
  const app = await ordersProjection(ORDERS_APP_ID).start({ weir, instanceId: 'quickstart',
    stateDir: join(options.dir, 'streams') })
  options.log(`started streams app ${ORDERS_APP_ID} (exactly-once): ${orderEventsTopic} → `
    + `orders → groupBy customer → ${customerSummariesStore}`)
  let table: CustomerSummary[]
  try {
    await app.caughtUp({ timeoutMs: 120_000 })
    table = (await app.query<CustomerSummary>(customerSummariesStore).all())
      .map(entry => entry.value)
  } finally {
    await app.close()
  }
  const caughtUpMs = Math.round(performance.now() - started)
  options.log(`caught up in ${caughtUpMs} ms; ${table.length} customers in the table`)
  for (const line of formatSummaries(table.slice(0, ROWS_SHOWN))) options.log(`  ${line}`)

  const totalEvents = earlier + events.length
  verify(table, await foldOrderEvents(weir, totalEvents))
  options.log(`verified all ${table.length} customer summaries against a fold of the `
    + `${totalEvents} events in ${orderEventsTopic}`)
  return { producedEvents: events.length, totalEvents, customers: table.length, caughtUpMs }
}

async function eventsInTopic(weir: Weir): Promise<number> {
  const [description] = await weir.admin().describeTopics([orderEventsTopic])
  return description!.partitionStates.reduce((sum, state) => sum + state.highWatermark, 0)
}

/**
 * Reads every order event back (no group, from offset 0) and folds them in partition order —
 * the order the topology sees each order's events in — into per-customer summaries.
 */
async function foldOrderEvents(weir: Weir, expectedEvents: number):
Promise<Map<string, CustomerSummary>> {
  const [description] = await weir.admin().describeTopics([orderEventsTopic])
  const ends = description!.partitionStates.map(state => state.highWatermark)
  const orders = new Map<string, OrderState>()
  const summaries = new Map<string, CustomerSummary>()
  let read = 0
  const consumer = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 100 })
  try {
    await consumer.assign(ends.map((_, partition) => ({ topic: orderEventsTopic, partition })))
    const reached = new Set(ends.flatMap((end, partition) => end === 0 ? [partition] : []))
    if (reached.size === ends.length) return summaries
    for await (const batch of consumer) {
      for (const record of batch.records) {
        const event = JSON.parse(record.value!.toString('utf8')) as OrderEvent
        const before = orders.get(event.orderId)
        const after = applyOrderEvent(before, event)
        read++
        if (after === undefined) continue
        orders.set(event.orderId, after)
        const summary = summaries.get(after.customerId) ?? emptySummary(after.customerId)
        summaries.set(after.customerId,
          applyOrderChange(summary, { before: before ?? null, after }))
      }
      if (batch.nextOffset >= ends[batch.partition]!) reached.add(batch.partition)
      if (reached.size === ends.length) break
    }
  } finally {
    await consumer.close()
  }
  if (read !== expectedEvents) {
    throw new Error(`read back ${read} order events but expected ${expectedEvents}`)
  }
  return summaries
}

function verify(table: readonly CustomerSummary[], fold: ReadonlyMap<string, CustomerSummary>):
void {
  for (const row of table) {
    const expected = fold.get(row.customerId)
    if (!isDeepStrictEqual(row, expected)) {
      throw new Error(`customer ${row.customerId}: the app's table has ${JSON.stringify(row)} `
        + `but the fold of ${orderEventsTopic} gives ${JSON.stringify(expected)}`)
    }
  }
  if (table.length !== fold.size) {
    throw new Error(`the app's table has ${table.length} customers, the fold ${fold.size}`)
  }
}
