/**
 * Goal (issue 10): the aggregates the order-fulfilment saga drives — stock, payments and
 * shipping (topologies/stock.ts, payments.ts, shipping.ts), each run by `aggregateTopology` —
 * append and answer exactly what they would without faults, under any of the kit's faults.
 * Written only with the public kit, as a user's suite would be.
 *
 * Property (differential: no model of the rules is needed): for random commands of one
 * aggregate (valid and invalid amounts, refused ones, repeated request ids) and any fault
 * schedule, read_committed, the events topic holds exactly the events of the same run without
 * faults — per aggregate id the same (version, request, event) sequence, each once, versions in
 * order — and the replies topic exactly the same replies, each once. An aggregate decides per
 * id from that id's requests in order, so the run without faults is the reference.
 *
 * Method: `simulate` runs one aggregate's writer on 2 partitions twice per case (without and
 * with the faults); requests keyed by aggregate id, as AggregateClient sends them. Soak with
 * WEIR_NUM_RUNS; replay with WEIR_SEED (and WEIR_PATH).
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  aggregateTopology, eventsTopic, type Request, repliesTopic, requestsTopic, type Topology,
} from 'weir'
import {
  assertValid, exactlyOnce, FAULT_KINDS, faultSchedules, perKeyOrder, propertyParameters,
  type ScheduledFault, simulate, type TestRecord,
} from 'weir/testing'
import { paymentType, payments, type PaymentCommand } from '../../topologies/payments.ts'
import { shipping, shippingType, type ShippingCommand } from '../../topologies/shipping.ts'
import { stock, stockType, type StockCommand } from '../../topologies/stock.ts'

const IDS = ['a', 'b', 'ü']
const ORDERS = ['o1', 'o2', 'o3']
const INPUTS_MAX = 24

const amount = fc.integer({ min: -1, max: 20 })
const order = fc.constantFrom(...ORDERS)
const stockCommand: fc.Arbitrary<StockCommand> = fc.oneof(
  fc.record({ type: fc.constant('restock' as const), quantity: amount }),
  fc.record({ type: fc.constant('reserve' as const), orderId: order, quantity: amount }),
  fc.record({ type: fc.constant('release' as const), orderId: order }))
const paymentCommand: fc.Arbitrary<PaymentCommand> = fc.oneof(
  fc.record({ type: fc.constant('topUp' as const), amount }),
  fc.record({ type: fc.constant('charge' as const), orderId: order, amount }),
  fc.record({ type: fc.constant('refund' as const), orderId: order }))
const shippingCommand: fc.Arbitrary<ShippingCommand> = fc.oneof(
  fc.constant({ type: 'suspend' as const }), fc.constant({ type: 'resume' as const }),
  fc.record({ type: fc.constant('ship' as const), orderId: order }))

interface Case<C> {
  readonly requests: Array<TestRecord<string, Request<C, never>>>
  readonly faults: ScheduledFault[]
}

/** Requests keyed by aggregate id; about one in six repeats an earlier request id. */
function cases<C>(command: fc.Arbitrary<C>): fc.Arbitrary<Case<C>> {
  return fc.array(fc.record({ id: fc.constantFrom(...IDS), command,
    repeat: fc.option(fc.nat(), { freq: 5 }) }), { minLength: 4, maxLength: INPUTS_MAX })
    .map(steps => steps.map(({ id, command: body, repeat }, i) => ({ key: id, value: {
      requestId: repeat === null || i === 0 ? `r${i}` : `r${repeat % i}`, replyTo: 'client',
      expectedVersion: 'any' as const, body: { kind: 'command' as const, command: body } } })))
    .chain(requests => fc.record({ requests: fc.constant(requests),
      faults: faultSchedules({ kinds: FAULT_KINDS, maxFaults: 2, maxDelayMs: 300,
        inputs: requests.length }) }))
}

async function sameAsWithoutFaults<C>(build: () => Topology, type: string,
  { requests, faults }: Case<C>, seed: number): Promise<void> {
  const options = { seed, partitions: 2, outputs: [eventsTopic(type), repliesTopic(type)],
    inputs: requests.map(record => ({ topic: requestsTopic(type), record })) }
  const reference = await simulate(build(), { ...options, faults: [] })
  const faulty = await simulate(build(), { ...options, faults })
  const same = { id: (record: { key?: unknown, value: unknown }) => [record.key, record.value] }
  for (const topic of options.outputs) {
    assertValid(exactlyOnce(faulty.outputs[topic]!, reference.outputs[topic]!, same),
      `${topic} holds what the run without faults holds, each once`, faulty.trace)
  }
  assertValid(perKeyOrder(faulty.outputs[eventsTopic(type)]!,
    { sequence: record => (record.value as { version: number }).version }),
  `${eventsTopic(type)}: versions in order per aggregate`, faulty.trace)
}

describe('the order-fulfilment aggregates with the public test kit', () => {
  it('property: stock appends and answers under faults exactly what it does without them',
    async () => {
      await fc.assert(fc.asyncProperty(cases(stockCommand), fc.nat(), (c, seed) =>
        sameAsWithoutFaults(() => aggregateTopology(stock(3)), stockType, c, seed)),
      propertyParameters(4))
    })

  it('property: payments append and answer under faults exactly what they do without them',
    async () => {
      await fc.assert(fc.asyncProperty(cases(paymentCommand), fc.nat(), (c, seed) =>
        sameAsWithoutFaults(() => aggregateTopology(payments(3)), paymentType, c, seed)),
      propertyParameters(4))
    })

  it('property: shipping appends and answers under faults exactly what it does without them',
    async () => {
      await fc.assert(fc.asyncProperty(cases(shippingCommand), fc.nat(), (c, seed) =>
        sameAsWithoutFaults(() => aggregateTopology(shipping(3)), shippingType, c, seed)),
      propertyParameters(4))
    })
})
