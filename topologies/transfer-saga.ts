/**
 * The money-transfer saga (issue 8, docs/event-sourcing.md "Sagas"): moves `amount` from one
 * account (accounts.ts) to another by commands to the account aggregate's single writer, and
 * reports each transfer's outcome once.
 *
 * Topics. In: `transfers` (`TransferRequested`, keyed by transferId) and `account-replies`
 * (the writer's replies, keyed by their request's `replyTo`, which the saga sets to the
 * transferId). Both are read by one task per partition, so they must be co-partitioned: same
 * partition count, same key. Out: `account-requests` (keyed by account id) and
 * `transfer-outcomes` (keyed by transferId: completed, failed or compensated, once).
 *
 * States (store `transfer-sagas`, one entry per transferId), and what moves them:
 *
 * | state | on | next | sends |
 * |---|---|---|---|
 * | requested | valid transfer | debiting | withdraw (debit) on `from` |
 * | requested | invalid transfer (amount, same account) | failed | outcome |
 * | debiting | debit appended, before the deadline | crediting | deposit (credit) on `to` |
 * | debiting | debit appended, deadline passed | refunding | refund on `from` |
 * | debiting | debit rejected (e.g. insufficient funds) | failed | outcome (nothing moved) |
 * | crediting | credit appended | completed | outcome |
 * | crediting | credit rejected (target closed) | refunding | refund on `from` |
 * | refunding | refund appended | compensated | outcome |
 *
 * 'requested' is never stored: a transfer's first step (read it, store 'debiting', write the
 * debit) is one transaction. Every step is one exactly-once transaction of the streams runtime
 * (read the input record, update the entry, write requests and outcome, commit the offset), so
 * a step is never half done and never done twice. A step replayed after an aborted transaction
 * writes the same request again with the same id (`<transferId>:debit`, `:credit`, `:refund`),
 * and the writer's recent-request check would answer it without applying it twice. A reply the
 * entry does not wait for (a repeated answer, another client's reply) is ignored.
 *
 * Timeout. A transfer has a deadline, `timeoutMs` of stream time after its request's timestamp
 * (stream time, not wall clock: a replay after a crash takes the same decision, and tests are
 * deterministic; the cost is that a partition with no new records does not advance time). Only
 * the debit is timed: a debit answered after the deadline is refunded instead of credited, so a
 * late transfer is compensated rather than completed. A sent credit is never timed out: the
 * writer answers every request exactly once, so waiting is safe, whereas a refund sent while a
 * credit is in flight would move the money twice (credited and refunded). Nothing is sent at
 * the deadline itself (the debit reply must come first either way: a refund before the debit is
 * decided could give back money never taken), so the deadline is checked when the debit reply
 * arrives, against the task's stream time; a punctuator would need to scan the store and
 * could do nothing more.
 *
 * Stream time counts every record of the task's partitions, replies to other clients on
 * `account-replies` too (their timestamps are the wall clock of their requests).
 *
 * Retention. An ended transfer's entry is what makes a repeated request for it a no-op; it is
 * kept `retentionMs` (default 7 days) of stream time after the transfer ended, then deleted
 * (`sagaRetention`, src/es/saga-retention.ts). A repeat arriving later starts the transfer
 * again with the same request ids, which the account writer still answers without applying
 * them while it remembers them (its last 32 requests per account).
 */
import { map } from 'rxjs'
import {
  aggregateTopics, type CreateTopicRequest, process, type ProcessorContext, type Reply,
  repliesTopic, type Request, requestsTopic, sagaRetention, topology, type Topology,
} from '../src/index.ts'
import { type AccountCommand, type AccountRejection, type AccountState, accountType } from
  './accounts.ts'

export const transfersTopic = 'transfers'
export const transferOutcomesTopic = 'transfer-outcomes'
export const accountRequestsTopic = requestsTopic(accountType)
export const accountRepliesTopic = repliesTopic(accountType)
export const transferSagasStore = 'transfer-sagas'
export const DEFAULT_TIMEOUT_MS = 60_000

export interface TransferRequested {
  readonly transferId: string
  readonly from: string
  readonly to: string
  /** A positive integer (cents). */
  readonly amount: number
}

export type TransferStatus = 'debiting' | 'crediting' | 'refunding' | 'completed' | 'failed'
  | 'compensated'

export interface TransferSaga {
  readonly transfer: TransferRequested
  readonly status: TransferStatus
  /** The transfer record's timestamp; the debit's deadline is this + timeoutMs. */
  readonly requestedAtMs: number
  /** Why it failed or was compensated. */
  readonly reason?: string
  /** The stream time at which it ended (set with its outcome); it expires `retentionMs` later. */
  readonly endedAtMs?: number
}

export interface TransferOutcome {
  readonly transferId: string
  readonly from: string
  readonly to: string
  readonly amount: number
  readonly outcome: 'completed' | 'failed' | 'compensated'
  readonly reason?: string
}

type Step = 'debit' | 'credit' | 'refund'
type AccountReply = Reply<AccountState, AccountRejection>
type Input =
  | { readonly kind: 'transfer', readonly transfer: TransferRequested }
  | { readonly kind: 'reply', readonly reply: AccountReply }
type Output =
  | { readonly to: 'requests', readonly value: Request<AccountCommand, never> }
  | { readonly to: 'outcomes', readonly value: TransferOutcome }

/** The request id of a transfer's step: deterministic, so a replayed step repeats it. */
export const stepRequestId = (transferId: string, step: Step): string => `${transferId}:${step}`

/** The step a saga in `status` waits for the reply of. */
const awaited: Partial<Record<TransferStatus, Step>> = { debiting: 'debit',
  crediting: 'credit', refunding: 'refund' }

/** What a state change does: the next entry, a request to send, an outcome to report. */
export interface Transition {
  readonly next: TransferSaga
  readonly send?: Step
  readonly outcome?: TransferOutcome
}

function ended(saga: TransferSaga, outcome: TransferOutcome['outcome'], reason?: string):
Transition {
  const next = { ...saga, status: outcome, ...(reason === undefined ? {} : { reason }) }
  return { next, outcome: { ...saga.transfer, outcome,
    ...(reason === undefined ? {} : { reason }) } }
}

/** A transfer's first step: its saga, debiting, or failed at once if it is invalid. */
export function start(transfer: TransferRequested, requestedAtMs: number): Transition {
  const saga: TransferSaga = { transfer, status: 'debiting', requestedAtMs }
  const { from, to, amount } = transfer
  const valid = typeof from === 'string' && typeof to === 'string' && from !== '' && to !== ''
    && from !== to && Number.isSafeInteger(amount) && amount > 0
  if (!valid) return ended(saga, 'failed', 'invalid-transfer')
  return { next: saga, send: 'debit' }
}

/**
 * The table above for a reply to the step `saga` waits for; `streamTimeMs` is the task's
 * stream time, for the debit's deadline.
 * @throws if a refund is rejected: the account's rules make that impossible (a bug)
 */
export function advance(saga: TransferSaga, reply: AccountReply, options: {
  streamTimeMs: number, timeoutMs: number }): Transition {
  const { outcome } = reply
  const rejection = outcome.kind === 'rejected' ? String(outcome.rejection) : undefined
  if (outcome.kind !== 'appended' && rejection === undefined) {
    throw new Error(`unexpected outcome ${outcome.kind} for ${reply.requestId}`)
  }
  switch (saga.status) {
    case 'debiting':
      if (rejection !== undefined) return ended(saga, 'failed', rejection)
      if (options.streamTimeMs >= saga.requestedAtMs + options.timeoutMs) {
        return { next: { ...saga, status: 'refunding', reason: 'timed-out' }, send: 'refund' }
      }
      return { next: { ...saga, status: 'crediting' }, send: 'credit' }
    case 'crediting':
      if (rejection === undefined) return ended(saga, 'completed')
      return { next: { ...saga, status: 'refunding', reason: rejection }, send: 'refund' }
    case 'refunding':
      if (rejection !== undefined) {
        throw new Error(`refund ${reply.requestId} was rejected (${rejection}): money is stuck`)
      }
      return ended(saga, 'compensated', saga.reason)
    default:
      throw new Error(`transfer ${saga.transfer.transferId} is ${saga.status}: no reply awaited`)
  }
}

/** The request of a step, and the account it goes to. */
export function stepRequest(transfer: TransferRequested, step: Step):
{ account: string, request: Request<AccountCommand, never> } {
  const { transferId, from, to, amount } = transfer
  const command: AccountCommand = step === 'debit' ? { type: 'withdraw', amount, transferId }
    : step === 'credit' ? { type: 'deposit', amount, transferId }
      : { type: 'refund', amount, transferId }
  return { account: step === 'credit' ? to : from, request: { requestId:
    stepRequestId(transferId, step), replyTo: transferId, expectedVersion: 'any',
  body: { kind: 'command', command } } }
}

/** Stores the transition's entry and forwards its request and outcome. */
function apply(transition: Transition, context: ProcessorContext<Output>): void {
  const { transferId } = transition.next.transfer
  const endedAtMs = Math.max(context.streamTimeMs, context.record.timestamp)
  context.store<string, TransferSaga>(transferSagasStore).put(transferId,
    transition.outcome === undefined ? transition.next : { ...transition.next, endedAtMs })
  if (transition.send !== undefined) {
    const { account, request } = stepRequest(transition.next.transfer, transition.send)
    context.forward({ to: 'requests', value: request }, { key: account })
  }
  if (transition.outcome !== undefined) {
    context.forward({ to: 'outcomes', value: transition.outcome }, { key: transferId })
  }
}

function onInput(input: Input, context: ProcessorContext<Output>, timeoutMs: number): void {
  const key = context.record.key as string
  const saga = context.store<string, TransferSaga>(transferSagasStore).get(key)
  if (input.kind === 'transfer') {
    if (input.transfer.transferId !== key) {
      throw new Error(`${transfersTopic} must be keyed by transferId: record key ${key} `
        + `carries transfer ${input.transfer.transferId}`)
    }
    // A repeated transfer request: its saga has started already.
    if (saga !== undefined) return
    apply(start(input.transfer, context.record.timestamp), context)
    return
  }
  const step = saga === undefined ? undefined : awaited[saga.status]
  // Another client's reply, a repeated answer or one to a step already done: not awaited.
  if (saga === undefined || step === undefined
    || input.reply.requestId !== stepRequestId(key, step)) return
  apply(advance(saga, input.reply, { streamTimeMs: context.streamTimeMs, timeoutMs }), context)
}

/**
 * The saga's topology (app `transfer-saga`); the account writer
 * (`aggregateTopology(accounts())`) must run too.
 * @example
 * await weir.admin().createTopics(transferSagaTopics(3))
 * const writer = await aggregateTopology(accounts()).start({ weir, stateDir: './writer' })
 * const saga = await transferSaga().start({ weir, stateDir: './saga' })
 */
export function transferSaga(options: { appId?: string, timeoutMs?: number,
  retentionMs?: number } = {}): Topology {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const t = topology(options.appId ?? 'transfer-saga')
  const transfers = t.stream<TransferRequested>(transfersTopic)
    .pipe(map((transfer): Input => ({ kind: 'transfer', transfer })))
  const replies = t.stream<AccountReply>(accountRepliesTopic)
    .pipe(map((reply): Input => ({ kind: 'reply', reply })))
  const outputs = transfers.merge(replies).pipe(process<Input, Output>({
    process: (input, context) => onInput(input, context, timeoutMs),
  }, { stores: [{ store: transferSagasStore, expiry: sagaRetention(options.retentionMs) }] }))
  const [requests, outcomes] = outputs.branch(output => output.to === 'requests')
  requests!.pipe(map(output => output.value)).to(accountRequestsTopic)
  outcomes!.pipe(map(output => output.value)).to(transferOutcomesTopic)
  return t
}

/**
 * Every topic of the saga and the account writer: one partition count for all, so `transfers`
 * and `account-replies` are co-partitioned.
 */
export function transferSagaTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: transfersTopic, partitions }, { topic: transferOutcomesTopic, partitions },
    ...aggregateTopics(accountType, partitions)]
}

