/**
 * Goal (issue 10): the order-history read model (topologies/order-history.ts) stays equal to a
 * model of the orders' events through its repartition step, under any of the kit's faults:
 * its app crashing (keeping or losing its state directory), the broker killed or losing power,
 * a zombie instance, a request delayed or sent twice, a second instance taking tasks for a
 * while (a rebalance). Written only with the public kit, as a user's suite would be.
 *
 * Property: for random order events (orders re-placed, shipped after cancelling, events for
 * unknown orders) and any fault schedule, the per-order store `order-history-orders` equals the
 * fold of each order's events by the lifecycle (placed once, then shipped or cancelled once;
 * what does not fit is ignored), and the per-customer store `order-history` equals the fold of
 * the orders' final states by customer: newest first (placedAt, then orderId), cut to
 * `historyOrdersMax`.
 *
 * Method: `simulate` runs the read model alone on 2 partitions (its repartition topic created
 * by the app), the events produced to `order-events` keyed by orderId; the models are the two
 * folds below. Soak with WEIR_NUM_RUNS; replay with WEIR_SEED (and WEIR_PATH).
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  assertValid, FAULT_KINDS, faultSchedules, propertyParameters,
  type ScheduledFault, simulate, stateEqualsFold,
} from 'weir/testing'
import {
  type OrderHistory, orderHistory, orderHistoryOrdersStore, orderHistoryStore,
} from '../../topologies/order-history.ts'
import {
  type OrderEvent, orderEventsTopic, type OrderState,
} from '../../topologies/orders-projection.ts'


/**
 * The longest a `delay-request` fault holds a request: enough to reorder it with the app's
 * next requests (it commits every 10 ms), short enough to keep a run under a second.
 */
const DELAY_MAX_MS = 300

const ORDER_IDS = ['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7']
/** Small, so the bound on a customer's history is reached. */
const HISTORY_ORDERS_MAX = 3
const INPUTS_MAX = 30

const orderEvent: fc.Arbitrary<OrderEvent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('OrderPlaced' as const),
    orderId: fc.constantFrom(...ORDER_IDS), customerId: fc.constantFrom('alice', 'bob'),
    total: fc.integer({ min: 1, max: 1000 }), at: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constantFrom('OrderShipped' as const,
    'OrderCancelled' as const), orderId: fc.constantFrom(...ORDER_IDS),
  at: fc.integer({ min: 0, max: 50 }) }) },
)

interface EventInput { readonly key: string, readonly value: OrderEvent }

/** The lifecycle model: placed once (while unknown), then shipped or cancelled while open. */
function orderFold(order: OrderState | undefined, { value: event }: EventInput):
OrderState | undefined {
  if (event.type === 'OrderPlaced') {
    return order ?? { orderId: event.orderId, customerId: event.customerId,
      total: event.total, placedAt: event.at, status: 'open' }
  }
  if (order?.status !== 'open') return order
  return { ...order, status: event.type === 'OrderShipped' ? 'shipped' : 'cancelled' }
}

interface OrderInput { readonly key: string, readonly order: OrderState }

/** Each order's final state, keyed by its customer. */
function finalOrders(inputs: readonly EventInput[]): OrderInput[] {
  const orders = new Map<string, OrderState | undefined>()
  for (const input of inputs) orders.set(input.key, orderFold(orders.get(input.key), input))
  return [...orders.values()].filter(order => order !== undefined)
    .map(order => ({ key: order.customerId, order }))
}

/** The history model: each order's final line, newest first, cut to the bound. */
function historyFold(history: OrderHistory | undefined, { order }: OrderInput): OrderHistory {
  const { orderId, total, status, placedAt } = order
  const orders = [...(history?.orders ?? []), { orderId, total, status, placedAt }]
    .sort((a, b) => b.placedAt - a.placedAt || (a.orderId < b.orderId ? -1 : 1))
    .slice(0, HISTORY_ORDERS_MAX)
  return { customerId: order.customerId, orders }
}

type Scenario = { inputs: EventInput[], faults: ScheduledFault[] }

/**
 * The events, and faults each after 0..n-1 of them: a crash armed after the last record would
 * never fire (nothing is left to process), so every fault meets work in progress.
 */
const scenario: fc.Arbitrary<Scenario> = fc.array(orderEvent, { minLength: 2,
  maxLength: INPUTS_MAX })
  .map(events => events.map(value => ({ key: value.orderId, value })))
  .chain(inputs => fc.record({ inputs: fc.constant(inputs),
    faults: faultSchedules({ kinds: FAULT_KINDS, maxDelayMs: DELAY_MAX_MS, maxFaults: 2,
      inputs: inputs.length - 1 }) }))

async function holds({ inputs, faults }: Scenario, seed: number): Promise<void> {
  const result = await simulate(orderHistory('order-history', HISTORY_ORDERS_MAX), { seed,
    faults, partitions: 2, inputs: inputs.map(record => ({ topic: orderEventsTopic, record })),
    outputs: [], stores: [orderHistoryOrdersStore, orderHistoryStore] })
  assertValid(stateEqualsFold(result.stores[orderHistoryOrdersStore]!, inputs, orderFold),
    'orders = fold of their events', result.trace)
  assertValid(stateEqualsFold(result.stores[orderHistoryStore]!, finalOrders(inputs),
    historyFold), 'histories = fold of the final orders', result.trace)
}

/**
 * Run first every time: both kinds of crash, mid-run, whatever the generated runs draw; alice
 * places 4 orders, one more than her history keeps.
 */
const placeShipCancel = (i: number): OrderEvent => i < 6
  ? { type: 'OrderPlaced', orderId: ORDER_IDS[i]!, customerId: i % 3 === 0 ? 'bob' : 'alice',
    total: 10 * (i + 1), at: i }
  : { type: i % 2 === 0 ? 'OrderShipped' : 'OrderCancelled', orderId: ORDER_IDS[i - 6]!, at: i }
const bothCrashes: Scenario = {
  inputs: Array.from({ length: 12 }, (_, i) => placeShipCancel(i))
    .map(value => ({ key: value.orderId, value })),
  faults: [{ afterRecords: 3, fault: { kind: 'crash', step: 'after-outputs', loseState: true } },
    { afterRecords: 8, fault: { kind: 'crash', step: 'before-commit', loseState: false } }],
}

const parameters: fc.Parameters<[Scenario, number]> = propertyParameters(6, {
  examples: [[bothCrashes, 1]],
})

describe('order-history read model with the public test kit', () => {
  it('property: under any fault schedule (crashes with or without state loss, broker restarts, '
    + 'power loss, zombies, rebalances, delayed or duplicated requests), each order is the fold of '
    + 'its events and each customer\'s history the fold of their orders\' final states, newest '
    + 'first, bounded', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.nat({ max: 1_000_000 }), holds), parameters)
  })
})
