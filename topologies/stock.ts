/**
 * The stock aggregate (docs/event-sourcing.md), one per SKU (the aggregate id): what the
 * order-fulfilment saga (order-fulfilment-saga.ts) reserves and gives back. Its rules, all in
 * `decide`, so the single writer (`aggregateTopology(stock())`, app `stock-aggregate`) enforces
 * them one request at a time:
 * - `restock` adds a positive integer quantity; anything else is rejected 'invalid-amount'.
 * - `reserve(orderId, quantity)` takes `quantity` from the available stock and holds it for the
 *   order; beyond the available stock it is rejected 'insufficient-stock', so the available
 *   stock never goes below 0. An order reserves at most once: a repeated reserve of an order the
 *   SKU knows (held, or held and released) is a no-op, whatever its quantity, so the order id is
 *   an idempotency key even beyond the writer's window of recent request ids.
 * - `release(orderId)` gives the order's hold back to the available stock. It is never refused
 *   (a no-op when the order holds nothing): it is a compensation, and a refusable compensation
 *   could strand stock held by an order that was never fulfilled.
 * So available = restocked − reserved + released ≥ 0, and the holds sum to what is reserved and
 * not released (held by orders that went ahead). A hold is kept after the order completes: the
 * stock left with it (there is no separate fulfil step).
 *
 * Left out: the per-order holds are never pruned, so a SKU's state grows with its orders (as the
 * transfer saga's store does); pruning needs a retention for order ids, to come.
 *
 * Not `inventory.ts`: that one is a projection over `inventory-events` that refuses events
 * after the fact; this is an aggregate, which refuses commands before any event is written.
 */
import { type Aggregate, defineAggregate, reject } from '../src/index.ts'

/** The aggregate type: topics `stock-events`, `stock-requests`, `stock-replies`, ... */
export const stockType = 'stock'

export interface StockState {
  readonly available: number
  /** What each order known to the SKU holds: its quantity, 0 once released. */
  readonly holds: Readonly<Record<string, number>>
}

export type StockCommand =
  | { readonly type: 'restock', readonly quantity: number }
  | { readonly type: 'reserve', readonly orderId: string, readonly quantity: number }
  | { readonly type: 'release', readonly orderId: string }

export type StockEvent =
  | { readonly type: 'restocked', readonly quantity: number }
  | { readonly type: 'reserved', readonly orderId: string, readonly quantity: number }
  | { readonly type: 'released', readonly orderId: string, readonly quantity: number }

export type StockRejection = 'insufficient-stock' | 'invalid-amount'

export type Stock = Aggregate<StockState, StockCommand, StockEvent, StockRejection>

/** What an event does to the available stock. */
export function availableChange(event: StockEvent): number {
  return event.type === 'reserved' ? -event.quantity : event.quantity
}

const isQuantity = (quantity: number): boolean => Number.isSafeInteger(quantity) && quantity > 0

function evolve(state: StockState, event: StockEvent): StockState {
  const available = state.available + availableChange(event)
  if (event.type === 'restocked') return { ...state, available }
  const held = event.type === 'reserved' ? event.quantity : 0
  return { available, holds: { ...state.holds, [event.orderId]: held } }
}

function decide(state: StockState, command: StockCommand) {
  if (command.type === 'release') {
    // Object.hasOwn: an order id like 'constructor' must not find Object.prototype's.
    const held = Object.hasOwn(state.holds, command.orderId) ? state.holds[command.orderId]! : 0
    return held === 0 ? []
      : [{ type: 'released' as const, orderId: command.orderId, quantity: held }]
  }
  if (!isQuantity(command.quantity)) return reject('invalid-amount' as const)
  if (command.type === 'restock') {
    return [{ type: 'restocked' as const, quantity: command.quantity }]
  }
  if (Object.hasOwn(state.holds, command.orderId)) return []
  if (command.quantity > state.available) return reject('insufficient-stock' as const)
  return [{ type: 'reserved' as const, orderId: command.orderId, quantity: command.quantity }]
}

/** The stock aggregate; `snapshotEvery` as in defineAggregate (default 100). */
export function stock(snapshotEvery?: number): Stock {
  return defineAggregate<StockState, StockCommand, StockEvent, StockRejection>({
    type: stockType,
    initial: () => ({ available: 0, holds: {} }),
    evolve,
    decide,
    ...(snapshotEvery === undefined ? {} : { snapshotEvery }),
  })
}
