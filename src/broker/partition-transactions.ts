/**
 * Transaction bookkeeping of one partition (Kafka's ProducerStateManager ongoing-transaction part
 * plus the `.txnindex` of aborted transactions): which producers have a transaction open here and
 * from which offset, and which transactions were aborted, so that
 * - the last stable offset (LSO) = min(high watermark, first offset of any transaction not yet
 *   decided) bounds what a read_committed reader may see, and
 * - a read_committed fetch can list the aborted transactions overlapping what it returns.
 *
 * Like producer state it is a function of the log, updated when a batch or marker is assigned its
 * offset (so a snapshot taken at the log end describes exactly the batches below it) and rebuilt
 * on open by replay. A transaction whose marker is assigned but not yet visible (above the high
 * watermark) still holds the LSO back: readers must not see its data before its marker.
 *
 * This lives in the broker layer, not src/txn, because it is per-partition log state replayed
 * with the partition; the transaction coordinator (src/txn) only decides and writes markers.
 */
import { assert } from '../util/assert.ts'
import type { AbortedTransaction } from './fetch.ts'

export interface AbortedTransactionEntry {
  readonly producerId: number
  readonly firstOffset: number
  /** Offset of the abort marker. */
  readonly lastOffset: number
}

/** What a producer-state snapshot keeps of this state. */
export interface TransactionSnapshot {
  /** [producerId, first offset of its open transaction] */
  readonly ongoing: ReadonlyArray<readonly [number, number]>
  /** In marker order. */
  readonly aborted: readonly AbortedTransactionEntry[]
}

interface Completing {
  readonly firstOffset: number
  readonly markerOffset: number
}

export class PartitionTransactions {
  private readonly ongoing = new Map<number, number>()
  private completing: Completing[] = []
  private aborted: AbortedTransactionEntry[]

  constructor(snapshot?: TransactionSnapshot) {
    for (const [producerId, firstOffset] of snapshot?.ongoing ?? []) {
      this.ongoing.set(producerId, firstOffset)
    }
    this.aborted = [...(snapshot?.aborted ?? [])]
  }

  get ongoingCount(): number {
    return this.ongoing.size
  }

  hasOngoing(producerId: number): boolean {
    return this.ongoing.has(producerId)
  }

  /** A transactional data batch of `producerId` was assigned `baseOffset`. */
  onTransactionalBatch(producerId: number, baseOffset: number): void {
    if (!this.ongoing.has(producerId)) this.ongoing.set(producerId, baseOffset)
  }

  /**
   * A marker of `producerId` was assigned `markerOffset`. A marker for a producer with no open
   * transaction here is a no-op (the coordinator rewrites markers after a restart).
   */
  onMarker(producerId: number, markerOffset: number, type: 'commit' | 'abort'): void {
    const firstOffset = this.ongoing.get(producerId)
    if (firstOffset === undefined) return
    assert(markerOffset > firstOffset, 'a marker follows its transaction')
    this.ongoing.delete(producerId)
    this.completing.push({ firstOffset, markerOffset })
    if (type === 'abort') this.aborted.push({ producerId, firstOffset, lastOffset: markerOffset })
  }

  /** The first offset a read_committed reader may not see yet. */
  lastStableOffset(highWatermark: number): number {
    if (this.completing.length > 0) {
      this.completing = this.completing.filter(entry => entry.markerOffset >= highWatermark)
    }
    let stable = highWatermark
    for (const firstOffset of this.ongoing.values()) stable = Math.min(stable, firstOffset)
    for (const entry of this.completing) stable = Math.min(stable, entry.firstOffset)
    return stable
  }

  /** Aborted transactions with data in [from, to) (Kafka's collectAbortedTxns). */
  abortedBetween(from: number, to: number): AbortedTransaction[] {
    const found: AbortedTransaction[] = []
    // Entries are in marker order, so every entry from the first with lastOffset ≥ from on
    // ends at or after `from`.
    let low = 0
    let high = this.aborted.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if (this.aborted[middle]!.lastOffset < from) low = middle + 1
      else high = middle
    }
    for (let i = low; i < this.aborted.length; i++) {
      const entry = this.aborted[i]!
      if (entry.firstOffset < to) {
        found.push({ producerId: entry.producerId, firstOffset: entry.firstOffset })
      }
    }
    return found
  }

  /** Forgets aborted transactions wholly below the log start (their data is gone). */
  prune(logStartOffset: number): void {
    if (this.aborted.length > 0 && this.aborted[0]!.lastOffset < logStartOffset) {
      this.aborted = this.aborted.filter(entry => entry.lastOffset >= logStartOffset)
    }
  }

  snapshot(): TransactionSnapshot {
    return { ongoing: [...this.ongoing.entries()], aborted: [...this.aborted] }
  }
}
