/**
 * The account aggregate (docs/event-sourcing.md), the one the money-transfer saga
 * (transfer-saga.ts) moves money between. Its rules, all in `decide`, so the single writer
 * (`aggregateTopology(accounts)`, app `account-aggregate`) enforces them one request at a time:
 * - `deposit` / `withdraw` move a positive integer amount (cents) and carry the transfer that
 *   asked for them, if any, into their event: a reader of `account-events` can tie every
 *   movement to its transfer.
 * - The balance never goes below 0: a withdrawal beyond it is rejected 'insufficient-funds'.
 * - `close` closes the account; a closed account rejects deposits and withdrawals
 *   ('account-closed'), so a transfer to it fails at the credit and must be compensated.
 * - `refund` gives back what a transfer took. It is a deposit that a closed account accepts
 *   too: a compensation must not be refusable, or money taken by a debit could be lost when the
 *   source account is closed before its refund arrives.
 */
import { type Aggregate, defineAggregate, reject } from '../src/index.ts'

export const accountType = 'account'

export interface AccountState {
  readonly balance: number
  readonly closed: boolean
}

export type AccountCommand =
  | { readonly type: 'deposit', readonly amount: number, readonly transferId?: string }
  | { readonly type: 'withdraw', readonly amount: number, readonly transferId?: string }
  | { readonly type: 'refund', readonly amount: number, readonly transferId: string }
  | { readonly type: 'close' }

export type AccountEvent =
  | { readonly type: 'deposited', readonly amount: number, readonly transferId?: string }
  | { readonly type: 'withdrawn', readonly amount: number, readonly transferId?: string }
  | { readonly type: 'closed' }

export type AccountRejection = 'insufficient-funds' | 'account-closed' | 'invalid-amount'

export type Accounts = Aggregate<AccountState, AccountCommand, AccountEvent, AccountRejection>

/** What an event does to the balance: + for deposits (refunds included), − for withdrawals. */
export function balanceChange(event: AccountEvent): number {
  if (event.type === 'deposited') return event.amount
  if (event.type === 'withdrawn') return -event.amount
  return 0
}

/** The movement a command causes, carrying its transfer id when it has one. */
function movement<T extends 'deposited' | 'withdrawn'>(type: T,
  command: { amount: number, transferId?: string }): AccountEvent {
  return command.transferId === undefined ? { type, amount: command.amount }
    : { type, amount: command.amount, transferId: command.transferId }
}

function decide(state: AccountState, command: AccountCommand) {
  if (command.type === 'close') return state.closed ? [] : [{ type: 'closed' as const }]
  if (!Number.isSafeInteger(command.amount) || command.amount <= 0) {
    return reject('invalid-amount' as const)
  }
  if (command.type === 'refund') return [movement('deposited', command)]
  if (state.closed) return reject('account-closed' as const)
  if (command.type === 'deposit') return [movement('deposited', command)]
  if (command.amount > state.balance) return reject('insufficient-funds' as const)
  return [movement('withdrawn', command)]
}

/** The account aggregate; `snapshotEvery` as in defineAggregate (default 100). */
export function accounts(snapshotEvery?: number): Accounts {
  return defineAggregate<AccountState, AccountCommand, AccountEvent, AccountRejection>({
    type: accountType,
    initial: () => ({ balance: 0, closed: false }),
    evolve: (state, event) => event.type === 'closed' ? { ...state, closed: true }
      : { ...state, balance: state.balance + balanceChange(event) },
    decide,
    ...(snapshotEvery === undefined ? {} : { snapshotEvery }),
  })
}
