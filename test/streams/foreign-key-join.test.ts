/**
 * Goal: the foreign-key table–table join (KIP-213, joins/foreign-key-join.ts) converges to the
 * join of its final tables, whatever the order in which its two sides and its round trips
 * interleave, on tables that are not co-partitioned.
 *
 * Property (inner and left): random updates of orders (a customer FK that changes, becomes null,
 * or the order deleted) and customers (updated, deleted), produced in random chunks while the app
 * runs — so subscriptions, responses and updates of both sides race — to topics of 2 and 3
 * partitions. Once the app has caught up, the result store equals the model join of the final
 * tables, and so does the last value each order key got on the output (null: not in the result);
 * the subscription store holds exactly each final order under its final customer (no stale
 * subscription left behind). The join is eventually consistent, so only the end state is
 * compared, not the sequence.
 *
 * Example: orders joined to customers by customerId — a customer's update re-emits each of their
 * orders, an order moving to another customer follows the new one only, deletes on both sides.
 *
 * Method: the topology harness (real embedded broker, exactly-once app, in-process).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { type KTable, type Serde, topology } from '../../src/index.ts'
import { type Harness, harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'

interface Order { customer: string | null, total: number }
interface Customer { name: string }
type Kind = 'inner' | 'left'

/** One update: of an order (`o…` keys) or a customer (`c…` keys); null deletes. */
type Update =
  | { side: 'orders', key: string, value: Order | null }
  | { side: 'customers', key: string, value: Customer | null }

const customerKey = fc.constantFrom('c1', 'c2', 'c3')

const update: fc.Arbitrary<Update> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ side: fc.constant('orders' as const),
    key: fc.constantFrom('o1', 'o2', 'o3'),
    value: fc.option(fc.record({ customer: fc.option(customerKey, { freq: 6, nil: null }),
      total: fc.nat(3) }), { freq: 4, nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ side: fc.constant('customers' as const), key: customerKey,
    value: fc.option(fc.record({ name: fc.constantFrom('Ada', 'Bob') }),
      { freq: 5, nil: null }) }) })

/** Updates in production order, each chunk sent in one go; a wait for the app after some. */
const inputs = fc.record({ chunks: fc.array(fc.record({
  updates: fc.array(update, { minLength: 1, maxLength: 8 }),
  wait: fc.constantFrom(false, false, true) }), { minLength: 1, maxLength: 5 }) })

const joiner = (order: Order, customer: Customer | null): string =>
  `${customer?.name ?? 'none'}:${order.total}`

/** The join of the final tables: per order, joiner(order, its customer or null), as defined. */
function model(updates: readonly Update[], kind: Kind): Map<string, string> {
  const orders = new Map<string, Order>()
  const customers = new Map<string, Customer>()
  for (const u of updates) {
    const table: Map<string, Order | Customer> = u.side === 'orders' ? orders : customers
    if (u.value === null) table.delete(u.key)
    else table.set(u.key, u.value)
  }
  const result = new Map<string, string>()
  for (const [key, order] of orders) {
    const customer = order.customer === null ? undefined : customers.get(order.customer)
    if (customer !== undefined || kind === 'left') {
      result.set(key, joiner(order, customer ?? null))
    }
  }
  return result
}

/** Per customer, the orders whose final value names it, sorted. */
function subscribed(updates: readonly Update[]): Map<string, string[]> {
  const orders = new Map<string, string | null>()
  for (const u of updates) {
    if (u.side !== 'orders') continue
    if (u.value === null) orders.delete(u.key)
    else orders.set(u.key, u.value.customer)
  }
  const byCustomer = new Map<string, string[]>()
  for (const [key, customer] of [...orders].sort()) {
    if (customer !== null) byCustomer.set(customer, [...byCustomer.get(customer) ?? [], key])
  }
  return byCustomer
}

/** orders ⋈ customers on order.customer, kept in the store 'joined', sent to 'out'. */
function ordersWithCustomers(appId: string, kind: Kind): ReturnType<typeof topology> {
  const t = topology(appId)
  const orders: KTable<Order> = t.table<Order>('orders')
  const customers: KTable<Customer> = t.table<Customer>('customers')
  const options = { store: 'joined', serde: text }
  const joined = kind === 'inner'
    ? orders.join(customers, order => order.customer, joiner, options)
    : orders.leftJoin(customers, order => order.customer, joiner, options)
  joined.toStream().to('out', { serde: text })
  return t
}

const text: Serde<string> = { name: 'text', serialize: value => Buffer.from(value),
  deserialize: bytes => bytes.toString() }

async function send(h: Harness, updates: readonly Update[]): Promise<void> {
  for (const side of ['orders', 'customers'] as const) {
    const records = updates.filter(u => u.side === side)
    if (records.length === 0) continue
    await h.produce(side, records.map(u => ({ key: u.key,
      value: u.value === null ? null : JSON.stringify(u.value) })))
  }
}

/** The last value each key got in `topic` (a key's records share a partition, in order). */
async function lastPerKey(h: Harness, topic: string): Promise<Map<string, string | null>> {
  return new Map((await h.read(topic)).map(r => [r.key!, r.value]))
}

const topics = [{ topic: 'orders', partitions: 2 }, { topic: 'customers', partitions: 3 },
  { topic: 'out' }]

describe('foreign-key table–table join', () => {
  test.prop([inputs, fc.constantFrom<Kind>('inner', 'left')], { numRuns: numRuns(12) })(
    'the FK join result table equals the model join of the final left and right tables, for '
    + 'random interleavings of updates on both sides (FK changes, deletes)',
    async ({ chunks }, kind) => {
      const h = await harness(topics)
      try {
        const app = await h.start(ordersWithCustomers('fk-join', kind))
        for (const chunk of chunks) {
          await send(h, chunk.updates)
          if (chunk.wait) await app.caughtUp()
        }
        await app.caughtUp()
        const expected = model(chunks.flatMap(chunk => chunk.updates), kind)
        const stored = await app.query<string>('joined').all()
        expect(new Map(stored.map(({ key, value }) => [key as unknown as string, value])))
          .toEqual(expected)
        const emitted = [...await lastPerKey(h, 'out')].filter(([, value]) => value !== null)
        expect(new Map(emitted)).toEqual(expected)
        // No subscription outlives its order's FK (stale ones would only cost state: the hash
        // check keeps them out of the result).
        const subscriptions = await app.query<Record<string, string>>('joined-subscriptions').all()
        expect(new Map(subscriptions.map(({ key, value }) => [key as unknown as string,
          Object.keys(value).map(k => Buffer.from(k, 'base64').toString()).sort()])))
          .toEqual(subscribed(chunks.flatMap(chunk => chunk.updates)))
      } finally {
        await h.close()
      }
    })

  it('orders join their customer by customerId: a customer update re-emits each of their '
    + 'orders; an order that changes customer follows the new one only', async () => {
    const h = await harness(topics)
    try {
      const t = ordersWithCustomers('orders-customers', 'inner')
      const app = await h.start(t)
      let seen = 0
      const next = async (): Promise<string[]> => {
        await app.caughtUp()
        const out = (await h.read('out')).map(r => `${r.key}=${r.value}`)
        const fresh = out.slice(seen)
        seen = out.length
        return fresh.sort()
      }
      const order = (key: string, customer: string | null, total: number): Update =>
        ({ side: 'orders', key, value: { customer, total } })
      const customer = (key: string, name: string | null): Update =>
        ({ side: 'customers', key, value: name === null ? null : { name } })
      await send(h, [customer('c1', 'Ada'), customer('c2', 'Bob'), order('o1', 'c1', 5),
        order('o2', 'c1', 7), order('o3', 'c2', 3), order('o4', 'c9', 1)])
      expect(await next()).toEqual(['o1=Ada:5', 'o2=Ada:7', 'o3=Bob:3'])
      await send(h, [customer('c1', 'Ada L.')])
      expect(await next()).toEqual(['o1=Ada L.:5', 'o2=Ada L.:7'])
      await send(h, [order('o3', 'c1', 4)])
      expect(await next()).toEqual(['o3=Ada L.:4'])
      await send(h, [customer('c2', 'Bo'), customer('c9', 'Cy')])
      expect(await next()).toEqual(['o4=Cy:1'])
      // o5's second value (no customer) is read before the answer to its first comes back:
      // that answer carries the first value's hash and is dropped as stale.
      await send(h, [order('o5', 'c2', 2), order('o5', null, 2)])
      expect(await next()).toEqual([])
      await send(h, [customer('c1', null), { side: 'orders', key: 'o4', value: null }])
      expect(await next()).toEqual(['o1=null', 'o2=null', 'o3=null', 'o4=null'])
      expect(await app.query('joined').all()).toEqual([])
      const description = t.describe()
      expect(description.subTopologies.map(sub => [...sub.sources].sort())).toEqual([
        ['orders', 'orders-customers-joined-subscription-response-repartition'],
        ['customers', 'orders-customers-joined-subscription-registration-repartition']])
      const partitions = await h.weir.admin().describeTopics([
        'orders-customers-joined-subscription-registration-repartition',
        'orders-customers-joined-subscription-response-repartition'])
      // Each repartition topic is partitioned like the table it is read with.
      expect(partitions.map(topic => topic.partitions)).toEqual([3, 2])
    } finally {
      await h.close()
    }
  })
})
