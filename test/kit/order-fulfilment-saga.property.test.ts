/**
 * Goal (issue 10): the order-fulfilment saga (topologies/order-fulfilment-saga.ts) sends each
 * of its requests exactly once and ends each order with exactly one outcome, the one its
 * replies call for, compensating in reverse order, under any of the kit's faults:
 * its app crashing (keeping or losing its state directory), the broker killed or losing power,
 * a zombie instance, a request delayed or sent twice, a second instance taking tasks for a
 * while (a rebalance). Written only with the public kit.
 *
 * Property: for random orders (some invalid, some placed twice) and scripted replies of the
 * stock, payment and shipping writers (each step appended or refused; repeated answers and
 * replies to other clients mixed in) and any fault schedule, read_committed:
 * - the requests topics hold each request id the saga must send exactly once, with its
 *   command, on the aggregate it goes to: `<o>:reserve`, then `:charge`, then `:ship`; after a
 *   refused charge `:release`; after a refused ship `:refund`, then `:release`;
 * - `fulfilment-outcomes` holds exactly one outcome per order: completed, failed (invalid or
 *   the reserve refused) or compensated (with the refusal as reason);
 * - the store `fulfilment-sagas` holds each order in its final status.
 *
 * Method: `simulate` runs the saga alone (on 2 partitions), so the three writers are scripted:
 * the orders first, then rounds of replies, one per running order and round (its awaited
 * step's reply, on that aggregate's replies topic, keyed by order id). A one-topology run
 * cannot script this as a real writer would answer: an order's consecutive replies are on
 * different topics, and the runtime does not order a task's input topics by timestamp, so a
 * charge reply produced in the same chunk as its reserve reply may be processed first (and
 * ignored: the order would hang). So a barrier (`barriers`: the run waits until the app has
 * caught up) separates the orders and every round. The generated faults cut anywhere, rounds
 * included. Soak with WEIR_NUM_RUNS;
 * replay with WEIR_SEED (and WEIR_PATH).
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { type Reply, repliesTopic, requestsTopic } from 'weir'
import {
  assertValid, exactlyOnce, FAULT_KINDS, faultSchedules, propertyParameters,
  type ScheduledFault, simulate, stateEqualsFold,
} from 'weir/testing'
import {
  type FulfilmentOutcome, type FulfilmentStatus, fulfilmentOrdersTopic,
  fulfilmentOutcomesTopic, fulfilmentSagasStore, type OrderPlaced, orderFulfilmentSaga, type Step,
} from '../../topologies/order-fulfilment-saga.ts'


/**
 * The longest a `delay-request` fault holds a request: enough to reorder it with the app's
 * next requests (it commits every 10 ms), short enough to keep a run under a second.
 */
const DELAY_MAX_MS = 300

const ORDERS_MAX = 5
const START_MS = 1_700_000_000_000
const TYPES = ['stock', 'payment', 'shipping'] as const
type AggregateType = typeof TYPES[number]

/** Where each step goes, the field of the order that keys it, and how its writer refuses. */
const steps: Record<Step, { type: AggregateType, key: 'sku' | 'customerId' | 'region',
  rejection?: string }> = {
  reserve: { type: 'stock', key: 'sku', rejection: 'insufficient-stock' },
  charge: { type: 'payment', key: 'customerId', rejection: 'payment-declined' },
  ship: { type: 'shipping', key: 'region', rejection: 'region-suspended' },
  refund: { type: 'payment', key: 'customerId' },
  release: { type: 'stock', key: 'sku' },
}

interface Plan {
  readonly order: OrderPlaced
  /** The steps its writers refuse (refunds and releases are never refused). */
  readonly refused: { readonly reserve: boolean, readonly charge: boolean, readonly ship: boolean }
  readonly placedTwice: boolean
  /** Its replies come with a repeated answer and another client's reply. */
  readonly noisy: boolean
}

/** True about once in `n` draws. */
const sometimes = (n: number): fc.Arbitrary<boolean> =>
  fc.integer({ min: 1, max: n }).map(draw => draw === 1)

const plan = (i: number): fc.Arbitrary<Plan> => fc.record({
  order: fc.record({ orderId: fc.constant(`o${i}`), customerId: fc.constantFrom('ann', 'bo'),
    sku: fc.constantFrom('sku-1', 'sku-2'), region: fc.constantFrom('eu', 'us'),
    // Quantity 0 is invalid: the order fails at once.
    quantity: fc.integer({ min: 0, max: 8 }), amount: fc.integer({ min: 1, max: 500 }) }),
  refused: fc.record({ reserve: sometimes(4), charge: sometimes(3), ship: sometimes(3) }),
  placedTwice: sometimes(3), noisy: sometimes(3) })

interface Input {
  readonly topic: string
  readonly record: { key: string, value: unknown, timestamp: number }
}

/** What the model expects the saga to write, and each order's final status. */
interface Expected {
  readonly requests: Array<{ topic: string, key: string, value: unknown }>
  readonly outcomes: Array<{ key: string, value: FulfilmentOutcome }>
  readonly statuses: Array<{ key: string, status: FulfilmentStatus }>
}

/** The command the saga sends for a step: the writers' contract. */
function request(order: OrderPlaced, step: Step): Expected['requests'][number] {
  const { orderId, quantity, amount } = order
  const { type, key } = steps[step]
  const command = step === 'reserve' ? { type: step, orderId, quantity }
    : step === 'charge' ? { type: step, orderId, amount } : { type: step, orderId }
  return { topic: requestsTopic(type), key: order[key], value: { requestId:
    `${orderId}:${step}`, replyTo: orderId, expectedVersion: 'any',
  body: { kind: 'command', command } } }
}

/** An order as the model runs it: the step awaited, or its end. */
interface Running {
  readonly plan: Plan
  awaiting: Step | undefined
  reason?: string
}

/** The saga's table for the scripted reply to `run`'s step; returns that reply. */
function answer(run: Running, expected: Expected): Reply<unknown, string> {
  const { order, refused } = run.plan
  const step = run.awaiting!
  const rejection = step === 'reserve' || step === 'charge' || step === 'ship'
    ? (refused[step] ? steps[step].rejection : undefined) : undefined
  const end = (outcome: FulfilmentOutcome['outcome'], reason?: string): void => {
    run.awaiting = undefined
    const why = reason === undefined ? {} : { reason }
    expected.outcomes.push({ key: order.orderId, value: { ...order, outcome, ...why } })
    expected.statuses.push({ key: order.orderId, status: outcome })
  }
  const send = (next: Step): void => {
    run.awaiting = next
    expected.requests.push(request(order, next))
  }
  if (rejection !== undefined && step !== 'reserve') run.reason = rejection
  if (step === 'reserve' && rejection !== undefined) end('failed', rejection)
  else if (step === 'reserve') send('charge')
  else if (step === 'charge') send(rejection === undefined ? 'ship' : 'release')
  else if (step === 'ship' && rejection === undefined) end('completed')
  else if (step === 'ship' || step === 'refund') send(step === 'ship' ? 'refund' : 'release')
  else end('compensated', run.reason)
  return { requestId: `${order.orderId}:${step}`, aggregateId: order[steps[step].key],
    outcome: rejection === undefined ? { kind: 'appended', firstVersion: 1, lastVersion: 1 }
      : { kind: 'rejected', rejection } }
}

interface Scripted {
  readonly inputs: Input[]
  readonly expected: Expected
  /** Input positions before which everything earlier must have been processed. */
  readonly barriers: number[]
}

/** The inputs (orders, then one round of replies per step) and what the saga must write. */
function script(plans: readonly Plan[]): Scripted {
  const expected: Expected = { requests: [], outcomes: [], statuses: [] }
  const inputs: Input[] = []
  const add = (topic: string, key: string, value: unknown): void => {
    inputs.push({ topic, record: { key, value, timestamp: START_MS + inputs.length } })
  }
  const runs = plans.map((p): Running => ({ plan: p, awaiting: undefined }))
  for (const run of runs) {
    const { order, placedTwice } = run.plan
    if (order.quantity > 0) {
      run.awaiting = 'reserve'
      expected.requests.push(request(order, 'reserve'))
    } else {
      expected.outcomes.push({ key: order.orderId, value: { ...order, outcome: 'failed',
        reason: 'invalid-order' } })
      expected.statuses.push({ key: order.orderId, status: 'failed' })
    }
    for (let i = placedTwice ? 0 : 1; i < 2; i++) add(fulfilmentOrdersTopic, order.orderId, order)
  }
  const barriers: number[] = []
  while (runs.some(run => run.awaiting !== undefined)) {
    barriers.push(inputs.length)
    for (const run of runs.filter(r => r.awaiting !== undefined)) {
      const { orderId } = run.plan.order
      const topic = repliesTopic(steps[run.awaiting!].type)
      if (run.plan.noisy) {
        add(topic, orderId, { requestId: `elsewhere:${orderId}`, aggregateId: 'x',
          outcome: { kind: 'appended', firstVersion: 1, lastVersion: 1 } })
      }
      const reply = answer(run, expected)
      add(topic, orderId, reply)
      if (run.plan.noisy) add(topic, orderId, reply)
    }
  }
  return { inputs, expected, barriers }
}

type Scenario = Scripted & { faults: ScheduledFault[] }

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: ORDERS_MAX })
  .chain(n => fc.tuple(...Array.from({ length: n }, (_, i) => plan(i))))
  .map(script)
  .chain(scripted => faultSchedules({ kinds: FAULT_KINDS, maxDelayMs: DELAY_MAX_MS,
    maxFaults: 2, inputs: scripted.inputs.length - 1 }).map(faults => ({ ...scripted, faults })))

const requestTopics = TYPES.map(requestsTopic)

async function holds({ inputs, expected, barriers, faults }: Scenario, seed: number):
Promise<void> {
  const result = await simulate(orderFulfilmentSaga(), { seed, inputs, faults, barriers,
    partitions: 2, outputs: [...requestTopics, fulfilmentOutcomesTopic],
    stores: [fulfilmentSagasStore] })
  const requests = requestTopics.flatMap(topic => result.outputs[topic]!)
  const placed = { id: (record: { topic?: string, key?: unknown, value: unknown }) =>
    [record.topic, record.key, record.value] }
  assertValid(exactlyOnce(requests, expected.requests, placed),
    'each request sent once', result.trace)
  assertValid(exactlyOnce(result.outputs[fulfilmentOutcomesTopic]!, expected.outcomes,
    { id: record => [record.key, record.value] }), 'one outcome per order', result.trace)
  const statuses = result.stores[fulfilmentSagasStore]!.map(({ key, value }) =>
    ({ key, value: (value as { status: FulfilmentStatus }).status }))
  assertValid(stateEqualsFold(statuses, expected.statuses,
    (_: FulfilmentStatus | undefined, input) => input.status), 'final statuses', result.trace)
}

/** Run first every time: both kinds of crash among the replies, whatever the runs draw. */
const bothCrashes: Scenario = (() => {
  const order = (i: number): OrderPlaced => ({ orderId: `o${i}`, customerId: 'ann',
    sku: `sku-${i % 2}`, quantity: 1, amount: 10, region: 'eu' })
  const scripted = script([0, 1, 2, 3].map(i => ({ order: order(i), placedTwice: i === 0,
    noisy: i === 3, refused: { reserve: false, charge: i === 1, ship: i === 2 } })))
  return { ...scripted, faults: [
    { afterRecords: 6, fault: { kind: 'crash', step: 'after-outputs', loseState: true } },
    { afterRecords: 11, fault: { kind: 'crash', step: 'before-commit', loseState: false } }] }
})()

const parameters: fc.Parameters<[Scenario, number]> = propertyParameters(6, {
  examples: [[bothCrashes, 1]],
})

describe('the order-fulfilment saga with the public test kit', () => {
  it('property: under any fault schedule (crashes with or without state loss, broker restarts, '
    + 'power loss, zombies, rebalances, delayed or duplicated requests), each request the saga '
    + 'must send is sent once and each order ends with exactly one outcome, the one its scripted '
    + 'replies call for', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.nat({ max: 1_000_000 }), holds), parameters)
  })
})
