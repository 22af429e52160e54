/**
 * Inventory: stock levels per SKU, from inventory events keyed by sku on `inventory-events`, kept
 * in the store `stock-levels` and sent to the compacted topic `stock-levels` (the latest level
 * of every SKU survives compaction, so the topic is itself the table). Events the rules refuse
 * go to `reservation-rejections` with the reason, and change nothing.
 *
 * The rules (`applyInventoryEvent`), with `held` what an order holds reserved on the SKU:
 * - Restocked q: onHand += q.
 * - Reserved q: only if q ≤ available; reserved += q, held += q. Else 'insufficient-stock'.
 * - Released q (the order gives the stock back): only if q ≤ held; reserved -= q, held -= q.
 *   Else 'exceeds-reservation' (also for an order that never reserved, or was refused).
 * - Fulfilled q (the reserved stock leaves the warehouse): only if q ≤ held; onHand -= q,
 *   reserved -= q, held -= q. Else 'exceeds-reservation'.
 * - A quantity that is not a positive integer: 'invalid-quantity'.
 * So 0 ≤ reserved ≤ onHand, available = onHand − reserved, and reserved is the sum of the
 * orders' holds. The holds live in the store `reservations`, keyed by JSON `[sku, orderId]`;
 * both stores are keyed by the SKU's partition, so one task owns a SKU and everything about it.
 */
import { map } from 'rxjs'
import { type CreateTopicRequest, process, topology, type Topology } from '../src/index.ts'

export const inventoryEventsTopic = 'inventory-events'
export const stockLevelsTopic = 'stock-levels'
export const reservationRejectionsTopic = 'reservation-rejections'
export const stockLevelsStore = 'stock-levels'
export const reservationsStore = 'reservations'

export interface Restocked { readonly type: 'Restocked', readonly sku: string,
  readonly quantity: number }
export interface Reserved { readonly type: 'Reserved', readonly sku: string,
  readonly orderId: string, readonly quantity: number }
export interface Released { readonly type: 'Released', readonly sku: string,
  readonly orderId: string, readonly quantity: number }
export interface Fulfilled { readonly type: 'Fulfilled', readonly sku: string,
  readonly orderId: string, readonly quantity: number }

export type InventoryEvent = Restocked | Reserved | Released | Fulfilled

export interface StockLevel {
  readonly sku: string
  readonly onHand: number
  readonly reserved: number
  /** onHand − reserved: what can still be reserved. */
  readonly available: number
}

export type RejectionReason = 'insufficient-stock' | 'exceeds-reservation' | 'invalid-quantity'

export interface Rejection {
  readonly event: InventoryEvent
  readonly reason: RejectionReason
}

/** What one event does: the new level and the order's new hold, or a rejection. */
export type InventoryOutcome =
  | { readonly kind: 'applied', readonly level: StockLevel, readonly held: number }
  | { readonly kind: 'rejected', readonly rejection: Rejection }

export function emptyLevel(sku: string): StockLevel {
  return { sku, onHand: 0, reserved: 0, available: 0 }
}

function level(sku: string, onHand: number, reserved: number): StockLevel {
  return { sku, onHand, reserved, available: onHand - reserved }
}

/** The rules above, as a pure function of the current level and the order's hold. */
export function applyInventoryEvent(current: StockLevel, held: number, event: InventoryEvent):
InventoryOutcome {
  const reject = (reason: RejectionReason): InventoryOutcome =>
    ({ kind: 'rejected', rejection: { event, reason } })
  const q = event.quantity
  if (!Number.isSafeInteger(q) || q <= 0) return reject('invalid-quantity')
  const { sku, onHand, reserved } = current
  switch (event.type) {
    case 'Restocked':
      return { kind: 'applied', level: level(sku, onHand + q, reserved), held }
    case 'Reserved':
      if (q > current.available) return reject('insufficient-stock')
      return { kind: 'applied', level: level(sku, onHand, reserved + q), held: held + q }
    case 'Released':
      if (q > held) return reject('exceeds-reservation')
      return { kind: 'applied', level: level(sku, onHand, reserved - q), held: held - q }
    case 'Fulfilled':
      if (q > held) return reject('exceeds-reservation')
      return { kind: 'applied', level: level(sku, onHand - q, reserved - q), held: held - q }
  }
}

/** The key of an order's hold on a SKU in the store `reservations`. */
export function reservationKey(sku: string, orderId: string): string {
  return JSON.stringify([sku, orderId])
}

/**
 * The inventory topology.
 * @example
 * await weir.admin().createTopics(inventoryTopics(3))
 * const app = await inventory().start({ weir, stateDir: './state' })
 * await app.caughtUp()
 * await app.query<StockLevel>(stockLevelsStore).get('sku-1')
 */
export function inventory(appId = 'inventory'): Topology {
  const t = topology(appId)
  const outcomes = t.stream<InventoryEvent>(inventoryEventsTopic).pipe(
    process<InventoryEvent, InventoryOutcome>({
      process(event, context) {
        if (context.record.key !== event.sku) {
          throw new Error(`${inventoryEventsTopic} must be keyed by sku: record key `
            + `${String(context.record.key)} carries sku ${event.sku}`)
        }
        const levels = context.store<string, StockLevel>(stockLevelsStore)
        const holds = context.store<string, number>(reservationsStore)
        const holdKey = 'orderId' in event ? reservationKey(event.sku, event.orderId) : undefined
        const held = holdKey === undefined ? 0 : holds.get(holdKey) ?? 0
        const outcome = applyInventoryEvent(levels.get(event.sku) ?? emptyLevel(event.sku), held,
          event)
        if (outcome.kind === 'applied') {
          levels.put(event.sku, outcome.level)
          if (holdKey !== undefined && outcome.held === 0) holds.delete(holdKey)
          else if (holdKey !== undefined) holds.put(holdKey, outcome.held)
        }
        context.forward(outcome)
      },
    }, { stores: [{ store: stockLevelsStore }, { store: reservationsStore }] }))
  const [rejected, applied] = outcomes.branch(outcome => outcome.kind === 'rejected')
  rejected!.pipe(map(rejectionOf)).to(reservationRejectionsTopic)
  applied!.pipe(map(levelOf)).to(stockLevelsTopic)
  return t
}

function rejectionOf(outcome: InventoryOutcome): Rejection {
  if (outcome.kind !== 'rejected') throw new Error('branch 0 holds only rejections')
  return outcome.rejection
}

function levelOf(outcome: InventoryOutcome): StockLevel {
  if (outcome.kind !== 'applied') throw new Error('the default branch holds only applied events')
  return outcome.level
}

/** The topics the topology reads and writes; `stock-levels` is compacted. */
export function inventoryTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: inventoryEventsTopic, partitions },
    { topic: stockLevelsTopic, partitions, config: { cleanupPolicy: 'compact' } },
    { topic: reservationRejectionsTopic, partitions }]
}
