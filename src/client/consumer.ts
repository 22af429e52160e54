/**
 * The consumer: `for await (const batch of consumer)` over record batches of its partitions,
 * with a group (`subscribe`: topics or patterns, partitions assigned by the group) or without one
 * (`assign`: partitions chosen by the caller, for replay tools).
 *
 * Commits (group only) store "the offset to read next", as Kafka does. `commit()` without
 * arguments commits every batch handed out so far; auto commit (on by default) commits, every
 * `autoCommitIntervalMs` and before partitions are revoked, only the batches the application has
 * finished — a batch counts as finished when the next one is asked for — so a crash reprocesses
 * at most the batch in hand (at-least-once).
 *
 * Isolation (KIP-98): under read_committed (the default) fetches, offset lookups ('latest' is the
 * last stable offset) and the committed offsets of new partitions are all stable ones: records of
 * aborted transactions are never handed out, and a new owner waits for a pending transaction's
 * offsets instead of starting from the ones it is about to replace (KIP-447).
 */
import { Observable } from 'rxjs'
import { WeirError } from '../errors.ts'
import type { TopicPartition } from '../group/assignor.ts'
import type { CommittedOffset, OffsetCommitEntry } from '../group/group-requests.ts'
import { type Clock, type Scheduler, sleep } from '../util/clock.ts'
import { type ConsumerConfig, resolveConsumerConfig } from './consumer-config.ts'
import { type ConsumerBatch, fetchBatches } from './fetcher.ts'
import { GroupMembership } from './group-membership.ts'
import { type PartitionState, SubscriptionState } from './subscription-state.ts'
import { describeExistingTopics } from './topic-metadata-cache.ts'
import type { PartitionOffset, Transport } from './transport/transport.ts'

export interface RebalanceListener {
  /** Called after partitions are assigned, before any of their records are handed out. */
  readonly onPartitionsAssigned?: (partitions: TopicPartition[]) => void | Promise<void>
  /** Called before partitions are taken away, while a commit can still succeed. */
  readonly onPartitionsRevoked?: (partitions: TopicPartition[]) => void | Promise<void>
  /** Called when membership was lost and the partitions may already belong to others. */
  readonly onPartitionsLost?: (partitions: TopicPartition[]) => void | Promise<void>
}

export interface SubscribeOptions extends RebalanceListener {
  readonly topics: ReadonlyArray<string | RegExp>
}

/**
 * A consumer's membership as a transactional producer needs it (Kafka's ConsumerGroupMetadata):
 * offsets sent in a transaction are accepted only from the group's current generation (KIP-447).
 */
export interface ConsumerGroupMetadata {
  readonly groupId: string
  /** -1 until the consumer has joined the group, and after its membership was lost. */
  readonly generationId: number
  /** '' until the coordinator has given this member an id. */
  readonly memberId: string
  readonly groupInstanceId?: string
}

interface BufferedBatch {
  readonly batch: ConsumerBatch
  readonly state: PartitionState
  readonly epoch: number
}

export class Consumer implements AsyncIterable<ConsumerBatch> {
  readonly config: ConsumerConfig
  private readonly subscriptions = new SubscriptionState()
  private membership: GroupMembership | undefined
  private listener: RebalanceListener = {}
  private topics: ReadonlyArray<string | RegExp> = []
  private buffered: BufferedBatch[] = []
  private changed: (() => void) | undefined
  private lastAutoCommitMs: number
  private failure: unknown
  private closed = false
  private patternCheck: (() => void) | undefined
  /** Topics and partition counts the member last joined with; undefined before the first join. */
  private topicSignature: string | undefined

  constructor(
    private readonly transport: Transport,
    config: Partial<ConsumerConfig>,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {
    this.config = resolveConsumerConfig(config)
    this.lastAutoCommitMs = clock.nowMs()
  }

  /** Joins the group and consumes the topics (names or patterns) it assigns to this member. */
  subscribe(options: SubscribeOptions): void {
    this.checkOpen()
    const groupId = this.config.groupId
    if (groupId === undefined) {
      throw new WeirError('WEIR_ERR_CLIENT_STATE', 'subscribe() needs a groupId; use assign() '
        + 'to consume chosen partitions without a group.')
    }
    this.topics = options.topics
    this.listener = options
    if (this.membership === undefined) {
      this.membership = new GroupMembership(groupId, this.transport, this.config, this.scheduler,
        this.membershipHooks())
      this.membership.start()
      this.patternCheck = this.scheduler.every(this.config.metadataMaxAgeMs,
        () => void this.checkTopics())
    } else {
      this.membership.requestRejoin()
    }
  }

  /** Consumes exactly these partitions, without a group. Positions start by autoOffsetReset. */
  async assign(partitions: readonly TopicPartition[]): Promise<void> {
    this.checkOpen()
    if (this.membership !== undefined) {
      throw new WeirError('WEIR_ERR_CLIENT_STATE', 'This consumer subscribed through a group; '
        + 'use a consumer without groupId to assign partitions by hand.')
    }
    const current = this.subscriptions.assigned()
    this.subscriptions.remove(current)
    this.subscriptions.add(partitions)
    await this.initialisePositions(partitions)
    this.signal()
  }

  assignment(): TopicPartition[] {
    return this.subscriptions.assigned()
  }

  private membershipHooks(): ConstructorParameters<typeof GroupMembership>[4] {
    return {
      subscribedTopics: async () => {
        const topics = await this.resolveTopics()
        this.topicSignature = await this.signatureOf(topics)
        return topics
      },
      owned: () => this.subscriptions.assigned(),
      revoke: async partitions => {
        if (partitions.length === 0) return
        await this.listener.onPartitionsRevoked?.([...partitions])
        if (this.config.autoCommit) await this.commitProcessed(partitions).catch(() => undefined)
        this.dropPartitions(partitions)
      },
      lose: async partitions => {
        if (partitions.length === 0) return
        await this.listener.onPartitionsLost?.([...partitions])
        this.dropPartitions(partitions)
      },
      assign: async partitions => {
        this.subscriptions.add(partitions)
        for (const tp of partitions) this.subscriptions.get(tp)!.awaitingListener = true
        try {
          await this.initialisePositions(partitions)
        } catch (error) {
          // Unpositioned partitions are never fetched; once owned, a rejoin would not hand them
          // out (and position them) again. Not owning them lets the next join do that.
          this.subscriptions.remove(partitions)
          throw error
        }
        try {
          // Positioning awaited the broker: a rebalance or a lost session may have taken some
          // of these partitions away meanwhile. The listener hears of the ones still owned.
          const owned = partitions.filter(tp => this.subscriptions.get(tp) !== undefined)
          await this.listener.onPartitionsAssigned?.(owned)
        } finally {
          for (const tp of partitions) {
            const state = this.subscriptions.get(tp)
            if (state !== undefined) state.awaitingListener = false
          }
        }
        this.signal()
      },
      onError: error => {
        this.failure = error
        this.signal()
      },
    }
  }

  private dropPartitions(partitions: readonly TopicPartition[]): void {
    this.subscriptions.remove(partitions)
    this.buffered = this.buffered.filter(entry => this.subscriptions.get(entry.batch)
      === entry.state)
  }

  private async resolveTopics(): Promise<string[]> {
    const names = this.topics.filter((topic): topic is string => typeof topic === 'string')
    const patterns = this.topics.filter((topic): topic is RegExp => topic instanceof RegExp)
    if (patterns.length === 0) return names
    const all = await this.transport.listTopics()
    const matched = all.map(topic => topic.name).filter(name => patterns.some(p => p.test(name)))
    return [...new Set([...names, ...matched])].sort()
  }

  private async signatureOf(topics: readonly string[]): Promise<string> {
    const described = await describeExistingTopics(this.transport, topics)
    return described.map(topic => `${topic.name}:${topic.partitions}`).join(',')
  }

  /**
   * Rejoins when the subscribed topics or their partition counts differ from those of the last
   * join (compared with the join, not the previous check: a topic created between the join and
   * the first check, or the first match of a pattern that matched nothing, must count).
   */
  private async checkTopics(): Promise<void> {
    if (this.membership === undefined || this.closed) return
    try {
      const signature = await this.signatureOf(await this.resolveTopics())
      if (this.topicSignature !== undefined && signature !== this.topicSignature) {
        this.membership.requestRejoin()
      }
    } catch {
      // a failed metadata refresh is retried on the next tick
    }
  }

  private async initialisePositions(partitions: readonly TopicPartition[]): Promise<void> {
    const committed = this.config.groupId === undefined || partitions.length === 0 ? []
      : await this.fetchCommittedOffsets(this.config.groupId, partitions)
    const missing: TopicPartition[] = []
    for (const tp of partitions) {
      const found = committed.find(c => c.topic === tp.topic && c.partition === tp.partition
        && c.offset >= 0)
      if (found === undefined) missing.push(tp)
      else this.subscriptions.seek(tp, found.offset)
    }
    const spec = this.config.autoOffsetReset
    const isolationLevel = this.config.isolationLevel
    const offsets = await this.transport.listOffsets(missing.map(tp =>
      ({ ...tp, spec, isolationLevel })))
    for (const offset of offsets) this.subscriptions.seek(offset, offset.offset)
  }

  /**
   * The group's committed offsets for newly assigned partitions. Under read_committed they must be
   * stable (requireStable, KIP-447): while a transaction holds undecided offsets for one of the
   * partitions the coordinator answers UNSTABLE_OFFSET_COMMIT, and we wait and ask again, so a
   * new owner never starts from offsets that transaction is about to replace (it would process
   * again what the transaction already did). Heartbeats pause while partitions are being
   * assigned, so the retries stop after `sessionTimeoutMs − heartbeatIntervalMs` of backoff in
   * all; the error then reaches the group, which treats it as retriable and rejoins.
   * @throws UNSTABLE_OFFSET_COMMIT when the transaction stays undecided through every retry
   */
  private async fetchCommittedOffsets(groupId: string, partitions: readonly TopicPartition[]):
  Promise<CommittedOffset[]> {
    if (this.config.isolationLevel !== 'read_committed') {
      return this.transport.fetchOffsets({ groupId, partitions })
    }
    const { sessionTimeoutMs, heartbeatIntervalMs, stableOffsetRetryBackoffMs } = this.config
    const retriesMax = Math.floor((sessionTimeoutMs - heartbeatIntervalMs)
      / stableOffsetRetryBackoffMs)
    for (let retry = 0; ; retry++) {
      try {
        return await this.transport.fetchOffsets({ groupId, partitions, requireStable: true })
      } catch (error) {
        if (!WeirError.is(error, 'UNSTABLE_OFFSET_COMMIT') || retry >= retriesMax
          || this.closed) throw error
        await sleep(this.scheduler, stableOffsetRetryBackoffMs)
      }
    }
  }

  private signal(): void {
    const wake = this.changed
    this.changed = undefined
    wake?.()
  }

  private waitForChange(): Promise<void> {
    return new Promise(resolve => {
      this.changed = resolve
      this.scheduler.after(this.config.maxWaitMs, () => this.signal())
    })
  }

  /** The next batch of records; resolves `done` once the consumer is closed. */
  async next(): Promise<IteratorResult<ConsumerBatch, undefined>> {
    this.subscriptions.markProcessed()
    await this.maybeAutoCommit()
    while (!this.closed) {
      if (this.failure !== undefined) {
        const failure = this.failure
        this.failure = undefined
        throw failure
      }
      const entry = this.buffered.shift()
      if (entry !== undefined) {
        if (this.subscriptions.get(entry.batch) !== entry.state
          || entry.state.epoch !== entry.epoch) continue
        entry.state.consumed = entry.batch.nextOffset
        return { done: false, value: entry.batch }
      }
      if (this.subscriptions.fetchable().length === 0) {
        await this.waitForChange()
        continue
      }
      const batches = await this.fetchRetrying()
      if (batches === undefined) continue
      for (const batch of batches) {
        const state = this.subscriptions.get(batch)
        if (state !== undefined) this.buffered.push({ batch, state, epoch: state.epoch })
      }
    }
    return { done: true, value: undefined }
  }

  /**
   * One fetch; a retriable failure (the broker busy, a lost response) waits `maxWaitMs` and
   * answers undefined so the caller tries again, as Kafka's consumer does. Others are thrown.
   */
  private async fetchRetrying(): Promise<ConsumerBatch[] | undefined> {
    try {
      return await fetchBatches(this.transport, this.subscriptions, this.config)
    } catch (error) {
      // Closed while the fetch was out: the transport's close may fail it (the remote one aborts
      // requests in flight); next() then ends as documented rather than throwing.
      if (this.closed) return undefined
      if (!WeirError.is(error) || !error.retriable) throw error
      await sleep(this.scheduler, this.config.maxWaitMs)
      return undefined
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<ConsumerBatch, undefined> {
    return {
      next: () => this.next(),
      return: async () => ({ done: true, value: undefined }),
    }
  }

  /** The batches as an RxJS Observable; unsubscribing stops pulling (the consumer stays open). */
  observe(): Observable<ConsumerBatch> {
    return new Observable<ConsumerBatch>(subscriber => {
      let stopped = false
      void (async () => {
        while (!stopped) {
          const result = await this.next()
          if (result.done === true) break
          if (!stopped) subscriber.next(result.value)
        }
        subscriber.complete()
      })().catch((error: unknown) => subscriber.error(error))
      return () => {
        stopped = true
      }
    })
  }

  private async maybeAutoCommit(): Promise<void> {
    if (!this.config.autoCommit || this.membership === undefined) return
    if (this.clock.nowMs() - this.lastAutoCommitMs < this.config.autoCommitIntervalMs) return
    this.lastAutoCommitMs = this.clock.nowMs()
    await this.commitProcessed(this.subscriptions.assigned()).catch(() => undefined)
  }

  private async commitProcessed(partitions: readonly TopicPartition[]): Promise<void> {
    const offsets: PartitionOffset[] = []
    for (const tp of partitions) {
      const processed = this.subscriptions.get(tp)?.processed
      if (processed !== undefined) offsets.push({ ...tp, offset: processed })
    }
    if (offsets.length > 0) await this.commitOffsets(offsets)
  }

  /**
   * Commits offsets (the next offset to read) for the group, each with optional `metadata` text
   * kept beside it (Kafka's OffsetAndMetadata); without arguments, the position after every
   * batch handed out so far.
   * @throws ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS (the group moved on:
   *   the partitions may be someone else's now), WEIR_ERR_CLIENT_STATE without a group
   */
  async commit(offsets?: readonly OffsetCommitEntry[]): Promise<void> {
    this.checkOpen()
    this.checkGroup()
    const chosen = offsets ?? this.subscriptions.states()
      .filter(state => state.consumed !== undefined)
      .map(state => ({ topic: state.topic, partition: state.partition, offset: state.consumed! }))
    if (chosen.length > 0) await this.commitOffsets(chosen)
  }

  /**
   * This member's group, generation and id, for a transactional producer's
   * `sendOffsetsToTransaction` (KIP-447): the coordinator accepts the offsets only from the
   * group's current generation, so a zombie that lost its partitions cannot commit for them.
   * Generation -1 and member id '' until the consumer has joined.
   * @example
   * await producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata())
   * @throws WEIR_ERR_CLIENT_STATE for a consumer without groupId
   * @see Kafka's KafkaConsumer.groupMetadata()
   */
  groupMetadata(): ConsumerGroupMetadata {
    const groupId = this.config.groupId
    if (groupId === undefined) {
      throw new WeirError('WEIR_ERR_CLIENT_STATE', 'groupMetadata() needs a consumer with a '
        + 'groupId; a consumer using assign() belongs to no group.')
    }
    return { groupId, generationId: this.membership?.generationId ?? -1,
      memberId: this.membership?.memberId ?? '',
      ...(this.config.groupInstanceId === undefined ? {}
        : { groupInstanceId: this.config.groupInstanceId }) }
  }

  private checkGroup(): { groupId: string, membership: GroupMembership } {
    const groupId = this.config.groupId
    if (groupId === undefined || this.membership === undefined) {
      throw new WeirError('WEIR_ERR_CLIENT_STATE', 'Only a consumer in a group (groupId and '
        + 'subscribe) commits offsets; a consumer using assign() keeps its own positions.')
    }
    return { groupId, membership: this.membership }
  }

  private async commitOffsets(offsets: readonly OffsetCommitEntry[]): Promise<void> {
    const { groupId, membership } = this.checkGroup()
    await this.transport.commitOffsets({ groupId, generationId: membership.generationId,
      memberId: membership.memberId,
      ...(this.config.groupInstanceId === undefined ? {}
        : { groupInstanceId: this.config.groupInstanceId }),
      offsets })
  }

  /**
   * The offset of the next record to fetch from an assigned partition (Kafka's position()), or
   * undefined until it is known (the committed offset or reset is still being looked up).
   */
  position(partition: TopicPartition): number | undefined {
    const state = this.subscriptions.get(partition)
    if (state === undefined) {
      throw new WeirError('WEIR_ERR_CLIENT_STATE', `Partition ${partition.topic}/`
        + `${partition.partition} is not assigned to this consumer.`)
    }
    return state.position
  }

  /** Moves the fetch position of an assigned partition. */
  seek(target: PartitionOffset): void {
    if (this.subscriptions.get(target) === undefined) {
      throw new WeirError('WEIR_ERR_CLIENT_STATE', `Partition ${target.topic}/${target.partition}`
        + ' is not assigned to this consumer; seek only within assignment().')
    }
    if (!Number.isSafeInteger(target.offset) || target.offset < 0) {
      throw new WeirError('INVALID_REQUEST', `Cannot seek to offset ${target.offset}.`)
    }
    this.subscriptions.seek(target, target.offset)
    this.signal()
  }

  seekToBeginning(partitions = this.assignment()): Promise<void> {
    return this.seekBy(partitions, 'earliest')
  }

  seekToEnd(partitions = this.assignment()): Promise<void> {
    return this.seekBy(partitions, 'latest')
  }

  /** Seeks to the first record at or after `timestamp` (or the end when none is that recent). */
  seekToTimestamp(timestamp: number, partitions = this.assignment()): Promise<void> {
    return this.seekBy(partitions, { timestamp })
  }

  private async seekBy(partitions: readonly TopicPartition[],
    spec: 'earliest' | 'latest' | { timestamp: number }): Promise<void> {
    const isolationLevel = this.config.isolationLevel
    const offsets = await this.transport.listOffsets(partitions.map(tp =>
      ({ ...tp, spec, isolationLevel })))
    for (const offset of offsets) this.seek(offset)
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const state = this.subscriptions.get(tp)
      if (state !== undefined) state.paused = true
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      const state = this.subscriptions.get(tp)
      if (state !== undefined) state.paused = false
    }
    this.signal()
  }

  paused(): TopicPartition[] {
    return this.subscriptions.states().filter(state => state.paused)
      .map(({ topic, partition }) => ({ topic, partition }))
  }

  private checkOpen(): void {
    if (this.closed) throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The consumer is closed.')
  }

  /** Commits finished batches (auto commit), leaves the group and ends iteration. */
  async close(): Promise<void> {
    if (this.closed) return
    this.patternCheck?.()
    if (this.membership !== undefined && this.config.autoCommit) {
      this.subscriptions.markProcessed()
      await this.commitProcessed(this.subscriptions.assigned()).catch(() => undefined)
    }
    this.closed = true
    await this.membership?.leave()
    this.signal()
  }
}
