/**
 * Goal (issue 8): the per-customer order history read model equals a model of the orders'
 * final states, and rebuilding it from offset 0 (`rebuildProjection`, what `weir projection
 * rebuild` runs) yields the same read model as the live one.
 *
 * Property: for random order events (orders re-placed, shipped after cancelling, events for
 * unknown orders) on 1–3 partitions, each customer's history is their orders' final states,
 * newest first (placedAt, then orderId), cut to `historyOrdersMax`; after a rebuild the store
 * holds exactly the same entries. Method: the topology on a fresh embedded Weir; the model is
 * written here from the lifecycle rules (placed once, then shipped or cancelled once).
 */
import { fc, test } from '@fast-check/vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect } from 'vitest'
import { rebuildProjection } from '../../src/cli/commands/projection.ts'
import {
  type OrderHistory, orderHistory, orderHistoryStore, orderHistoryTopics,
} from '../../topologies/order-history.ts'
import { type OrderEvent, orderEventsTopic } from '../../topologies/orders-projection.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { byKeyBytes, runTopology } from '../helpers/topologies-fixtures.ts'

interface ModelLine { orderId: string, customerId: string, total: number, placedAt: number,
  status: 'open' | 'shipped' | 'cancelled' }

function model(events: readonly OrderEvent[], ordersMax: number): Map<string, OrderHistory> {
  const orders = new Map<string, ModelLine>()
  for (const event of events) {
    const order = orders.get(event.orderId)
    if (event.type === 'OrderPlaced') {
      if (order === undefined) {
        orders.set(event.orderId, { orderId: event.orderId, customerId: event.customerId,
          total: event.total, placedAt: event.at, status: 'open' })
      }
    } else if (order?.status === 'open') {
      order.status = event.type === 'OrderShipped' ? 'shipped' : 'cancelled'
    }
  }
  const histories = new Map<string, OrderHistory>()
  for (const customerId of new Set([...orders.values()].map(order => order.customerId))) {
    const mine = [...orders.values()].filter(order => order.customerId === customerId)
      .sort((a, b) => b.placedAt - a.placedAt || (a.orderId < b.orderId ? -1 : 1))
      .slice(0, ordersMax)
      .map(({ orderId, total, status, placedAt }) => ({ orderId, total, status, placedAt }))
    histories.set(customerId, { customerId, orders: mine })
  }
  return histories
}

const orderIds = ['o1', 'o2', 'o3', 'o4', 'o5', 'o6']
const orderEvent: fc.Arbitrary<OrderEvent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('OrderPlaced' as const),
    orderId: fc.constantFrom(...orderIds), customerId: fc.constantFrom('alice', 'bob'),
    total: fc.integer({ min: 1, max: 1000 }), at: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('OrderShipped' as const,
    'OrderCancelled' as const), orderId: fc.constantFrom(...orderIds),
  at: fc.integer({ min: 0, max: 50 }) }) },
)

describe('order history read model', () => {
  test.prop([fc.array(orderEvent, { maxLength: 30 }), fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 4 })], { numRuns: numRuns(8) })(
    'each customer\'s history is their orders\' final states, newest first, bounded; a rebuild '
    + 'from offset 0 yields the same read model as the live one',
    async (events, partitions, ordersMax) => {
      const topology = orderHistory('order-history', ordersMax)
      await runTopology({ topology, topics: orderHistoryTopics(partitions),
        input: orderEventsTopic, events, keyOf: event => event.orderId },
      async ({ weir, app }) => {
        const live = await app.query<OrderHistory>(orderHistoryStore).all()
        expect(live).toEqual(byKeyBytes(model(events, ordersMax)))
        await app.close()
        const stateDir = await mkdtemp(join(tmpdir(), 'weir-rebuilt-'))
        const rebuilt = await rebuildProjection({ weir, topology: orderHistory('order-history',
          ordersMax), stateDir, start: { commitIntervalMs: 10 } })
        try {
          expect(await rebuilt.app.query<OrderHistory>(orderHistoryStore).all()).toEqual(live)
        } finally {
          await rebuilt.app.close()
          await rm(stateDir, { recursive: true, force: true })
        }
      })
    }, 120_000)
})
