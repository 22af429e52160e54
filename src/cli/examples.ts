/**
 * `weir serve --with-examples` (`npm start`): the example topologies running inside the server's
 * process, on its broker, fed a steady trickle of events so there is always something to look at:
 * - topologies/orders-projection.ts as app `orders-projection`: every tick a few new orders
 *   (topologies/orders-generator.ts, ids that never repeat across restarts) to `order-events`,
 *   folded into `customer-summaries`;
 * - topologies/inventory.ts as app `inventory`: every tick a restock, a reservation, and the
 *   fulfilment or release of an earlier reservation to `inventory-events`, giving `stock-levels`
 *   and, for reservations beyond the stock, `reservation-rejections`.
 * Both apps run exactly-once with their state under `<dir>/streams` and a fixed instance id, so
 * a restart fences the previous run's open transactions and continues from its commits. An app
 * that fails is reported on stderr; the server keeps serving.
 */
import { join } from 'node:path'
import type { Producer } from '../client/producer.ts'
import type { Weir } from '../client/weir.ts'
import type { StreamsApp } from '../streams/streams-app.ts'
import { systemClock, systemScheduler } from '../util/clock.ts'
import { systemRandom } from '../util/random.ts'
import { generateOrderEvents } from '../../topologies/orders-generator.ts'
import {
  customerSummariesTopic, orderEventsTopic, ordersProjection, ordersProjectionTopics,
} from '../../topologies/orders-projection.ts'
import {
  type InventoryEvent, inventory, inventoryEventsTopic, inventoryTopics,
  reservationRejectionsTopic, stockLevelsTopic,
} from '../../topologies/inventory.ts'
import { failureLine } from './command.ts'

const PARTITIONS = 3
const TICK_MS = 1_000
const ORDERS_PER_TICK = 2
const CUSTOMERS = 20
const SKUS = 8
/** Reservations remembered for a later fulfilment or release (oldest dropped). */
const OPEN_RESERVATIONS_MAX = 100
const INSTANCE_ID = 'serve-examples'

export interface RunningExamples {
  /** Stops the generators, then the apps (each commits and closes its stores). */
  close(): Promise<void>
}

export const exampleTopics = { orderEventsTopic, customerSummariesTopic, inventoryEventsTopic,
  stockLevelsTopic, reservationRejectionsTopic }

export async function startExamples(weir: Weir, dir: string,
  log: (line: string) => void): Promise<RunningExamples> {
  const admin = weir.admin()
  const existing = new Set((await admin.listTopics()).map(topic => topic.name))
  const missing = [...ordersProjectionTopics(PARTITIONS), ...inventoryTopics(PARTITIONS)]
    .filter(request => !existing.has(request.topic))
  if (missing.length > 0) await admin.createTopics(missing)
  const stateDir = join(dir, 'streams')
  const apps: StreamsApp[] = []
  try {
    for (const topology of [ordersProjection(), inventory()]) {
      const app = await topology.start({ weir, stateDir, instanceId: INSTANCE_ID })
      app.done.catch((error: unknown) => {
        log(`example app ${topology.appId} stopped: ${failureLine(error)}`)
      })
      apps.push(app)
    }
  } catch (error) {
    await Promise.allSettled(apps.map(app => app.close()))
    throw error
  }
  const generator = await EventTrickle.start(weir)
  return {
    close: async () => {
      await generator.close()
      await Promise.allSettled(apps.map(app => app.close()))
    },
  }
}

/** Produces a few order and inventory events every tick; one tick's sends at a time. */
class EventTrickle {
  private tick = 0
  private sending: Promise<void> = Promise.resolve()
  private busy = false
  private readonly reservations: Array<{ orderId: string, sku: string, quantity: number }> = []
  private readonly cancel: () => void

  private constructor(private readonly producer: Producer, private readonly runId: number) {
    this.cancel = systemScheduler.every(TICK_MS, () => {
      if (this.busy) return
      this.busy = true
      this.sending = this.send().catch(() => undefined) // the producer retries; a lost tick is fine
        .finally(() => { this.busy = false })
    })
  }

  static async start(weir: Weir): Promise<EventTrickle> {
    // Events already in order-events: ids of this run start with it, so they never repeat.
    const [orders] = await weir.admin().describeTopics([orderEventsTopic])
    const runId = orders!.partitionStates.reduce((sum, state) => sum + state.highWatermark, 0)
    return new EventTrickle(weir.producer(), runId)
  }

  private async send(): Promise<void> {
    const tick = this.tick++
    const orders = generateOrderEvents({ orders: ORDERS_PER_TICK, customers: CUSTOMERS,
      seed: this.runId + tick, orderIdPrefix: `order-${this.runId}-${tick}-`,
      startAtMs: systemClock.nowMs() })
    const stock = this.inventoryEvents(tick)
    await Promise.all([
      this.producer.send({ topic: orderEventsTopic, messages: orders.map(event =>
        ({ key: event.orderId, value: JSON.stringify(event) })) }),
      this.producer.send({ topic: inventoryEventsTopic, messages: stock.map(event =>
        ({ key: event.sku, value: JSON.stringify(event) })) }),
    ])
  }

  private inventoryEvents(tick: number): InventoryEvent[] {
    const sku = (): string => `sku-${Math.floor(systemRandom() * SKUS)}`
    const quantity = (max: number): number => 1 + Math.floor(systemRandom() * max)
    const reserved = { type: 'Reserved' as const, sku: sku(),
      orderId: `inventory-order-${this.runId}-${tick}`, quantity: quantity(4) }
    const events: InventoryEvent[] = [
      { type: 'Restocked', sku: sku(), quantity: quantity(5) }, reserved]
    const earlier = this.reservations.length > 3 ? this.reservations.shift() : undefined
    if (earlier !== undefined) {
      events.push({ type: systemRandom() < 0.7 ? 'Fulfilled' : 'Released', ...earlier })
    }
    this.reservations.push({ orderId: reserved.orderId, sku: reserved.sku,
      quantity: reserved.quantity })
    if (this.reservations.length > OPEN_RESERVATIONS_MAX) this.reservations.shift()
    return events
  }

  async close(): Promise<void> {
    this.cancel()
    await this.sending
    await this.producer.close()
  }
}
