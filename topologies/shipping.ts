/**
 * The shipping aggregate (docs/event-sourcing.md), one per region (the aggregate id): the last
 * step of the order-fulfilment saga (order-fulfilment-saga.ts). Its rules, all in `decide`, so
 * the single writer (`aggregateTopology(shipping())`, app `shipping-aggregate`) enforces them
 * one request at a time:
 * - `suspend` / `resume` stop and restart shipping to the region (a repeat is a no-op).
 * - `ship(orderId)` is rejected 'region-suspended' while the region is suspended: the saga has
 *   reserved and charged by then, so it must refund and release (a lever tests use to reach the
 *   longest compensation). An order ships at most once: a repeated ship of an order the region
 *   has shipped is a no-op.
 *
 * Left out: the shipped order ids are never pruned, so a region's state grows with its orders.
 */
import { type Aggregate, defineAggregate, reject } from '../src/index.ts'

/** The aggregate type: topics `shipping-events`, `shipping-requests`, ... */
export const shippingType = 'shipping'

export interface RegionState {
  readonly suspended: boolean
  /** The orders shipped to the region. */
  readonly shipped: Readonly<Record<string, true>>
}

export type ShippingCommand =
  | { readonly type: 'suspend' }
  | { readonly type: 'resume' }
  | { readonly type: 'ship', readonly orderId: string }

export type ShippingEvent =
  | { readonly type: 'suspended' }
  | { readonly type: 'resumed' }
  | { readonly type: 'shipped', readonly orderId: string }

export type ShippingRejection = 'region-suspended'

export type Shipping = Aggregate<RegionState, ShippingCommand, ShippingEvent, ShippingRejection>

function evolve(state: RegionState, event: ShippingEvent): RegionState {
  if (event.type === 'shipped') {
    return { ...state, shipped: { ...state.shipped, [event.orderId]: true } }
  }
  return { ...state, suspended: event.type === 'suspended' }
}

function decide(state: RegionState, command: ShippingCommand) {
  if (command.type === 'suspend') return state.suspended ? [] : [{ type: 'suspended' as const }]
  if (command.type === 'resume') return state.suspended ? [{ type: 'resumed' as const }] : []
  // Object.hasOwn: an order id like 'constructor' must not find Object.prototype's.
  if (Object.hasOwn(state.shipped, command.orderId)) return []
  if (state.suspended) return reject('region-suspended' as const)
  return [{ type: 'shipped' as const, orderId: command.orderId }]
}

/** The shipping aggregate; `snapshotEvery` as in defineAggregate (default 100). */
export function shipping(snapshotEvery?: number): Shipping {
  return defineAggregate<RegionState, ShippingCommand, ShippingEvent, ShippingRejection>({
    type: shippingType,
    initial: () => ({ suspended: false, shipped: {} }),
    evolve,
    decide,
    ...(snapshotEvery === undefined ? {} : { snapshotEvery }),
  })
}
