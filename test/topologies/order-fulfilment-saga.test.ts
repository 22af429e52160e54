/**
 * Goal (issue 8): the order-fulfilment saga (topologies/order-fulfilment-saga.ts) over the
 * stock, payment and shipping aggregates (topologies/stock.ts, payments.ts, shipping.ts)
 * reserves, charges and ships each order exactly once, or undoes what it did, even when its
 * app and the three writers' apps crash at any processing step.
 *
 * Property: with random initial stock, wallets and suspended regions, and random orders (some
 * placed twice, some invalid) mixed with restocks and top-ups, produced in chunks while the apps
 * run, every order ends completed, failed or compensated exactly once; stock is conserved (per
 * SKU, restocked = available + what completed orders took) and money too (per customer, topped
 * up = balance + what completed orders paid); no level ever goes below 0; no request id is
 * applied twice; each aggregate's stream has versions 1..n; and the events tied to an order
 * match its outcome (completed: one reserve, one charge, one ship; failed: nothing; compensated:
 * reserve and release, with charge and refund when the ship was refused). The checker is in
 * order-fulfilment-checks.ts and reads only what read_committed readers see. The same property
 * runs again with crashes injected into all four apps.
 * Examples: an order completed, one failed for lack of stock, one compensated for a declined
 * payment, one compensated for a suspended region, a repeated order; read with AggregateClient.
 *
 * Method: the apps run on an embedded broker, driven by apps-through-crashes.ts (without crash
 * points for the first property; each app its own crash schedule for the second, state lost at
 * some crashes). Replay a failure with WEIR_SEED=<seed> WEIR_PATH=<path>.
 */
import { fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { AggregateClient, aggregateTopology, eventsTopic, type Weir } from '../../src/index.ts'
import {
  type FulfilmentOutcome, fulfilmentOrdersTopic, type OrderPlaced, orderFulfilmentSaga,
  orderFulfilmentTopics,
} from '../../topologies/order-fulfilment-saga.ts'
import { payments, paymentType } from '../../topologies/payments.ts'
import { shipping, shippingType } from '../../topologies/shipping.ts'
import { stock, stockType } from '../../topologies/stock.ts'
import { runAppsThroughCrashes } from '../helpers/apps-through-crashes.ts'
import {
  chunked, type CrashPoint, crashPointArbitrary, PARTITIONS as RUN_PARTITIONS,
  propertyParameters, propertyTimeoutMs, withWorld,
} from '../helpers/streams-fixtures.ts'
import { harness } from '../helpers/topology-runner.ts'
import { waitFor } from '../helpers/topologies-fixtures.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'
import {
  committedEvents, committedOutcomes, type Item, itemMessages, problems, type Scenario,
  scenarioArbitrary, setupMessages,
} from './order-fulfilment-checks.ts'
import { fraction } from '../helpers/num-runs.ts'

const PARTITIONS = 2

const orderRecord = (order: OrderPlaced) => ({ key: order.orderId, value: JSON.stringify(order) })
const byOrderId = (a: FulfilmentOutcome, b: FulfilmentOutcome) =>
  a.orderId.localeCompare(b.orderId)

describe('the order-fulfilment saga', () => {
  it('completes an order, fails one for lack of stock, compensates a declined payment and a '
    + 'suspended region, and ignores a repeated order', async () => {
    const h = await harness(orderFulfilmentTopics(PARTITIONS))
    const stockClient = await AggregateClient.open(h.weir, stock())
    const walletClient = await AggregateClient.open(h.weir, payments())
    const regionClient = await AggregateClient.open(h.weir, shipping())
    try {
      for (const writer of [aggregateTopology(stock()), aggregateTopology(payments()),
        aggregateTopology(shipping())]) await h.start(writer)
      await stockClient.execute('apple', { type: 'restock', quantity: 10 })
      await stockClient.execute('pear', { type: 'restock', quantity: 1 })
      await walletClient.execute('ann', { type: 'topUp', amount: 1000 })
      await walletClient.execute('ben', { type: 'topUp', amount: 50 })
      await regionClient.execute('south', { type: 'suspend' })
      const saga = await h.start(orderFulfilmentSaga())
      const order = (orderId: string, customerId: string, sku: string, quantity: number,
        amount: number, region: string): OrderPlaced =>
        ({ orderId, customerId, sku, quantity, amount, region })
      const o1 = order('o1', 'ann', 'apple', 2, 300, 'north')
      const o2 = order('o2', 'ann', 'pear', 5, 100, 'north')
      const o3 = order('o3', 'ben', 'apple', 1, 500, 'north')
      const o4 = order('o4', 'ann', 'apple', 3, 200, 'south')
      await h.produce(fulfilmentOrdersTopic, [o1, o2, o3, o4].map(orderRecord))
      const outcomes = await waitFor(() => committedOutcomes(h.weir, PARTITIONS),
        found => found.length >= 4)
      expect(outcomes.sort(byOrderId)).toEqual([
        { ...o1, outcome: 'completed' },
        { ...o2, outcome: 'failed', reason: 'insufficient-stock' },
        { ...o3, outcome: 'compensated', reason: 'payment-declined' },
        { ...o4, outcome: 'compensated', reason: 'region-suspended' }])
      // A repeated order, once its saga has ended: nothing more is sent or reported.
      await h.produce(fulfilmentOrdersTopic, [orderRecord(o1)])
      await saga.caughtUp()
      expect(await committedOutcomes(h.weir, PARTITIONS)).toHaveLength(4)
      // apple: restock, reserves of o1, o3 and o4, releases of o3 and o4.
      expect(await stockClient.load('apple')).toEqual({ version: 6,
        state: { available: 8, holds: { o1: 2, o3: 0, o4: 0 } } })
      expect(await stockClient.load('pear')).toEqual({ version: 1,
        state: { available: 1, holds: {} } })
      // ann: top-up, charges of o1 and o4, refund of o4; ben: top-up only (declined).
      expect(await walletClient.load('ann')).toEqual({ version: 4,
        state: { balance: 700, charges: { o1: 300, o4: 0 } } })
      expect(await walletClient.load('ben')).toEqual({ version: 1,
        state: { balance: 50, charges: {} } })
      expect(await regionClient.load('north')).toEqual({ version: 1,
        state: { suspended: false, shipped: { o1: true } } })
      expect((await regionClient.load('south')).version).toBe(1)
    } finally {
      await Promise.allSettled([stockClient, walletClient, regionClient].map(c => c.close()))
      await h.close()
    }
  }, 60_000)
})

/** The requests, replies and events that mention the orders without an outcome. */
async function diagnose(weir: Weir, scenario: Scenario): Promise<string> {
  const ended = new Set((await committedOutcomes(weir, RUN_PARTITIONS))
    .map(outcome => outcome.orderId))
  const missing = scenario.orders.filter(o => !ended.has(o.orderId)).map(o => o.orderId)
  const lines = [`missing: ${missing.join(', ')}`]
  const topics = [stockType, paymentType, shippingType].flatMap(type => [`${type}-requests`,
    `${type}-replies`, eventsTopic(type)])
  for (const topic of topics) {
    for (let partition = 0; partition < RUN_PARTITIONS; partition++) {
      for (const record of await readCommitted(weir.transport, topic, partition)) {
        const value = record.value?.toString() ?? ''
        if (missing.some(id => value.includes(`"${id}:`) || value.includes(`"${id}"`))) {
          lines.push(`${topic}/${partition}@${record.offset} ${record.key?.toString()} ${value}`)
        }
      }
    }
  }
  return lines.join('\n')
}

interface RunResult {
  readonly crashes: CrashPoint[][]
  readonly outcomes: FulfilmentOutcome[]
}

/** The scenario's run: four apps (three writers, then the saga), each with its crash points. */
async function runFulfilment(scenario: Scenario, cuts: readonly number[],
  crashPoints: ReadonlyArray<readonly CrashPoint[]>): Promise<RunResult> {
  const topics = orderFulfilmentTopics(RUN_PARTITIONS).map(({ topic }) => topic)
  return withWorld(topics, async world => {
    const producer = world.weir.producer()
    const send = async (messages: ReturnType<typeof setupMessages>) => {
      for (const [topic, batch] of messages) {
        if (batch.length > 0) await producer.send({ topic, messages: batch })
      }
    }
    try {
      await send(setupMessages(scenario))
      const topologies = [aggregateTopology(stock(3)), aggregateTopology(payments(3)),
        aggregateTopology(shipping(3)), orderFulfilmentSaga()]
      const run = await runAppsThroughCrashes<Item>({ weir: world.weir, dir: world.stateDir,
        apps: topologies.map((topology, i) => ({ topology, crashPoints: crashPoints[i] ?? [] })),
        chunks: chunked(scenario.items, cuts),
        produce: chunk => send(itemMessages(chunk)),
        finished: async () => new Set((await committedOutcomes(world.weir, RUN_PARTITIONS))
          .map(outcome => outcome.orderId)).size >= scenario.orders.length,
        diagnose: () => diagnose(world.weir, scenario) })
      await Promise.allSettled(run.apps.map(app => app.close()))
      let found: string[] = []
      let outcomes: FulfilmentOutcome[] = []
      await waitFor(async () => {
        outcomes = await committedOutcomes(world.weir, RUN_PARTITIONS)
        found = problems(scenario, await committedEvents(world.weir, RUN_PARTITIONS), outcomes)
        return found
      }, current => current.length === 0)
      expect(found).toEqual([])
      return { crashes: run.crashes, outcomes }
    } finally {
      await producer.close()
    }
  })
}

const cutsArbitrary = fc.array(fraction, { maxLength: 3 })

/** Outcomes by kind, compensations by reason: what the runs covered. */
function coverage(results: readonly RunResult[]): Record<string, number> {
  const counts: Record<string, number> = { 'completed': 0, 'failed insufficient-stock': 0,
    'compensated payment-declined': 0, 'compensated region-suspended': 0 }
  for (const { outcome, reason } of results.flatMap(result => result.outcomes)) {
    const kind = reason === undefined ? outcome : `${outcome} ${reason}`
    counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

/** Every kind of outcome happened, unless a single counterexample is replayed. */
function expectCoverage(results: readonly RunResult[]): void {
  if (process.env.WEIR_PATH !== undefined || results.length < 5) return
  for (const [kind, count] of Object.entries(coverage(results))) {
    expect(count, `no order ended ${kind}`).toBeGreaterThan(0)
  }
}

const plainRuns = propertyParameters(15)

describe('the order-fulfilment saga, orders placed while it runs', () => {
  it('every order ends exactly once, stock and money are conserved, no request is applied '
    + 'twice, and the events tied to an order match its outcome', async () => {
    const results: RunResult[] = []
    await fc.assert(fc.asyncProperty(scenarioArbitrary, cutsArbitrary,
      async (scenario, cuts) => {
        results.push(await runFulfilment(scenario, cuts, []))
      }), { ...plainRuns, endOnFailure: true })
    console.info(`order-fulfilment saga: ${results.length} runs; outcomes: `
      + JSON.stringify(coverage(results)))
    expectCoverage(results)
  }, propertyTimeoutMs(plainRuns))
})

const crashSchedule = fc.array(crashPointArbitrary, { minLength: 1, maxLength: 3 })
const crashRuns = propertyParameters(12)
const appNames = ['stock writer', 'payment writer', 'shipping writer', 'saga']

/**
 * 12 runs in `npm test` (about 1 s each); `npm run test:crash` soaks it (WEIR_NUM_RUNS=100:
 * 600 crashes across the four apps per 100 runs). It stops at the first failure instead of
 * shrinking: a shrink step replays four apps with crashes, and the seed and path printed are
 * enough to replay the case.
 */
describe('the order-fulfilment saga under crashes',
  () => {
    it('with crashes injected at any step of the saga and of the three writers, every order '
      + 'ends exactly once, stock and money are conserved, and no request is applied twice',
    async () => {
      const results: RunResult[] = []
      await fc.assert(fc.asyncProperty(scenarioArbitrary, cutsArbitrary,
        fc.tuple(crashSchedule, crashSchedule, crashSchedule, crashSchedule),
        async (scenario, cuts, schedules) => {
          results.push(await runFulfilment(scenario, cuts, schedules))
        }), { ...crashRuns, endOnFailure: true })
      const crashes = appNames.map((_, i) => results.flatMap(result => result.crashes[i]!).length)
      console.info(`order-fulfilment saga: ${appNames.map((name, i) => `${crashes[i]} ${name}`)
        .join(', ')} crashes in ${results.length} runs; outcomes: `
        + JSON.stringify(coverage(results)))
      appNames.forEach((name, i) => expect(crashes[i], `no crash of the ${name} happened`)
        .toBeGreaterThan(0))
      expectCoverage(results)
    }, propertyTimeoutMs(crashRuns))
  })
