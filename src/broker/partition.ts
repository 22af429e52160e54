/**
 * One partition of a topic on this broker: its log plus the idempotent-producer state that guards
 * appends to it (Kafka's Partition + UnifiedLog.analyzeAndValidateProducerState).
 *
 * Produce path, all in one synchronous turn: read the batch header, check its producer sequence,
 * hand it to the log (which validates and assigns offsets at once), record the new producer state.
 * A duplicate of a cached batch writes nothing and answers with the original offsets — after the
 * original is durable, if it is still in flight, so a duplicate is never acknowledged earlier
 * than the batch it stands for.
 *
 * Readers waiting for data (long-poll fetch) register with `onData`; they are called when an
 * append completes.
 *
 * Transactions: a producer batch first passes the broker's `TransactionVerifier` (KIP-890 part
 * 1: a transactional batch only into a partition of the producer's ongoing transaction, a
 * transactional producer's id never outside one). Transactional batches open a transaction in
 * partition-transactions.ts; `writeMarker` closes it and raises the producer's epoch here.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { Clock, Scheduler } from '../util/clock.ts'
import type { FileSystem } from '../util/file-system.ts'
import type { LogConfig } from '../log/log-config.ts'
import { type AppendResult, PartitionLog } from '../log/partition-log.ts'
import { type ControlType, decodeControlRecord } from '../log/control-record.ts'
import {
  BATCH_HEADER_BYTES, type BatchHeader, decodeRecords, forEachBatch, isControl, isTransactional,
  readBatchHeader,
} from '../log/record-batch.ts'
import type { AbortedTransaction } from './fetch.ts'
import { PartitionTransactions } from './partition-transactions.ts'
import { type ProducerBatchInfo, ProducerStateManager } from './producer-state-manager.ts'
import {
  readLatestProducerSnapshot, writeProducerSnapshot,
} from './producer-state-snapshot.ts'

/** Kafka's acks: 0 = don't wait, 1 = the broker ordered it, 'all' = durable per flush policy. */
export type Acks = 0 | 1 | 'all'

export interface ProduceResult extends AppendResult {
  /** True when the batch was a retry of one already appended (nothing was written). */
  readonly duplicate: boolean
}

/**
 * Checks a producer batch against the transaction coordinator before it is appended (KIP-890
 * part 1). Synchronous: the check and the append happen in one turn, so the coordinator cannot
 * end the transaction in between.
 */
export interface TransactionVerifier {
  /** @throws INVALID_TXN_STATE, PRODUCER_FENCED, TRANSACTION_TIMED_OUT */
  verify(batch: { producerId: number, producerEpoch: number, transactional: boolean },
    topic: string, partition: number): void
}

/** A transaction marker as the coordinator asks for it. */
export interface MarkerRequest {
  readonly producerId: number
  readonly producerEpoch: number
  readonly type: ControlType
  readonly coordinatorEpoch: number
}

export interface PartitionOptions {
  readonly directory: string
  /** Checks every producer batch before it is appended (the broker's TransactionVerifier). */
  readonly verify?: (header: BatchHeader) => void
  readonly config: Partial<LogConfig>
  readonly fs: FileSystem
  readonly clock: Clock
  readonly scheduler: Scheduler
}

const REBUILD_READ_BYTES = 8 * 1024 * 1024

export class Partition {
  private readonly inFlight = new Map<number, Promise<AppendResult>>()
  private readonly dataListeners = new Set<() => void>()
  /** Appends completed since open (see `onData`). */
  dataVersion = 0
  private snapshotOffset: number

  private constructor(
    readonly log: PartitionLog,
    readonly producerState: ProducerStateManager,
    readonly transactions: PartitionTransactions,
    snapshotOffset: number,
    private readonly verify: ((header: BatchHeader) => void) | undefined,
  ) {
    this.snapshotOffset = snapshotOffset
  }

  static async open(options: PartitionOptions): Promise<Partition> {
    const log = await PartitionLog.open({ directory: options.directory, config: options.config,
      fs: options.fs, clock: options.clock, scheduler: options.scheduler })
    const snapshot = await readLatestProducerSnapshot(options.fs, options.directory,
      { logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset })
    const state = new ProducerStateManager(snapshot?.producers)
    const transactions = new PartitionTransactions(snapshot?.transactions)
    const from = snapshot?.offset ?? log.logStartOffset
    await rebuildProducerState(log, state, transactions, from)
    return new Partition(log, state, transactions, snapshot?.offset ?? -1, options.verify)
  }

  /** First offset a read_committed reader may not see (≤ the high watermark). */
  get lastStableOffset(): number {
    // Retention may have removed the start of a transaction still open: the LSO cannot sit
    // below the log start (Kafka's UnifiedLog clamps it the same way).
    return Math.max(this.log.logStartOffset,
      this.transactions.lastStableOffset(this.log.highWatermark))
  }

  /** Aborted transactions with data in [from, to), for a read_committed fetch. */
  abortedTransactions(from: number, to: number): AbortedTransaction[] {
    return this.transactions.abortedBetween(from, to)
  }

  /**
   * Appends a producer's batch.
   * @throws PRODUCER_FENCED, OUT_OF_ORDER_SEQUENCE, the verifier's INVALID_TXN_STATE and
   *   TRANSACTION_TIMED_OUT (nothing written), and the log's errors
   */
  produce(batch: Buffer, acks: Acks): Promise<ProduceResult> {
    try {
      if (batch.length < BATCH_HEADER_BYTES) {
        throw new WeirError('CORRUPT_MESSAGE', `A batch of ${batch.length} bytes is shorter than `
          + 'a batch header; encode it again.')
      }
      const header = readBatchHeader(batch, 0)
      const info = producerInfo(header)
      if (info !== undefined) {
        this.verify?.(header)
        const check = this.producerState.check(info, this.log.logStartOffset > 0)
        if (check.kind === 'duplicate') return this.answerDuplicate(check.batch)
      }
      const before = this.log.logEndOffset
      const appended = this.log.append(batch)
      const after = this.log.logEndOffset
      // Refused by validation: the promise is already rejected with the typed error.
      if (after === before) return appended.then(result => ({ ...result, duplicate: false }))
      assert(after - before === header.lastOffsetDelta + 1, 'the log assigned the batch densely')
      if (info !== undefined) this.producerState.update(info, before, after - 1)
      if (info !== undefined && isTransactional(header)) {
        this.transactions.onTransactionalBatch(info.producerId, before)
      }
      this.track(before, appended)
      if (acks === 'all') return appended.then(result => ({ ...result, duplicate: false }))
      appended.catch(() => undefined) // surfaces on later calls: the log is offline
      return Promise.resolve({ baseOffset: before, lastOffset: after - 1, duplicate: false })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Writes a transaction marker for `producerId` and raises its epoch here; resolves once the
   * marker is durable whatever the flush policy (the coordinator records the transaction as
   * complete only after every marker is on disk).
   */
  async writeMarker(marker: MarkerRequest): Promise<void> {
    const offset = this.log.logEndOffset
    const appended = this.log.appendMarker(
      { type: marker.type, coordinatorEpoch: marker.coordinatorEpoch },
      { producerId: marker.producerId, producerEpoch: marker.producerEpoch })
    if (this.log.logEndOffset === offset) {
      await appended // refused: the log is closed or offline
      return
    }
    this.producerState.bumpEpoch(marker.producerId, marker.producerEpoch)
    this.transactions.onMarker(marker.producerId, offset, marker.type)
    this.track(offset, appended)
    await appended
    if (this.log.config.flush !== 'always') await this.log.flush()
  }

  private answerDuplicate(batch: { baseOffset: number, lastOffset: number }):
  Promise<ProduceResult> {
    const original = this.inFlight.get(batch.baseOffset) ?? Promise.resolve()
    return original.then(() => ({ baseOffset: batch.baseOffset, lastOffset: batch.lastOffset,
      duplicate: true }))
  }

  private track(baseOffset: number, appended: Promise<AppendResult>): void {
    this.inFlight.set(baseOffset, appended)
    const settle = (): void => {
      this.inFlight.delete(baseOffset)
      this.dataVersion++
      for (const listener of this.dataListeners) listener()
    }
    appended.then(settle, settle)
  }

  /**
   * Calls `listener` after every append that completes until the returned function is called.
   * `dataVersion` counts those completions, so a reader can tell whether one happened between
   * two moments without listening in between.
   */
  onData(listener: () => void): () => void {
    const entry = (): void => listener() // a fresh function: the same listener may register twice
    this.dataListeners.add(entry)
    return () => {
      this.dataListeners.delete(entry)
    }
  }

  /** Resolves when an append completes (or the returned cancel is called). */
  waitForData(): { promise: Promise<void>, cancel: () => void } {
    let cancel!: () => void
    const promise = new Promise<void>(resolve => {
      const remove = this.onData(() => cancel())
      cancel = () => {
        remove()
        resolve()
      }
    })
    return { promise, cancel }
  }

  /** Snapshots producer state if the log moved since the last snapshot. */
  async snapshotProducerState(): Promise<void> {
    const offset = this.log.logEndOffset
    if (offset === this.snapshotOffset) return
    if (this.producerState.size === 0 && this.transactions.ongoingCount === 0) return
    this.transactions.prune(this.log.logStartOffset)
    const entries = this.producerState.entries()
    const transactions = this.transactions.snapshot()
    await this.log.flush() // the snapshot must not describe batches a crash could take back
    await writeProducerSnapshot(this.log.fs, this.log.directory, offset, entries, transactions)
    this.snapshotOffset = offset
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.inFlight.values())
    await this.log.flush().catch(() => undefined)
    await this.snapshotProducerState().catch(() => undefined) // rebuilt from the log if missing
    await this.log.close()
  }
}

function producerInfo(header: BatchHeader): ProducerBatchInfo | undefined {
  if (header.producerId < 0 || isControl(header)) return undefined
  return { producerId: header.producerId, epoch: header.producerEpoch,
    firstSequence: header.baseSequence, lastOffsetDelta: header.lastOffsetDelta }
}

/**
 * Replays batch headers (and markers) from `from` to the log end into `state` and
 * `transactions` (recovery is replay).
 */
async function rebuildProducerState(log: PartitionLog, state: ProducerStateManager,
  transactions: PartitionTransactions, from: number): Promise<void> {
  let offset = from
  while (offset < log.highWatermark) {
    const result = await log.read(offset, { maxBytes: REBUILD_READ_BYTES })
    forEachBatch(result.bytes, position => {
      const header = readBatchHeader(result.bytes, position)
      if (header.baseOffset < from) return
      const info = producerInfo(header)
      if (info !== undefined) {
        state.update(info, header.baseOffset, header.baseOffset + header.lastOffsetDelta)
        if (isTransactional(header)) {
          transactions.onTransactionalBatch(header.producerId, header.baseOffset)
        }
      } else if (header.producerId >= 0) {
        state.bumpEpoch(header.producerId, header.producerEpoch)
        const record = decodeRecords(result.bytes, position)[0]
        if (isControl(header) && record !== undefined) {
          transactions.onMarker(header.producerId, header.baseOffset,
            decodeControlRecord(record).type)
        }
      }
    })
    if (result.nextOffset <= offset) break
    offset = result.nextOffset
  }
}
