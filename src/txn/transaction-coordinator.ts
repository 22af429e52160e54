/**
 * The transaction coordinator (Kafka's TransactionCoordinator, KIP-98, with KIP-890's defences):
 * maps a transactional id to a producer id and epoch, runs the two-phase commit and fences
 * zombies.
 *
 *   Empty ──AddPartitions/AddOffsets──▶ Ongoing ──EndTxn──▶ PrepareCommit | PrepareAbort
 *     ▲                                                       │ markers written, all durable
 *     └──────── CompleteCommit | CompleteAbort ◀──────────────┘
 *
 * Every transition is written to `__transaction_state` (transaction-log.ts) and durable before
 * it is acted on: EndTxn answers once Prepare* is on disk (the decision is then final: recovery
 * completes it), markers go out only after that, Complete* is written only once every marker is
 * durable. While a transaction is completing, its id's AddPartitions, EndTxn and InitProducerId
 * get the retriable CONCURRENT_TRANSACTIONS.
 *
 * Fencing: InitProducerId bumps the epoch (aborting an Ongoing transaction first, answering
 * CONCURRENT_TRANSACTIONS meanwhile as Kafka does), and every transaction end bumps it too
 * (transaction-metadata.ts), so requests of an older epoch fail with PRODUCER_FENCED. A
 * transaction open longer than its timeout is aborted here with an epoch bump; its producer's
 * next request fails with TRANSACTION_TIMED_OUT, and an `abortTransaction()` then succeeds and
 * hands it the new epoch.
 *
 * The coordinator also verifies every producer batch before the broker appends it (KIP-890 part
 * 1, `verify`): a transactional batch only into a partition added to the producer's ongoing
 * transaction, a transactional producer's id never outside a transaction.
 *
 * Requests of one transactional id run one at a time (`exclusive`); completions run outside that
 * lock so that requests arriving meanwhile are answered CONCURRENT_TRANSACTIONS at once.
 *
 * Not here: transactional-id expiry (Kafka's transactional.id.expiration.ms, 7 days): ids are
 * kept until their topic is deleted.
 */
import { WeirError } from '../errors.ts'
import type { TopicPartition } from '../group/assignor.ts'
import { CONSUMER_OFFSETS_TOPIC } from '../group/offset-record.ts'
import type { MarkerRequest, TransactionVerifier } from '../broker/partition.ts'
import type { PartitionLog } from '../log/partition-log.ts'
import { assert } from '../util/assert.ts'
import type { CancelTimer, Clock, Scheduler } from '../util/clock.ts'
import {
  resolveTransactionCoordinatorConfig, type TransactionCoordinatorConfig,
} from './transaction-coordinator-config.ts'
import { TransactionLog } from './transaction-log.ts'
import {
  checkProducer, concurrent, includes, mergePartitions, timedOut,
} from './transaction-checks.ts'
import {
  describe, isPrepared, markerProducer, nextEpoch, type TransactionMetadata,
} from './transaction-metadata.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch, TransactionalRequest, TransactionDescription,
} from './txn-requests.ts'

/** What the coordinator needs from the broker and the group coordinator. */
export interface TransactionParticipants {
  /** A producer id never handed out before (durably). */
  newProducerId(): Promise<number>
  /** @throws UNKNOWN_TOPIC_OR_PARTITION (or UNKNOWN_TOPIC) when it does not exist */
  checkPartition(partition: TopicPartition): void
  /** The `__consumer_offsets` partition holding `groupId`'s offsets. */
  offsetsPartitionFor(groupId: string): TopicPartition
  /** Writes a marker into a partition of the transaction; resolves once it is durable. */
  writeMarker(partition: TopicPartition, marker: MarkerRequest): Promise<void>
}

export interface TransactionCoordinatorOptions {
  /** The partitions of `__transaction_state`. */
  readonly logs: readonly PartitionLog[]
  readonly participants: TransactionParticipants
  readonly clock: Clock
  readonly scheduler: Scheduler
  readonly config?: Partial<TransactionCoordinatorConfig>
}

const COORDINATOR_EPOCH = 0 // one coordinator, never moved (Kafka bumps it on leader changes)

export class TransactionCoordinator implements TransactionVerifier {
  private readonly states = new Map<string, TransactionMetadata>()
  /** Current and previous producer id of every transactional id. */
  private readonly byProducerId = new Map<number, string>()
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly completions = new Map<string, Promise<void>>()
  /** Aborts of timed-out transactions not yet prepared. */
  private readonly expiring = new Set<Promise<void>>()
  private cancelTimer: CancelTimer = () => undefined
  private closed = false

  private constructor(
    private readonly log: TransactionLog,
    private readonly participants: TransactionParticipants,
    private readonly clock: Clock,
    readonly config: TransactionCoordinatorConfig,
  ) {}

  /**
   * Loads every transactional id's state, then completes transactions that were prepared and
   * (with `recoveredOngoing: 'abort'`) aborts ongoing ones; others are left to their timeout.
   */
  static async open(options: TransactionCoordinatorOptions): Promise<TransactionCoordinator> {
    const config = resolveTransactionCoordinatorConfig(options.config ?? {})
    const log = new TransactionLog(options.logs)
    const coordinator = new TransactionCoordinator(log, options.participants, options.clock,
      config)
    for (const metadata of (await log.load()).values()) coordinator.apply(metadata)
    for (const metadata of coordinator.states.values()) {
      if (isPrepared(metadata.state)) coordinator.startCompletion(metadata.transactionalId)
    }
    if (config.recoveredOngoing === 'abort') {
      const ongoing = [...coordinator.states.values()].filter(each => each.state === 'Ongoing')
      await Promise.all(ongoing.map(each => coordinator.abortOngoing(each.transactionalId,
        false)))
    }
    coordinator.cancelTimer = options.scheduler.every(config.timeoutCheckIntervalMs,
      () => coordinator.tick())
    return coordinator
  }

  /**
   * InitProducerId for a transactional id: a fresh producer id the first time, else the next
   * epoch, which fences every older instance.
   * @throws CONCURRENT_TRANSACTIONS while the previous instance's transaction is being ended
   *   (retry), INVALID_TRANSACTION_TIMEOUT, INVALID_REQUEST
   */
  initProducerId(request: InitProducerIdRequest & { transactionalId: string }):
  Promise<ProducerIdAndEpoch> {
    try {
      this.checkOpen()
      this.checkTransactionalId(request.transactionalId)
      const timeoutMs = this.checkTimeout(request.transactionTimeoutMs)
      const id = request.transactionalId
      return this.exclusive(id, async () => {
        const current = this.states.get(id)
        const now = this.clock.nowMs()
        if (current === undefined) {
          const producerId = await this.participants.newProducerId()
          await this.persist({ transactionalId: id, producerId, producerEpoch: 0,
            lastProducerId: -1, lastProducerEpoch: -1, timeoutMs, state: 'Empty',
            partitions: [], startedAtMs: -1, updatedAtMs: now, timedOut: false })
          return { producerId, producerEpoch: 0 }
        }
        if (isPrepared(current.state)) throw concurrent(id)
        if (current.state === 'Ongoing') {
          // The previous instance left a transaction open: abort it (fencing that instance),
          // and let the caller retry once the markers are written (Kafka does the same).
          await this.prepareEnd(current, false, false)
          this.startCompletion(id)
          throw concurrent(id)
        }
        const next = await nextEpoch(current, () => this.participants.newProducerId())
        await this.persist({ ...current, ...next, lastProducerId: current.producerId,
          lastProducerEpoch: current.producerEpoch, timeoutMs, state: 'Empty', partitions: [],
          updatedAtMs: now, timedOut: false })
        return next
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Adds partitions to the producer's transaction, beginning one if none is open.
   * @throws PRODUCER_FENCED, TRANSACTION_TIMED_OUT, CONCURRENT_TRANSACTIONS (retry),
   *   INVALID_PRODUCER_ID_MAPPING, TRANSACTIONAL_ID_NOT_FOUND, UNKNOWN_TOPIC_OR_PARTITION
   */
  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<void> {
    return this.run(request, async current => {
      for (const partition of request.partitions) this.participants.checkPartition(partition)
      const open = current.state === 'Ongoing'
      const partitions = mergePartitions(open ? current.partitions : [], request.partitions)
      if (open && partitions.length === current.partitions.length) return
      if (partitions.length > this.config.transactionPartitionsMax) {
        throw new WeirError('INVALID_REQUEST', `A transaction may touch at most `
          + `${this.config.transactionPartitionsMax} partitions (transactionPartitionsMax); `
          + 'commit more often.')
      }
      const now = this.clock.nowMs()
      await this.persist({ ...current, state: 'Ongoing', partitions, updatedAtMs: now,
        startedAtMs: open ? current.startedAtMs : now, timedOut: false })
    })
  }

  /** Adds the group's `__consumer_offsets` partition (Kafka's AddOffsetsToTxn). */
  addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<void> {
    try {
      const partition = this.participants.offsetsPartitionFor(request.groupId)
      return this.addPartitionsToTxn({ ...request, partitions: [partition] })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Runs `write` (the group coordinator's transactional offset commit) if the producer's
   * transaction is ongoing and holds the group's offsets partition; one at a time with the id's
   * other requests, so an EndTxn cannot slip in between the check and the write.
   * @throws INVALID_TXN_STATE when AddOffsetsToTxn was not called for the group
   */
  txnOffsetCommit(request: TransactionalRequest & { groupId: string },
    write: () => Promise<void>): Promise<void> {
    return this.run(request, async current => {
      const partition = this.participants.offsetsPartitionFor(request.groupId)
      if (current.state !== 'Ongoing' || !includes(current.partitions, partition)) {
        throw new WeirError('INVALID_TXN_STATE', `Transaction ${request.transactionalId} has not `
          + `added the offsets of group ${request.groupId}; call addOffsetsToTxn first.`)
      }
      await write()
    })
  }

  /**
   * Ends the ongoing transaction: resolves once the decision (Prepare*) is durable, with the
   * producer id and epoch to use from now on; markers are written afterwards. A retry of an
   * EndTxn that already went through gets the same answer.
   * @throws PRODUCER_FENCED, TRANSACTION_TIMED_OUT (commit of a transaction the coordinator
   *   aborted), INVALID_TXN_STATE (nothing open), CONCURRENT_TRANSACTIONS
   */
  endTxn(request: EndTxnRequest): Promise<ProducerIdAndEpoch> {
    try {
      this.checkOpen()
      this.checkTransactionalId(request.transactionalId)
    } catch (error) {
      return Promise.reject(error)
    }
    const id = request.transactionalId
    return this.exclusive(id, async () => {
      const current = this.require(id)
      const kind = request.commit ? 'Commit' : 'Abort'
      const ended = current.state === `Prepare${kind}` || current.state === `Complete${kind}`
      if (ended && request.producerId === current.lastProducerId
        && request.producerEpoch === current.lastProducerEpoch) {
        // A retry, or an abort after the coordinator aborted it for a timeout: already done.
        if (current.timedOut && request.commit) throw timedOut(current)
        return { producerId: current.producerId, producerEpoch: current.producerEpoch }
      }
      checkProducer(current, request)
      if (isPrepared(current.state)) throw concurrent(id)
      if (current.state !== 'Ongoing') {
        throw new WeirError('INVALID_TXN_STATE', `Transaction ${id} has nothing to `
          + `${request.commit ? 'commit' : 'abort'}: no partition or offsets were added.`)
      }
      await this.prepareEnd(current, request.commit, false, request.keepEpoch === true)
      this.startCompletion(id)
      const next = this.require(id)
      return { producerId: next.producerId, producerEpoch: next.producerEpoch }
    })
  }

  /** The broker's check of a producer batch before it is appended (see the file comment). */
  verify(batch: { producerId: number, producerEpoch: number, transactional: boolean },
    topic: string, partition: number): void {
    const id = this.byProducerId.get(batch.producerId)
    if (id === undefined) {
      if (!batch.transactional) return // an idempotent producer
      throw new WeirError('INVALID_TXN_STATE', `Producer id ${batch.producerId} sent a `
        + 'transactional batch but has no transactional id; call initTransactions() first.')
    }
    const current = this.require(id)
    if (!batch.transactional) {
      throw new WeirError('INVALID_TXN_STATE', `Producer id ${batch.producerId} belongs to `
        + `transactional id ${id}: every write must be inside a transaction `
        + '(beginTransaction first).')
    }
    checkProducer(current, { transactionalId: id, ...batch })
    if (current.state !== 'Ongoing' || !includes(current.partitions, { topic, partition })) {
      throw new WeirError('INVALID_TXN_STATE', `${topic}/${partition} is not part of an ongoing `
        + `transaction of ${id}; add the partition to the transaction (addPartitionsToTxn) first.`)
    }
  }

  describeTransactions(transactionalIds: readonly string[]): TransactionDescription[] {
    this.checkOpen()
    return transactionalIds.map(id => describe(this.require(id)))
  }

  listTransactions(): TransactionDescription[] {
    this.checkOpen()
    return [...this.states.values()].map(describe)
      .sort((a, b) => a.transactionalId < b.transactionalId ? -1 : 1)
  }

  /** Resolves when every completion started so far has finished (for tests and close). */
  async settled(): Promise<void> {
    while (this.completions.size > 0 || this.expiring.size > 0) {
      await Promise.allSettled([...this.expiring, ...this.completions.values()])
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.cancelTimer()
    await Promise.allSettled([...this.expiring, ...this.completions.values(),
      ...this.locks.values()])
  }

  private run(request: TransactionalRequest,
    task: (current: TransactionMetadata) => Promise<void>): Promise<void> {
    try {
      this.checkOpen()
      this.checkTransactionalId(request.transactionalId)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.exclusive(request.transactionalId, async () => {
      const current = this.require(request.transactionalId)
      checkProducer(current, request)
      if (isPrepared(current.state)) throw concurrent(request.transactionalId)
      await task(current)
    })
  }

  /** Writes the decision to end `current`'s transaction, moving the producer to a new epoch. */
  private async prepareEnd(current: TransactionMetadata, commit: boolean, timedOutAbort: boolean,
    keepEpoch = false): Promise<void> {
    assert(current.state === 'Ongoing', 'only an ongoing transaction is ended')
    const next = keepEpoch
      ? { producerId: current.producerId, producerEpoch: current.producerEpoch }
      : await nextEpoch(current, () => this.participants.newProducerId())
    await this.persist({ ...current, ...next, lastProducerId: current.producerId,
      lastProducerEpoch: current.producerEpoch, state: commit ? 'PrepareCommit' : 'PrepareAbort',
      updatedAtMs: this.clock.nowMs(), timedOut: timedOutAbort, sameEpochEnd: keepEpoch })
  }

  /** Writes the markers of a prepared transaction, then records it complete. */
  private startCompletion(id: string): void {
    const state = this.states.get(id)?.state
    if (this.completions.has(id) || this.closed || state === undefined || !isPrepared(state)) {
      return
    }
    const completion = (async () => {
      const prepared = this.require(id)
      assert(isPrepared(prepared.state), 'only a prepared transaction is completed')
      const commit = prepared.state === 'PrepareCommit'
      const marker: MarkerRequest = { ...markerProducer(prepared),
        type: commit ? 'commit' : 'abort', coordinatorEpoch: COORDINATOR_EPOCH }
      // Data partitions first, the group's offsets last: once a reader can see the
      // transaction's offsets (a new owner's requireStable fetch), every record the transaction
      // wrote is decided too, so a restore that reads a changelog up to its last stable offset
      // right then sees them (a streams task would otherwise resume past state it never saw).
      const [offsets, data] = partitionBy(prepared.partitions,
        partition => partition.topic === CONSUMER_OFFSETS_TOPIC)
      await Promise.all(data.map(partition => this.participants.writeMarker(partition, marker)))
      await Promise.all(offsets.map(partition =>
        this.participants.writeMarker(partition, marker)))
      await this.exclusive(id, async () => {
        const latest = this.require(id)
        assert(latest === prepared, 'nothing changes a transaction while it completes')
        const complete: TransactionMetadata = { ...latest,
          state: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: [],
          updatedAtMs: this.clock.nowMs() }
        // Acted on at once, written without waiting for its fsync: the id's next state is
        // appended after it (the log orders appends as they are called) and that append's fsync
        // covers this record too. A crash that loses it leaves Prepare*, and recovery writes the
        // markers again, which changes nothing. This saves an fsync between two transactions.
        this.apply(complete)
        void this.log.write(complete).catch(() => undefined) // the log is offline: reopen
      })
    })()
    this.completions.set(id, completion)
    // A failed completion (a log went offline) is retried by the timer.
    void completion.catch(() => undefined).finally(() => this.completions.delete(id))
  }

  /** Aborts `id`'s ongoing transaction on the coordinator's own initiative. */
  private async abortOngoing(id: string, timedOutAbort: boolean): Promise<void> {
    await this.exclusive(id, async () => {
      const current = this.require(id)
      if (current.state !== 'Ongoing') return
      const expired = this.clock.nowMs() - current.startedAtMs > current.timeoutMs
      if (timedOutAbort && !expired) return // it ended and another began meanwhile
      await this.prepareEnd(current, false, timedOutAbort)
    })
    this.startCompletion(id)
  }

  private tick(): void {
    if (this.closed) return
    const now = this.clock.nowMs()
    for (const metadata of this.states.values()) {
      const id = metadata.transactionalId
      if (isPrepared(metadata.state)) this.startCompletion(id)
      else if (metadata.state === 'Ongoing' && now - metadata.startedAtMs > metadata.timeoutMs
        && !this.locks.has(id)) {
        const expiry = this.abortOngoing(id, true).catch(() => undefined)
        this.expiring.add(expiry)
        void expiry.finally(() => this.expiring.delete(expiry))
      }
    }
  }

  private async persist(metadata: TransactionMetadata): Promise<void> {
    await this.log.write(metadata)
    this.apply(metadata)
  }

  private apply(metadata: TransactionMetadata): void {
    this.states.set(metadata.transactionalId, metadata)
    this.byProducerId.set(metadata.producerId, metadata.transactionalId)
    if (metadata.lastProducerId >= 0) {
      this.byProducerId.set(metadata.lastProducerId, metadata.transactionalId)
    }
  }

  private exclusive<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve()
    const run = previous.then(task)
    const tail = run.catch(() => undefined)
    this.locks.set(id, tail)
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id)
    })
    return run
  }

  private require(id: string): TransactionMetadata {
    const metadata = this.states.get(id)
    if (metadata === undefined) {
      throw new WeirError('TRANSACTIONAL_ID_NOT_FOUND', `No transactional id ${id}; call `
        + 'initTransactions() first.')
    }
    return metadata
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The transaction coordinator is closed.')
    }
  }

  private checkTransactionalId(id: unknown): void {
    if (typeof id !== 'string' || id.length === 0
      || Buffer.byteLength(id) > this.config.transactionalIdBytesMax) {
      throw new WeirError('INVALID_REQUEST', 'A transactional id must be a non-empty string of '
        + `at most ${this.config.transactionalIdBytesMax} bytes.`)
    }
  }

  private checkTimeout(timeoutMs: number | undefined): number {
    const value = timeoutMs ?? this.config.transactionTimeoutDefaultMs
    if (!Number.isSafeInteger(value) || value < 1 || value > this.config.transactionMaxTimeoutMs) {
      throw new WeirError('INVALID_TRANSACTION_TIMEOUT', `transactionTimeoutMs ${String(value)} `
        + `is outside [1, ${this.config.transactionMaxTimeoutMs}] (transactionMaxTimeoutMs).`)
    }
    return value
  }
}

function partitionBy<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = []
  const no: T[] = []
  for (const item of items) (test(item) ? yes : no).push(item)
  return [yes, no]
}
