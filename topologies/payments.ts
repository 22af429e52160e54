/**
 * The payment aggregate (docs/event-sourcing.md): a customer's prepaid wallet, one per customer
 * id (the aggregate id), which the order-fulfilment saga (order-fulfilment-saga.ts) charges and
 * refunds. Its rules, all in `decide`, so the single writer (`aggregateTopology(payments())`,
 * app `payment-aggregate`) enforces them one request at a time:
 * - Amounts are positive integers (cents); anything else is rejected 'invalid-amount'.
 * - `topUp(amount)` adds to the balance.
 * - `charge(orderId, amount)` takes `amount` for the order; beyond the balance it is rejected
 *   'payment-declined', so the balance never goes below 0. An order is charged at most once: a
 *   repeated charge of an order the wallet knows is a no-op (the order id is an idempotency
 *   key even beyond the writer's window of recent request ids).
 * - `refund(orderId)` gives the order's charge back. It is never refused (a no-op when nothing
 *   is charged): it is a compensation, and a refusable refund could keep a customer's money for
 *   an order that was never shipped.
 * So balance = topped up − charged + refunded ≥ 0.
 *
 * Left out: the per-order charges are never pruned, so a wallet's state grows with its orders.
 */
import { type Aggregate, defineAggregate, reject } from '../src/index.ts'

/** The aggregate type: topics `payment-events`, `payment-requests`, `payment-replies`, ... */
export const paymentType = 'payment'

export interface WalletState {
  readonly balance: number
  /** What each order known to the wallet was charged, 0 once refunded. */
  readonly charges: Readonly<Record<string, number>>
}

export type PaymentCommand =
  | { readonly type: 'topUp', readonly amount: number }
  | { readonly type: 'charge', readonly orderId: string, readonly amount: number }
  | { readonly type: 'refund', readonly orderId: string }

export type PaymentEvent =
  | { readonly type: 'topped-up', readonly amount: number }
  | { readonly type: 'charged', readonly orderId: string, readonly amount: number }
  | { readonly type: 'refunded', readonly orderId: string, readonly amount: number }

export type PaymentRejection = 'payment-declined' | 'invalid-amount'

export type Payments = Aggregate<WalletState, PaymentCommand, PaymentEvent, PaymentRejection>

/** What an event does to the balance. */
export function balanceChange(event: PaymentEvent): number {
  return event.type === 'charged' ? -event.amount : event.amount
}

const isAmount = (amount: number): boolean => Number.isSafeInteger(amount) && amount > 0

function evolve(state: WalletState, event: PaymentEvent): WalletState {
  const balance = state.balance + balanceChange(event)
  if (event.type === 'topped-up') return { ...state, balance }
  const charged = event.type === 'charged' ? event.amount : 0
  return { balance, charges: { ...state.charges, [event.orderId]: charged } }
}

function decide(state: WalletState, command: PaymentCommand) {
  if (command.type === 'refund') {
    // Object.hasOwn: an order id like 'constructor' must not find Object.prototype's.
    const charged = Object.hasOwn(state.charges, command.orderId)
      ? state.charges[command.orderId]! : 0
    return charged === 0 ? []
      : [{ type: 'refunded' as const, orderId: command.orderId, amount: charged }]
  }
  if (!isAmount(command.amount)) return reject('invalid-amount' as const)
  if (command.type === 'topUp') return [{ type: 'topped-up' as const, amount: command.amount }]
  if (Object.hasOwn(state.charges, command.orderId)) return []
  if (command.amount > state.balance) return reject('payment-declined' as const)
  return [{ type: 'charged' as const, orderId: command.orderId, amount: command.amount }]
}

/** The payment aggregate; `snapshotEvery` as in defineAggregate (default 100). */
export function payments(snapshotEvery?: number): Payments {
  return defineAggregate<WalletState, PaymentCommand, PaymentEvent, PaymentRejection>({
    type: paymentType,
    initial: () => ({ balance: 0, charges: {} }),
    evolve,
    decide,
    ...(snapshotEvery === undefined ? {} : { snapshotEvery }),
  })
}
