/**
 * The pending-transfer saga's state machine (the table in pending-transfer-saga.ts), as pure
 * functions of an entry: what each input does to it, which account request it sends, and the
 * outcome it reports. The topology around it stores entries and forwards requests.
 */
import type { Reply } from '../src/index.ts'
import type { AccountRejection, AccountState } from './accounts.ts'
import type { TransferRequested } from './transfer-saga.ts'

export type PendingStatus = 'debiting' | 'awaiting' | 'crediting' | 'refunding' | 'completed'
  | 'declined' | 'expired' | 'compensated' | 'failed'

/** What decided the transfer: the recipient, or the clock. */
export type Decision = 'accepted' | 'declined' | 'expired'

export interface PendingTransfer {
  readonly transfer: TransferRequested
  readonly status: PendingStatus
  /** The transfer's timestamp + acceptWithinMs. */
  readonly deadlineMs: number
  /** The first decision; kept while the debit is in flight. */
  readonly decision?: Decision
  /** Why it was refunded or failed. */
  readonly reason?: string
  /** The stream time at which it ended; it expires `retentionMs` later. */
  readonly endedAtMs?: number
}

type Step = 'debit' | 'credit' | 'refund'
type Ended = 'completed' | 'declined' | 'expired' | 'compensated' | 'failed'

export interface Transition {
  readonly next: PendingTransfer
  readonly send?: Step
  readonly outcome?: Ended
}

const awaited: Partial<Record<PendingStatus, Step>> = { debiting: 'debit',
  crediting: 'credit', refunding: 'refund' }

function ended(saga: PendingTransfer, outcome: Ended, reason?: string): Transition {
  return { next: { ...saga, status: outcome, ...(reason === undefined ? {} : { reason }) },
    outcome }
}

/** A transfer's first step: debiting, or failed at once if it is invalid. */
export function start(transfer: TransferRequested, deadlineMs: number): Transition {
  const saga: PendingTransfer = { transfer, status: 'debiting', deadlineMs }
  const { from, to, amount } = transfer
  const valid = typeof from === 'string' && typeof to === 'string' && from !== '' && to !== ''
    && from !== to && Number.isSafeInteger(amount) && amount > 0
  return valid ? { next: saga, send: 'debit' } : ended(saga, 'failed', 'invalid-transfer')
}

/** Once the debit is appended: credit on an accept, refund on a decline or expiry. */
function act(saga: PendingTransfer, decision: Decision): Transition {
  if (decision === 'accepted') return { next: { ...saga, status: 'crediting' }, send: 'credit' }
  return { next: { ...saga, status: 'refunding', reason: decision }, send: 'refund' }
}

/**
 * A decision (the recipient's, or the expiry's): acted on once the debit is appended, kept
 * until then; none when the transfer has a decision already or is past waiting for one.
 */
export function decide(saga: PendingTransfer, decision: Decision): Transition | undefined {
  if (saga.decision !== undefined) return undefined
  if (saga.status === 'debiting') return { next: { ...saga, decision } }
  if (saga.status === 'awaiting') return act({ ...saga, decision }, decision)
  return undefined
}

/**
 * The account writer's reply to `requestId` (without the saga's prefix); none when it is not
 * the reply the entry waits for (a repeated answer, a step already done).
 * @throws if a refund is rejected: the account's rules make that impossible (a bug)
 */
export function onReply(saga: PendingTransfer, reply: Reply<AccountState, AccountRejection>,
  requestId: string): Transition | undefined {
  const step = awaited[saga.status]
  if (step === undefined || requestId !== `${saga.transfer.transferId}:${step}`) return undefined
  const { outcome } = reply
  const rejection = outcome.kind === 'rejected' ? String(outcome.rejection) : undefined
  if (outcome.kind !== 'appended' && rejection === undefined) {
    throw new Error(`unexpected outcome ${outcome.kind} for ${reply.requestId}`)
  }
  switch (step) {
    case 'debit':
      if (rejection !== undefined) return ended(saga, 'failed', rejection)
      return saga.decision === undefined ? { next: { ...saga, status: 'awaiting' } }
        : act(saga, saga.decision)
    case 'credit':
      if (rejection === undefined) return ended(saga, 'completed')
      return { next: { ...saga, status: 'refunding', reason: rejection }, send: 'refund' }
    case 'refund':
      if (rejection !== undefined) {
        throw new Error(`refund ${reply.requestId} was rejected (${rejection}): money is stuck`)
      }
      return ended(saga, saga.reason === 'declined' || saga.reason === 'expired'
        ? saga.reason : 'compensated', saga.reason)
  }
}
