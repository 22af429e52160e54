/**
 * The orders CQRS projection (topologies/orders-projection.ts) on an embedded broker: generated
 * order events go to `order-events`, the topology folds them into one summary per customer, and
 * the table is printed once the app has caught up. Running it again on the same directory adds
 * new orders (distinct orderIds) and the app continues from its committed offsets and local state.
 * Run: npx tsx examples/orders-projection.ts [dir, default ./data-example] [orders, default 1000]
 */
import { join } from 'node:path'
import { systemClock, Weir } from '../src/index.ts'
import { generateOrderEvents } from '../topologies/orders-generator.ts'
import {
  type CustomerSummary, customerSummariesStore, formatSummaries, orderEventsTopic,
  ordersProjection, ordersProjectionTopics,
} from '../topologies/orders-projection.ts'

const dir = process.argv[2] ?? './data-example'
const orders = Number(process.argv[3] ?? '1000')
if (!Number.isSafeInteger(orders) || orders < 1) throw new RangeError('orders must be ≥ 1')

const weir = await Weir.open({ dir })
try {
  const admin = weir.admin()
  const existing = new Set((await admin.listTopics()).map(topic => topic.name))
  const missing = ordersProjectionTopics(3).filter(request => !existing.has(request.topic))
  if (missing.length > 0) await admin.createTopics(missing)
  const [description] = await admin.describeTopics([orderEventsTopic])
  const earlierEvents = description!.partitionStates.reduce((sum, p) => sum + p.highWatermark, 0)

  // Each run adds its own orders: the prefix keeps their ids apart from earlier runs'.
  const events = generateOrderEvents({ orders, customers: 25, seed: earlierEvents,
    orderIdPrefix: `order-${earlierEvents}-`, startAtMs: systemClock.nowMs() - orders * 1000 })
  const producer = weir.producer()
  await producer.send({ topic: orderEventsTopic, messages: events.map(event =>
    ({ key: event.orderId, value: JSON.stringify(event) })) })
  await producer.close()
  console.log(`produced ${events.length} events for ${orders} orders `
    + `(${earlierEvents} events from earlier runs)`)

  const app = await ordersProjection().start({ weir, stateDir: join(dir, 'streams'),
    instanceId: 'example' }) // a fixed id fences a killed earlier run's open transaction
  let rows: CustomerSummary[]
  try {
    await app.caughtUp({ timeoutMs: 60_000 })
    rows = (await app.query<CustomerSummary>(customerSummariesStore).all())
      .map(entry => entry.value)
  } finally {
    await app.close()
  }

  for (const line of formatSummaries(rows.slice(0, 10))) console.log(line)
  const sum = (field: 'orders' | 'open' | 'shipped' | 'cancelled' | 'totalSpent') =>
    rows.reduce((total, row) => total + row[field], 0)
  console.log(`${rows.length} customers, ${sum('orders')} orders: ${sum('open')} open, `
    + `${sum('shipped')} shipped, ${sum('cancelled')} cancelled; `
    + `spent ${(sum('totalSpent') / 100).toFixed(2)}`)
} finally {
  await weir.close()
}
