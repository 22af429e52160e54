/**
 * The bank's read model of transfers (app `bank-transfer-status`, store `bank-transfers`): one
 * entry per transferId, 'pending' once its `TransferRequested` is read from `transfers`, then
 * how it ended once the saga's outcome is read from `transfer-outcomes`. A client polls it
 * (`GET /transfers/:id`) through `app.query`, the CQRS way: the saga writes, this reads.
 *
 * Both topics are keyed by transferId and created with one partition count
 * (`transferSagaTopics`), so a transfer's request and outcome reach the same task.
 *
 * Invariants: an ended entry never changes again (the saga reports each outcome once; a
 * repeated request, which the saga ignores, is ignored here too), and a pending entry keeps
 * the first request's fields, as the saga does.
 *
 * Deliberately left out: entries are kept forever (the saga forgets an ended transfer after
 * its retention, 7 days of stream time; a store expiry as in `sagaRetention` would do it here).
 */
import { map } from 'rxjs'
import { process, topology, type Topology } from '../../src/index.ts'
import {
  type TransferOutcome, transferOutcomesTopic, type TransferRequested, transfersTopic,
} from '../../topologies/transfer-saga.ts'

export const transferStatusAppId = 'bank-transfer-status'
export const transferStatusStore = 'bank-transfers'

export type TransferState = 'pending' | TransferOutcome['outcome']

/** What `GET /transfers/:id` answers. */
export interface TransferView {
  readonly transferId: string
  readonly from: string
  readonly to: string
  readonly amount: number
  readonly status: TransferState
  /** Why it failed or was compensated. */
  readonly reason?: string
}

type Input =
  | { readonly kind: 'requested', readonly transfer: TransferRequested }
  | { readonly kind: 'ended', readonly outcome: TransferOutcome }

/** The entry after `input`, or undefined when it changes nothing. Pure, for tests. */
export function applyTransferInput(current: TransferView | undefined, input: Input):
TransferView | undefined {
  if (current !== undefined && current.status !== 'pending') return undefined
  if (input.kind === 'requested') {
    if (current !== undefined) return undefined
    const { transferId, from, to, amount } = input.transfer
    return { transferId, from, to, amount, status: 'pending' }
  }
  const { transferId, from, to, amount, outcome, reason } = input.outcome
  return { transferId, from, to, amount, status: outcome,
    ...(reason === undefined ? {} : { reason }) }
}

/** The read model's topology; the store is the read model (it writes no topic). */
export function transferStatus(appId = transferStatusAppId): Topology {
  const t = topology(appId)
  const requested = t.stream<TransferRequested>(transfersTopic)
    .pipe(map((transfer): Input => ({ kind: 'requested', transfer })))
  const ended = t.stream<TransferOutcome>(transferOutcomesTopic)
    .pipe(map((outcome): Input => ({ kind: 'ended', outcome })))
  requested.merge(ended).pipe(process<Input, TransferView>({
    process(input, context) {
      const key = context.record.key
      // The saga refuses a transfer keyed by anything but its id; so does this read model.
      if (typeof key !== 'string') return
      const views = context.store<string, TransferView>(transferStatusStore)
      const next = applyTransferInput(views.get(key), input)
      if (next !== undefined && next.transferId === key) views.put(key, next)
    },
  }, { stores: [{ store: transferStatusStore }] }))
  return t
}
