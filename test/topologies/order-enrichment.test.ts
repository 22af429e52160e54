/**
 * Goal: the order-enrichment topology sends every order, re-keyed by customerId, with the
 * customer as the table holds it when the order is processed — its latest value, or null for
 * a customer never created or deleted — and a customer update changes the orders processed
 * after it, not those before. Method: fast-check generates customers (updates and deletes
 * among them) and orders (some for unknown customers) in two rounds; each round produces the
 * customers, waits until the app has processed them (`app.caughtUp()`), then produces the
 * orders and waits again, on a fresh embedded Weir with 3 partitions per topic. The output is
 * compared with a model, as a multiset (sorted), since the orders of one customer come from
 * several `orders` partitions and interleave in the repartition topic.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  type Customer, customersStore, customersTopic, type EnrichedOrder, type Order, orderEnrichment,
  orderEnrichmentTopics, ordersEnrichedTopic, ordersTopic, repartitionTopic,
} from '../../topologies/order-enrichment.ts'
import { CAUGHT_UP_TIMEOUT_MS, propertyParameters } from '../helpers/streams-fixtures.ts'
import { byKeyBytes } from '../helpers/topologies-fixtures.ts'
import { harness, type Harness } from '../helpers/topology-runner.ts'

/** A record of `customers`: a new value of the customer, or null (a delete). */
interface CustomerUpdate {
  readonly customerId: string
  readonly customer: Customer | null
}

interface Round {
  readonly customers: readonly CustomerUpdate[]
  readonly orders: readonly Order[]
}

/** Each round's orders with the table as it stands after the round's customers. */
function model(rounds: readonly Round[]): { table: Map<string, Customer>,
  enriched: EnrichedOrder[] } {
  const table = new Map<string, Customer>()
  const enriched: EnrichedOrder[] = []
  for (const round of rounds) {
    for (const { customerId, customer } of round.customers) {
      if (customer === null) table.delete(customerId)
      else table.set(customerId, customer)
    }
    for (const order of round.orders) {
      const customer = table.get(order.customerId)
      enriched.push({ ...order, customer: customer === undefined ? null
        : { name: customer.name, tier: customer.tier } })
    }
  }
  return { table, enriched }
}

const sorted = (orders: readonly EnrichedOrder[]): string[] =>
  orders.map(order => JSON.stringify(order)).sort()

async function produceCustomers(h: Harness, round: Round): Promise<void> {
  if (round.customers.length > 0) {
    await h.produce(customersTopic, round.customers.map(({ customerId, customer }) => ({
      key: customerId, value: customer === null ? null : JSON.stringify(customer) })))
  }
}

/** Runs the rounds (customers, caught up, orders, caught up); returns what the app sent. */
async function runRounds(h: Harness, rounds: readonly Round[], appId?: string):
Promise<Array<{ key: string | null, value: EnrichedOrder, partition: number }>> {
  const app = await h.start(orderEnrichment(appId))
  for (const round of rounds) {
    await produceCustomers(h, round)
    await app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
    if (round.orders.length > 0) {
      await h.produce(ordersTopic, round.orders.map(order => ({ key: order.orderId,
        value: JSON.stringify(order) })))
    }
    await app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
  }
  const { table } = model(rounds)
  expect(await app.query<Customer>(customersStore).all()).toEqual(byKeyBytes(table))
  return (await h.read(ordersEnrichedTopic)).map(({ key, value, partition }) => ({ key,
    value: JSON.parse(value!) as EnrichedOrder, partition }))
}

function expectEnriched(output: ReadonlyArray<{ key: string | null, value: EnrichedOrder,
  partition: number }>, expected: readonly EnrichedOrder[]): void {
  expect(sorted(output.map(record => record.value))).toEqual(sorted(expected))
  const partitionOf = new Map<string, number>()
  for (const { key, value, partition } of output) {
    expect(key).toBe(value.customerId)
    expect(partitionOf.get(key!) ?? partition).toBe(partition)
    partitionOf.set(key!, partition)
  }
}

const customerIds = ['c1', 'c2', 'c3', 'ü-4', 'c5']
/** Ids never given a customer, so orders for them always go out with `customer: null`. */
const unknownIds = ['nobody', 'ghost']

const customerUpdate: fc.Arbitrary<CustomerUpdate> = fc.record({
  customerId: fc.constantFrom(...customerIds),
  customer: fc.oneof({ weight: 5, arbitrary: fc.record({
    name: fc.constantFrom('Ada', 'Bo', 'Zoë', 'Ünal'),
    tier: fc.constantFrom('standard' as const, 'gold' as const, 'platinum' as const) }) },
  { weight: 1, arbitrary: fc.constant(null) }),
})

/** Orders without their orderId: numbered once generated, so ids are unique. */
const orderFields = fc.record({
  customerId: fc.constantFrom(...customerIds, ...unknownIds),
  total: fc.integer({ min: 1, max: 1_000_000 }),
  at: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
})

const roundsArbitrary: fc.Arbitrary<Round[]> = fc.array(fc.record({
  customers: fc.array(customerUpdate, { maxLength: 12 }),
  orders: fc.array(orderFields, { maxLength: 20 }),
}), { minLength: 1, maxLength: 3 }).map(rounds => {
  let next = 0
  return rounds.map(round => ({ customers: round.customers,
    orders: round.orders.map(fields => ({ orderId: `o${next++}`, ...fields })) }))
})

describe('order enrichment', () => {
  test.prop([roundsArbitrary], propertyParameters(5) as fc.Parameters<[Round[]]>)(
    'every order goes out keyed by its customerId, with the customer\'s latest value when it '
      + 'was processed, or null for an unknown or deleted customer',
    async rounds => {
      const h = await harness(orderEnrichmentTopics(3))
      try {
        expectEnriched(await runRounds(h, rounds), model(rounds).enriched)
      } finally {
        await h.close()
      }
    })

  it('a customer created after an order was processed leaves it null; an update is seen by '
    + 'later orders only; orders go through the repartition topic by customer', async () => {
    const alice: Customer = { name: 'Alice', tier: 'gold' }
    const rounds: Round[] = [
      { customers: [{ customerId: 'alice', customer: alice }],
        orders: [{ orderId: 'o1', customerId: 'alice', total: 1250, at: 1 },
          { orderId: 'o2', customerId: 'bob', total: 300, at: 2 }] },
      { customers: [{ customerId: 'bob', customer: { name: 'Bob', tier: 'standard' } },
        { customerId: 'alice', customer: { ...alice, tier: 'platinum' } }],
      orders: [{ orderId: 'o3', customerId: 'alice', total: 99, at: 3 },
        { orderId: 'o4', customerId: 'bob', total: 500, at: 4 }] },
    ]
    const h = await harness(orderEnrichmentTopics(3))
    try {
      const output = await runRounds(h, rounds, 'order-enrichment-example')
      expectEnriched(output, [
        { orderId: 'o1', customerId: 'alice', total: 1250, at: 1, customer: alice },
        { orderId: 'o2', customerId: 'bob', total: 300, at: 2, customer: null },
        { orderId: 'o3', customerId: 'alice', total: 99, at: 3,
          customer: { name: 'Alice', tier: 'platinum' } },
        { orderId: 'o4', customerId: 'bob', total: 500, at: 4,
          customer: { name: 'Bob', tier: 'standard' } },
      ])
      const topic = repartitionTopic('order-enrichment-example')
      expect(orderEnrichment('order-enrichment-example').describe().subTopologies
        .flatMap(sub => sub.sources)).toContain(topic)
      const descriptions = await h.weir.admin().describeTopics([topic, customersTopic])
      expect(descriptions.map(description => description.partitions)).toEqual([3, 3])
    } finally {
      await h.close()
    }
  })
})
