/**
 * Goal: the orders projection's table is exactly the per-customer summary of the orders' final
 * states, whatever the events (including ones the lifecycle refuses), and the compacted output
 * topic ends with the same table. Method: generate order events with fast-check over a few
 * orders and customers (so orders collide, get re-placed, shipped after cancelling...), run the
 * topology on a fresh embedded Weir until caught up, and compare `app.query` and the output
 * topic's latest value per key with a model written here from the rules, not from the
 * topology's own functions.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  type CustomerSummary, customerSummariesStore, customerSummariesTopic, type OrderEvent,
  orderEventsTopic, ordersProjection, ordersProjectionTopics, type OrderState, ordersStore,
} from '../../topologies/orders-projection.ts'
import { generateOrderEvents } from '../../topologies/orders-generator.ts'
import { propertyParameters } from '../helpers/streams-fixtures.ts'
import { byKeyBytes, committedByKey, runTopology } from '../helpers/topologies-fixtures.ts'

interface ModelOrder {
  customerId: string
  total: number
  placedAt: number
  status: 'open' | 'shipped' | 'cancelled'
}

/** The rules as the README states them: placed once, then shipped or cancelled once. */
function modelOrders(events: readonly OrderEvent[]): Map<string, ModelOrder> {
  const orders = new Map<string, ModelOrder>()
  for (const event of events) {
    const order = orders.get(event.orderId)
    if (event.type === 'OrderPlaced') {
      if (order === undefined) {
        orders.set(event.orderId, { customerId: event.customerId, total: event.total,
          placedAt: event.at, status: 'open' })
      }
    } else if (order?.status === 'open') {
      order.status = event.type === 'OrderShipped' ? 'shipped' : 'cancelled'
    }
  }
  return orders
}

function modelSummaries(orders: ReadonlyMap<string, ModelOrder>): Map<string, CustomerSummary> {
  const summaries = new Map<string, CustomerSummary>()
  const customers = new Set([...orders.values()].map(order => order.customerId))
  for (const customerId of customers) {
    const mine = [...orders.values()].filter(order => order.customerId === customerId)
    const withStatus = (status: ModelOrder['status']) =>
      mine.filter(order => order.status === status).length
    summaries.set(customerId, { customerId, orders: mine.length, open: withStatus('open'),
      shipped: withStatus('shipped'), cancelled: withStatus('cancelled'),
      totalSpent: mine.filter(order => order.status !== 'cancelled')
        .reduce((sum, order) => sum + order.total, 0),
      lastOrderAt: Math.max(...mine.map(order => order.placedAt)) })
  }
  return summaries
}

const orderIds = ['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'ordre-é']
const customerIds = ['alice', 'bob', 'carol', 'ü']
const orderEvent: fc.Arbitrary<OrderEvent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('OrderPlaced' as const),
    orderId: fc.constantFrom(...orderIds), customerId: fc.constantFrom(...customerIds),
    total: fc.integer({ min: 1, max: 100_000 }), at: fc.integer({ min: 0, max: 1e12 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('OrderShipped' as const,
    'OrderCancelled' as const), orderId: fc.constantFrom(...orderIds),
  at: fc.integer({ min: 0, max: 1e12 }) }) },
)

async function checkProjection(events: readonly OrderEvent[], partitions: number):
Promise<void> {
  const orders = modelOrders(events)
  const expected = byKeyBytes(modelSummaries(orders))
  await runTopology({ topology: ordersProjection(), topics: ordersProjectionTopics(partitions),
    input: orderEventsTopic, events, keyOf: event => event.orderId }, async ({ weir, app }) => {
    expect(await app.query<CustomerSummary>(customerSummariesStore).all()).toEqual(expected)
    const perOrder = await app.query<OrderState>(ordersStore).all()
    expect(perOrder.map(({ key, value }) => [key, value.customerId, value.status])).toEqual(
      byKeyBytes(orders).map(({ key, value }) => [key, value.customerId, value.status]))
    const output = await committedByKey<CustomerSummary>(weir, customerSummariesTopic)
    expect(byKeyBytes([...output].map(([key, values]) => [key, values.at(-1)!] as const)))
      .toEqual(expected)
  })
}

describe('orders projection', () => {
  test.prop([fc.array(orderEvent, { maxLength: 40, size: 'max' }),
    fc.integer({ min: 1, max: 3 })],
    propertyParameters(4) as fc.Parameters<[OrderEvent[], number]>)(
    'the customer table equals the summary of every order\'s final state, in the store and '
      + 'in the output topic',
    async (events, partitions) => {
      await checkProjection(events, partitions)
    })

  it('a run over 500 generated orders ends with the modelled table', async () => {
    const events = generateOrderEvents({ orders: 500, customers: 40, seed: 7 })
    expect(events.length).toBeGreaterThan(500)
    await checkProjection(events, 3)
  })

  it('a cancellation takes the order out of the customer\'s spend, and a later shipment of it '
    + 'is ignored', async () => {
    const events: OrderEvent[] = [
      { type: 'OrderPlaced', orderId: 'o1', customerId: 'alice', total: 500, at: 10 },
      { type: 'OrderPlaced', orderId: 'o2', customerId: 'alice', total: 700, at: 20 },
      { type: 'OrderCancelled', orderId: 'o1', at: 30 },
      { type: 'OrderShipped', orderId: 'o1', at: 40 },
      { type: 'OrderShipped', orderId: 'o2', at: 50 },
    ]
    await runTopology({ topology: ordersProjection('orders-example'),
      topics: ordersProjectionTopics(2), input: orderEventsTopic, events,
      keyOf: event => event.orderId }, async ({ app }) => {
      expect(await app.query<CustomerSummary>(customerSummariesStore).get('alice')).toEqual({
        customerId: 'alice', orders: 2, open: 0, shipped: 1, cancelled: 1, totalSpent: 700,
        lastOrderAt: 20 })
    })
  })
})
