/**
 * The pending-transfer saga (issue 8, docs/event-sourcing.md "Sagas"): a transfer the recipient
 * must accept, like an e-mail money transfer. The money leaves the sender at once; the recipient
 * accepts (the money is credited) or declines (it goes back to the sender); a transfer still
 * undecided `acceptWithinMs` after it was requested expires and goes back too. The expiry is
 * a wall-clock punctuator's: it fires with no record arriving, which is the point of a timeout
 * that waits for a person rather than for an aggregate's writer (which always answers, see
 * transfer-saga.ts).
 *
 * Topics. In: `pending-transfers` (`TransferRequested`, keyed by transferId),
 * `transfer-decisions` (`TransferDecision`, keyed by transferId) and `account-replies` (keyed
 * by the request's `replyTo`, the transferId). All three are read by one task per partition,
 * so they must be co-partitioned. Out: `account-requests` (keyed by account id) and
 * `pending-transfer-outcomes` (keyed by transferId: completed, declined, expired, compensated
 * or failed, once).
 *
 * States (store `pending-transfer-sagas`, one entry per transferId):
 *
 * | state | on | next | sends |
 * |---|---|---|---|
 * | requested | valid transfer | debiting | withdraw (debit) on `from` |
 * | requested | invalid transfer | failed | outcome |
 * | debiting | accept, decline or expiry | debiting, the decision kept | — |
 * | debiting | debit rejected | failed | outcome (nothing moved) |
 * | debiting | debit appended, no decision yet | awaiting | — |
 * | debiting / awaiting | debit appended and accepted | crediting | deposit (credit) on `to` |
 * | debiting / awaiting | debit appended and declined or expired | refunding | refund on `from` |
 * | crediting | credit appended | completed | outcome |
 * | crediting | credit rejected (target closed) | refunding | refund on `from` |
 * | refunding | refund appended | declined, expired or compensated | outcome |
 *
 * The first decision wins: an accept after the expiry fired, or a second answer, is ignored, and
 * so is a record that is neither `accept` nor `decline` (anyone can write the topic). An
 * accept whose record timestamp is past the deadline counts as the expiry. A decision that
 * comes while the debit is still in flight is kept until the debit's reply: a refund before the
 * debit is decided could give back money never taken.
 *
 * The deadline is the transfer record's timestamp + `acceptWithinMs`, compared with the wall
 * clock of the task's host, so the clocks of the producers and the app must roughly agree.
 * Deadlines sit in buckets of `checkEveryMs` in a second store (`pending-transfer-deadlines`,
 * keys `bucket:<n>` and `cursor`); the punctuator, every `checkEveryMs` of wall clock, expires
 * the transfers of every bucket it has passed and moves its cursor, all in the task's
 * transaction. A task that was down catches up on its first punctuation.
 *
 * Every step is one exactly-once transaction, request ids are `pending:<transferId>:<step>`
 * (so a replayed step repeats its id, which the account writer answers without applying it
 * twice), and ended entries expire after `retentionMs` of stream time (`sagaRetention`).
 */
import { map } from 'rxjs'
import {
  aggregateTopics, type CreateTopicRequest, process, type ProcessorContext, type Reply,
  type Request, sagaRetention, topology, type Topology,
} from '../src/index.ts'
import {
  type AccountCommand, type AccountRejection, type AccountState, accountType,
} from './accounts.ts'
import {
  accountRepliesTopic, accountRequestsTopic, stepRequest, type TransferRequested,
} from './transfer-saga.ts'
import {
  decide, type Decision, onReply, type PendingTransfer, start, type Transition,
} from './pending-transfer-steps.ts'

export const pendingTransfersTopic = 'pending-transfers'
export const transferDecisionsTopic = 'transfer-decisions'
export const pendingOutcomesTopic = 'pending-transfer-outcomes'
export const pendingSagasStore = 'pending-transfer-sagas'
export const pendingDeadlinesStore = 'pending-transfer-deadlines'
/**
 * What the saga puts before transfer-saga.ts's step request ids, so the two sagas never share
 * one (the account writer would answer the second as a repeat of the first).
 */
const REQUEST_ID_PREFIX = 'pending:'

/** The recipient's answer, keyed by transferId on `transfer-decisions`. */
export interface TransferDecision {
  readonly transferId: string
  readonly decision: 'accept' | 'decline'
}

export interface PendingTransferOptions {
  readonly appId?: string
  /** How long the recipient has to accept, ms from the transfer's timestamp; default 1 day. */
  readonly acceptWithinMs?: number
  /** How often (wall clock) expired transfers are looked for; default 1000 ms. */
  readonly checkEveryMs?: number
  /** How long an ended transfer's entry is kept (stream time); default 7 days. */
  readonly retentionMs?: number
}

type AccountReply = Reply<AccountState, AccountRejection>
type Input =
  | { readonly kind: 'transfer', readonly transfer: TransferRequested }
  | { readonly kind: 'decision', readonly decision: TransferDecision }
  | { readonly kind: 'reply', readonly reply: AccountReply }
type Output =
  | { readonly to: 'requests', readonly value: Request<AccountCommand, never> }
  | { readonly to: 'outcomes', readonly value: PendingTransferOutcome }

export interface PendingTransferOutcome {
  readonly transferId: string
  readonly from: string
  readonly to: string
  readonly amount: number
  readonly outcome: 'completed' | 'declined' | 'expired' | 'compensated' | 'failed'
  readonly reason?: string
}

/** Stores the transition's entry and forwards its request and outcome. */
function apply(transition: Transition, context: ProcessorContext<Output>): void {
  const { next, send, outcome } = transition
  const { transferId } = next.transfer
  const endedAtMs = Math.max(context.streamTimeMs, context.record.timestamp)
  context.store<string, PendingTransfer>(pendingSagasStore).put(transferId,
    outcome === undefined ? next : { ...next, endedAtMs })
  if (send !== undefined) {
    const { account, request } = stepRequest(next.transfer, send)
    context.forward({ to: 'requests', value: { ...request,
      requestId: REQUEST_ID_PREFIX + request.requestId } }, { key: account })
  }
  if (outcome !== undefined) {
    context.forward({ to: 'outcomes', value: { ...next.transfer, outcome,
      ...(next.reason === undefined ? {} : { reason: next.reason }) } }, { key: transferId })
  }
}

/** The deadline buckets: `bucket:<n>` holds the transfers due by n × checkEveryMs. */
class Deadlines {
  constructor(private readonly context: ProcessorContext<Output>,
    private readonly checkEveryMs: number) {}

  private get store() {
    return this.context.store<string, string[] | number>(pendingDeadlinesStore)
  }

  /**
   * Files a transfer under its deadline's bucket (the next one if that is passed). The first
   * one starts the cursor at the transfer's own time, `requestedAtMs`.
   */
  add(transferId: string, deadlineMs: number, requestedAtMs: number): void {
    let cursor = this.store.get('cursor') as number | undefined
    if (cursor === undefined) {
      cursor = Math.floor(requestedAtMs / this.checkEveryMs) - 1
      this.store.put('cursor', cursor)
    }
    const bucket = Math.max(Math.ceil(deadlineMs / this.checkEveryMs), cursor + 1)
    const key = `bucket:${bucket}`
    this.store.put(key, [...(this.store.get(key) as string[] | undefined) ?? [], transferId])
  }

  /** Takes out the transfers of every bucket due by `nowMs`. */
  due(nowMs: number): string[] {
    const last = Math.floor(nowMs / this.checkEveryMs)
    const cursor = this.store.get('cursor') as number | undefined
    if (cursor === undefined || cursor >= last) return []
    const due: string[] = []
    for (let bucket = cursor + 1; bucket <= last; bucket++) {
      const ids = this.store.get(`bucket:${bucket}`) as string[] | undefined
      if (ids === undefined) continue
      due.push(...ids)
      this.store.delete(`bucket:${bucket}`)
    }
    this.store.put('cursor', last)
    return due
  }
}

function onInput(input: Input, context: ProcessorContext<Output>,
  options: Required<PendingTransferOptions>): void {
  const key = context.record.key as string
  const saga = context.store<string, PendingTransfer>(pendingSagasStore).get(key)
  if (input.kind === 'transfer') {
    if (input.transfer.transferId !== key) {
      throw new Error(`${pendingTransfersTopic} must be keyed by transferId: record key ${key} `
        + `carries transfer ${input.transfer.transferId}`)
    }
    if (saga !== undefined) return // a repeated request: its saga has started already
    const transition = start(input.transfer, context.record.timestamp + options.acceptWithinMs)
    if (transition.send !== undefined) {
      new Deadlines(context, options.checkEveryMs).add(key, transition.next.deadlineMs,
        context.record.timestamp)
    }
    apply(transition, context)
    return
  }
  if (saga === undefined) return // a decision or reply for no transfer of this saga
  if (input.kind === 'decision') {
    const answer = input.decision.decision
    // Anyone can write the topic: what is neither answer decides nothing.
    if (answer !== 'accept' && answer !== 'decline') return
    const late = context.record.timestamp > saga.deadlineMs
    const decision: Decision = late ? 'expired' : answer === 'accept' ? 'accepted' : 'declined'
    const transition = decide(saga, decision)
    if (transition !== undefined) apply(transition, context)
    return
  }
  const { requestId } = input.reply
  if (requestId.startsWith(REQUEST_ID_PREFIX)) {
    const transition = onReply(saga, input.reply, requestId.slice(REQUEST_ID_PREFIX.length))
    if (transition !== undefined) apply(transition, context)
  }
}

/** The wall-clock punctuation: every transfer due by `nowMs` and still undecided expires. */
function onPunctuation(nowMs: number, context: ProcessorContext<Output>, checkEveryMs: number):
void {
  const sagas = context.store<string, PendingTransfer>(pendingSagasStore)
  for (const transferId of new Deadlines(context, checkEveryMs).due(nowMs)) {
    const saga = sagas.get(transferId)
    if (saga === undefined || saga.deadlineMs > nowMs) continue
    const transition = decide(saga, 'expired')
    if (transition !== undefined) apply(transition, context)
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`pendingTransferSaga: ${name} must be a positive integer (ms), got `
      + `${value}`)
  }
  return value
}

/**
 * The saga's topology (app `pending-transfer-saga`); the account writer
 * (`aggregateTopology(accounts())`) must run too.
 * @example
 * await weir.admin().createTopics(pendingTransferSagaTopics(3))
 * const saga = await pendingTransferSaga({ acceptWithinMs: 3_600_000 }).start({ weir })
 */
export function pendingTransferSaga(options: PendingTransferOptions = {}): Topology {
  const settings: Required<PendingTransferOptions> = {
    appId: options.appId ?? 'pending-transfer-saga',
    acceptWithinMs: positive('acceptWithinMs', options.acceptWithinMs ?? 24 * 3_600_000),
    checkEveryMs: positive('checkEveryMs', options.checkEveryMs ?? 1000),
    retentionMs: options.retentionMs ?? 7 * 24 * 3_600_000,
  }
  const t = topology(settings.appId)
  const inputs = t.stream<TransferRequested>(pendingTransfersTopic)
    .pipe(map((transfer): Input => ({ kind: 'transfer', transfer })))
    .merge(t.stream<TransferDecision>(transferDecisionsTopic)
      .pipe(map((decision): Input => ({ kind: 'decision', decision }))))
    .merge(t.stream<AccountReply>(accountRepliesTopic)
      .pipe(map((reply): Input => ({ kind: 'reply', reply }))))
  const outputs = inputs.pipe(process<Input, Output>({
    init: context => {
      context.schedule(settings.checkEveryMs, 'wall-clock',
        now => onPunctuation(now, context, settings.checkEveryMs))
    },
    process: (input, context) => onInput(input, context, settings),
  }, { stores: [{ store: pendingSagasStore, expiry: sagaRetention(settings.retentionMs) },
    { store: pendingDeadlinesStore }] }))
  const [requests, outcomes] = outputs.branch(output => output.to === 'requests')
  requests!.pipe(map(output => output.value)).to(accountRequestsTopic)
  outcomes!.pipe(map(output => output.value)).to(pendingOutcomesTopic)
  return t
}

/** Every topic of the saga and the account writer, one partition count for all. */
export function pendingTransferSagaTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: pendingTransfersTopic, partitions }, { topic: transferDecisionsTopic,
    partitions }, { topic: pendingOutcomesTopic, partitions },
  ...aggregateTopics(accountType, partitions)]
}
