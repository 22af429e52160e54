/**
 * Generated order events for the orders projection's example and the quickstart: `orders`
 * orders spread over `customers` customers, each placed, then shipped (half), cancelled (a fifth)
 * or left open, and a few events the lifecycle rejects (a shipment after a cancellation, a
 * cancellation after a shipment), in time order. The same seed gives the same events: a small
 * seeded generator (mulberry32) rather than `Math.random`, so a run can be repeated.
 */
import type { OrderEvent } from './orders-projection.ts'

export interface OrderGeneratorOptions {
  readonly orders: number
  readonly customers: number
  readonly seed: number
  /** Prefix of the generated orderIds, so several runs can add distinct orders. */
  readonly orderIdPrefix?: string
  /** Placement time of the first order (epoch ms); one order per second after it. */
  readonly startAtMs?: number
}

/** mulberry32: a 32-bit seeded generator of numbers in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function generateOrderEvents(options: OrderGeneratorOptions): OrderEvent[] {
  if (!Number.isSafeInteger(options.orders) || options.orders < 0
    || !Number.isSafeInteger(options.customers) || options.customers < 1) {
    throw new RangeError('orders must be ≥ 0 and customers ≥ 1 (integers)')
  }
  const random = seededRandom(options.seed)
  const startAt = options.startAtMs ?? Date.UTC(2025, 0, 1)
  const prefix = options.orderIdPrefix ?? 'order-'
  const events: OrderEvent[] = []
  for (let i = 0; i < options.orders; i++) {
    const orderId = `${prefix}${i}`
    const at = startAt + i * 1000
    events.push({ type: 'OrderPlaced', orderId, at, total: 100 + Math.floor(random() * 49_900),
      customerId: `customer-${Math.floor(random() * options.customers)}` })
    const fate = random()
    const laterAt = at + 1 + Math.floor(random() * 30_000)
    if (fate < 0.5) events.push({ type: 'OrderShipped', orderId, at: laterAt })
    else if (fate < 0.7) events.push({ type: 'OrderCancelled', orderId, at: laterAt })
    if (fate < 0.7 && random() < 0.1) {
      // Rejected by the lifecycle: a shipped or cancelled order stays so.
      events.push({ type: fate < 0.5 ? 'OrderCancelled' : 'OrderShipped', orderId,
        at: laterAt + 1 })
    }
  }
  // Stable: an order's events keep their order (each is later than the one before).
  return events.sort((a, b) => a.at - b.at)
}
