/**
 * The client side of a transactional producer (Kafka's TransactionManager): its state, its
 * producer id and epoch, which partitions the current transaction has added, and the requests to
 * the transaction coordinator.
 *
 *   uninitialized ─initTransactions─▶ ready ─begin─▶ in-transaction ─commit/abort─▶ ready
 *                                                        │ a send or request failed
 *                                                        ▼
 *                                                 abortable-error ─abort─▶ ready
 *   fenced (PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING): fatal, every call fails; close.
 *
 * CONCURRENT_TRANSACTIONS (the previous transaction is still writing its markers) is retried
 * here with a short backoff (`concurrentBackoffMs`), on every request — KafkaJS does not retry it on
 * AddOffsetsToTxn, its most reported transaction bug. Other retriable errors are retried with
 * the producer's `retryBackoffMs` up to `retries` times.
 *
 * Partitions are added to the transaction before the first batch goes to them; additions
 * requested while one is in flight join its retries or the next request.
 */
import { WeirError } from '../errors.ts'
import type { TopicPartition } from '../group/assignor.ts'
import type { OffsetCommitEntry } from '../group/group-requests.ts'
import { type Scheduler, sleep } from '../util/clock.ts'
import type { ProducerIdAndEpoch } from '../txn/txn-requests.ts'
import type { ProducerConfig } from './producer-config.ts'
import type { Transport } from './transport/transport.ts'

export type TransactionClientState =
  | 'uninitialized' | 'ready' | 'in-transaction' | 'ending' | 'abortable-error' | 'fenced'

/** The group a transaction commits offsets for; a consumer's `groupMetadata()` fits. */
export interface TransactionGroupMetadata {
  readonly groupId: string
  /** With the member's generation (KIP-447) a zombie of an older generation cannot commit. */
  readonly generationId?: number
  readonly memberId?: string
  readonly groupInstanceId?: string
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export class TransactionManager {
  state: TransactionClientState = 'uninitialized'
  producerId = -1
  producerEpoch = -1
  private readonly added = new Set<string>()
  /** The coordinator knows of this transaction (partitions or offsets were added). */
  private touched = false
  private readonly waiting = new Map<string, TopicPartition>()
  private adding: Promise<void> | undefined
  private failure: WeirError | undefined

  constructor(
    private readonly transport: Transport,
    private readonly transactionalId: string,
    private readonly config: ProducerConfig,
    private readonly scheduler: Scheduler,
  ) {}

  /** Gets the id's producer id and next epoch, fencing older instances. */
  async initTransactions(): Promise<void> {
    if (this.state !== 'uninitialized' && this.state !== 'ready') {
      throw stateError(`initTransactions() while ${this.state}`)
    }
    this.adopt(await this.retrying(() => this.transport.initProducerId({
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.config.transactionTimeoutMs })))
    this.state = 'ready'
  }

  beginTransaction(): void {
    this.checkNotFenced()
    if (this.state !== 'ready') throw stateError(`beginTransaction() while ${this.state}`)
    this.added.clear()
    this.waiting.clear()
    this.touched = false
    this.failure = undefined
    this.state = 'in-transaction'
  }

  /** Throws unless records may be sent now (inside a transaction that can still commit). */
  checkCanSend(): void {
    this.checkNotFenced()
    if (this.state === 'abortable-error') throw abortable(this.failure)
    if (this.state !== 'in-transaction') {
      throw stateError(this.state === 'uninitialized'
        ? 'send() before initTransactions()' : 'send() outside a transaction (beginTransaction '
          + 'first)')
    }
  }

  /**
   * Adds the partitions to the transaction unless already added. One request is in flight at a
   * time; partitions asked for meanwhile join its next attempt (a CONCURRENT_TRANSACTIONS retry)
   * or the next request, so a transaction's first sends to several partitions cost about one
   * AddPartitionsToTxn, not one each.
   */
  async addPartitions(topic: string, partitions: Iterable<number>): Promise<void> {
    return this.addTopicPartitions([...partitions].map(partition => ({ topic, partition })))
  }

  /** `addPartitions` for partitions of several topics, in one request when none is out. */
  async addTopicPartitions(partitions: readonly TopicPartition[]): Promise<void> {
    const mine: string[] = []
    for (const tp of partitions) {
      const id = key(tp.topic, tp.partition)
      if (this.added.has(id)) continue
      mine.push(id)
      this.waiting.set(id, { topic: tp.topic, partition: tp.partition })
    }
    while (this.state === 'in-transaction' && mine.some(id => !this.added.has(id))) {
      this.adding ??= this.sendAddPartitions().finally(() => {
        this.adding = undefined
      })
      await this.adding
    }
    // Added before a commit began (it waits for this request): they are in the transaction
    // being ended, and a send from before the commit that waited for them still belongs to it.
    this.checkNotFenced()
    if (this.state === 'abortable-error') throw abortable(this.failure)
    if (mine.some(id => !this.added.has(id))) this.checkCanSend()
  }

  private async sendAddPartitions(): Promise<void> {
    const batch = new Map<string, TopicPartition>()
    try {
      await this.retrying(() => {
        for (const [id, partition] of this.waiting) batch.set(id, partition)
        this.waiting.clear()
        return this.transport.addPartitionsToTxn({ ...this.identity(),
          partitions: [...batch.values()] })
      })
      for (const id of batch.keys()) this.added.add(id)
      this.touched = true
    } catch (error) {
      this.fail(error)
    }
  }

  /**
   * Adds consumed offsets to the transaction: they become the group's committed offsets only if
   * it commits (Kafka's sendOffsetsToTransaction: AddOffsetsToTxn, then TxnOffsetCommit).
   */
  async sendOffsets(offsets: readonly OffsetCommitEntry[], group: TransactionGroupMetadata):
  Promise<void> {
    this.checkCanSend()
    if (offsets.length === 0) return
    try {
      await this.retrying(() => this.transport.addOffsetsToTxn({ ...this.identity(),
        groupId: group.groupId }))
      this.touched = true
      await this.retrying(() => this.transport.txnOffsetCommit({ ...this.identity(),
        groupId: group.groupId, generationId: group.generationId ?? -1,
        memberId: group.memberId ?? '', groupInstanceId: group.groupInstanceId, offsets }))
    } catch (error) {
      this.fail(error)
      throw error
    }
  }

  /** Marks the transaction as unable to commit (a send failed). */
  fail(error: unknown): void {
    const failure = WeirError.is(error) ? error : new WeirError('WEIR_ERR_TRANSACTION_ABORTABLE',
      `A transactional operation failed: ${String(error)}`, { cause: error })
    if (isFatal(failure)) {
      this.failure = failure
      this.state = 'fenced'
      return
    }
    if (this.state === 'in-transaction' || this.state === 'ending') {
      this.failure ??= failure
      this.state = 'abortable-error'
    }
  }

  /**
   * Commits or aborts after `flush` (every send of the transaction acknowledged). Resolves once
   * the coordinator has the decision on disk.
   */
  async end(commit: boolean, flush: () => Promise<void>): Promise<void> {
    this.checkNotFenced()
    if (commit && this.state === 'abortable-error') throw abortable(this.failure)
    if (this.state !== 'in-transaction' && this.state !== 'abortable-error') {
      throw stateError(`${commit ? 'commitTransaction' : 'abortTransaction'}() while `
        + this.state)
    }
    this.state = 'ending'
    await flush()
    // An AddPartitionsToTxn still out (from addPartitionsToTransaction, which no send waits
    // for) must be answered before EndTxn: sent after it, with the ended epoch, it would be
    // refused as fenced and the producer would be lost; and a partition it adds after a
    // skipped EndTxn would leave a transaction open on the broker (Kafka's TransactionManager
    // likewise queues EndTxn behind pending additions).
    while (this.adding !== undefined) await this.adding
    if (commit && this.failure !== undefined) {
      this.state = 'abortable-error'
      throw abortable(this.failure)
    }
    if (!this.touched) {
      this.state = 'ready' // nothing reached the coordinator: nothing to end
      return
    }
    try {
      this.adopt(await this.retrying(() => this.transport.endTxn({ ...this.identity(), commit })))
    } catch (error) {
      this.fail(error)
      if ((this.state as TransactionClientState) !== 'fenced') this.state = 'abortable-error'
      throw error
    }
    this.added.clear()
    this.touched = false
    this.failure = undefined
    this.state = 'ready'
  }

  private identity(): { transactionalId: string, producerId: number, producerEpoch: number } {
    return { transactionalId: this.transactionalId, producerId: this.producerId,
      producerEpoch: this.producerEpoch }
  }

  private adopt(next: ProducerIdAndEpoch): void {
    this.producerId = next.producerId
    this.producerEpoch = next.producerEpoch
  }

  private checkNotFenced(): void {
    if (this.state === 'fenced') throw this.failure!
  }

  /** Retries CONCURRENT_TRANSACTIONS with a doubling backoff and other retriable errors. */
  private async retrying<T>(request: () => Promise<T>): Promise<T> {
    let busy = 0
    let retries = 0
    for (;;) {
      try {
        return await request()
      } catch (error) {
        if (WeirError.is(error, 'CONCURRENT_TRANSACTIONS')) {
          await sleep(this.scheduler, concurrentBackoffMs(busy++, this.config))
          continue
        }
        if (WeirError.is(error) && error.retriable && retries < this.config.retries) {
          retries++
          await sleep(this.scheduler, this.config.retryBackoffMs)
          continue
        }
        if (WeirError.is(error) && isFatal(error)) this.fail(error)
        throw error
      }
    }
  }
}

/**
 * Markers take about an fsync to write, so the first retries come quickly and at an even pace
 * (a doubling backoff would overshoot the end of the completion by as much as it waited); only
 * a completion that takes long (a slow disk) is polled less and less often.
 */
function concurrentBackoffMs(attempt: number, config: ProducerConfig): number {
  const base = config.transactionRetryBackoffMs
  const evenAttempts = 10
  if (attempt < evenAttempts) return base
  return Math.min(base * 2 ** (attempt - evenAttempts + 1), Math.max(config.retryBackoffMs, base))
}

function isFatal(error: WeirError): boolean {
  return error.code === 'PRODUCER_FENCED' || error.code === 'INVALID_PRODUCER_ID_MAPPING'
    || error.code === 'TRANSACTIONAL_ID_NOT_FOUND'
}

function stateError(what: string): WeirError {
  return new WeirError('INVALID_TXN_STATE', `Transactional producer: ${what}. Call `
    + 'initTransactions() once, then beginTransaction(), send, and commitTransaction() or '
    + 'abortTransaction().')
}

function abortable(failure: WeirError | undefined): WeirError {
  return new WeirError('WEIR_ERR_TRANSACTION_ABORTABLE', 'An earlier operation of this '
    + `transaction failed (${failure?.code ?? 'unknown'}: ${failure?.message ?? ''}); call `
    + 'abortTransaction() and start again.', { cause: failure })
}
