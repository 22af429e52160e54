/**
 * The records a consumer may see in fetched bytes (Kafka's CompletedFetch.nextFetchedBatch with
 * KIP-98's read_committed rules). Owns no state between calls: the fetcher hands it one
 * partition's bytes, the aborted transactions the broker listed for them and the fetch position.
 *
 * Input: whole stored batches back to back (FetchResult.bytes); under read_committed the broker
 * returns only batches below the last stable offset, so every transaction in them is decided, and
 * lists each aborted transaction that overlaps them as `{ producerId, firstOffset }`.
 *
 * The walk, in offset order, with the aborted transactions sorted by `firstOffset`:
 *   - a batch whose last offset reaches the `firstOffset` of the next listed transaction makes that
 *     transaction's producer "aborted" (Kafka compares with the batch's last offset, so a listed
 *     `firstOffset` inside a batch, which compaction can leave, still counts);
 *   - a transactional data batch of an aborted producer is skipped;
 *   - an ABORT control batch of an aborted producer ends its aborted transaction (removes it);
 *   - control batches (commit and abort markers) are never delivered;
 *   - everything else is delivered: non-transactional batches (even of an aborted producer id,
 *     they belong to no transaction) and transactional batches of committed transactions;
 *   - records before `fromOffset` are dropped (the first batch may start before the position).
 * With no aborted transactions this is exactly read_uncommitted: every data record from the
 * position on, markers dropped, so the fetcher uses it for both isolation levels.
 *
 * Invariants: delivered offsets strictly increase and are ≥ `fromOffset` (asserted).
 *
 * Deliberately not done: checking the broker's list (a transaction listed whose abort marker lies
 * before the bytes would hide that producer's later committed data; Kafka's broker lists only
 * transactions ending at or after the fetch offset, and Weir's must too), and copying keys and
 * values (they stay views into `bytes`, as `decodeRecords` documents).
 *
 * Allocation: no per-record object beyond what `decodeRecords` makes; the aborted list is copied
 * only when it arrives unsorted, and the aborted-producer set exists only when a listed
 * transaction is reached. Records are passed to a callback rather than collected, so the fetcher
 * builds its own record objects once.
 */
import type { AbortedTransaction } from '../broker/fetch.ts'
import { decodeControlRecord } from '../log/control-record.ts'
import {
  decodeRecords, forEachBatch, isControl, isTransactional, lastOffsetOf, type LogRecord,
  readBatchHeader,
} from '../log/record-batch.ts'
import { assert } from '../util/assert.ts'

export interface AbortedTransactionFilterOptions {
  /** Aborted transactions overlapping the bytes (FetchResult.abortedTransactions), any order. */
  readonly abortedTransactions: readonly AbortedTransaction[]
  /** The fetch position: records before it are not delivered. */
  readonly fromOffset: number
}

/**
 * Calls `visit` with each record of `bytes` a read_committed consumer may see, in offset order.
 *
 * @example
 * filterAbortedTransactions(result.bytes,
 *   { abortedTransactions: result.abortedTransactions ?? [], fromOffset: position },
 *   record => records.push(record))
 * @throws CORRUPT_MESSAGE when a batch or a control record is malformed
 * @see KIP-98 (Exactly Once Delivery and Transactional Messaging), Kafka's CompletedFetch
 */
export function filterAbortedTransactions(bytes: Buffer, options: AbortedTransactionFilterOptions,
  visit: (record: LogRecord) => void): void {
  const fromOffset = options.fromOffset
  assert(Number.isSafeInteger(fromOffset), 'the fetch position is an integer offset')
  assert(fromOffset >= 0, 'the fetch position is not negative')
  const pending = byFirstOffset(options.abortedTransactions)
  let next = 0 // index in `pending` of the first transaction no batch has reached yet
  let abortedProducers: Set<number> | undefined
  let lastDelivered = fromOffset - 1
  forEachBatch(bytes, position => {
    const header = readBatchHeader(bytes, position)
    const lastOffset = lastOffsetOf(header)
    while (next < pending.length && pending[next]!.firstOffset <= lastOffset) {
      abortedProducers ??= new Set<number>()
      abortedProducers.add(pending[next]!.producerId)
      next++
    }
    const control = isControl(header)
    if (abortedProducers !== undefined && abortedProducers.has(header.producerId)) {
      if (control) {
        if (isAbortMarker(bytes, position)) abortedProducers.delete(header.producerId)
        return
      }
      if (isTransactional(header)) return
    }
    if (control || lastOffset < fromOffset) return
    const records = decodeRecords(bytes, position)
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!
      if (record.offset < fromOffset) continue
      assert(record.offset > lastDelivered, 'delivered offsets strictly increase')
      lastDelivered = record.offset
      visit(record)
    }
  })
}

/** The list sorted by firstOffset; the list itself when it already is (the broker's usual case). */
function byFirstOffset(transactions: readonly AbortedTransaction[]):
readonly AbortedTransaction[] {
  for (let i = 1; i < transactions.length; i++) {
    if (transactions[i - 1]!.firstOffset > transactions[i]!.firstOffset) {
      return [...transactions].sort((a, b) => a.firstOffset - b.firstOffset)
    }
  }
  return transactions
}

/**
 * Whether the control batch at `position` is an abort marker. A control batch emptied by
 * compaction holds no marker (Kafka's containsAbortMarker answers false for it too).
 */
function isAbortMarker(bytes: Buffer, position: number): boolean {
  const records = decodeRecords(bytes, position)
  return records.length > 0 && decodeControlRecord(records[0]!).type === 'abort'
}
