/**
 * Admin operations (KafkaJS's admin client, Kafka's AdminClient): topics, groups, committed
 * offsets, lag, and offset resets for inactive groups. Everything goes through the transport.
 * Lag is measured at an isolation level, read_committed by default like the consumer's: to the
 * last stable offset, since records of undecided transactions are not yet readable work.
 */
import { WeirError } from '../errors.ts'
import type { CreateTopicRequest, OffsetSpec, TopicDescription } from '../broker/broker.ts'
import type { IsolationLevel } from '../broker/fetch.ts'
import type { TopicMetadata } from '../broker/topic-registry.ts'
import type { TopicPartition } from '../group/assignor.ts'
import type {
  CommittedOffset, GroupDescription, GroupListing,
} from '../group/group-requests.ts'
import { partitionKey } from './subscription-state.ts'
import { describeExistingTopics } from './topic-metadata-cache.ts'
import type { TransactionDescription } from '../txn/txn-requests.ts'
import type { Transport } from './transport/transport.ts'

export interface PartitionLag extends TopicPartition {
  /** The group's committed offset, or -1 when it has none. */
  readonly committedOffset: number
  /**
   * The end the lag is measured to: the last stable offset under read_committed, the high
   * watermark under read_uncommitted (the end of what a consumer at that level can read).
   */
  readonly logEndOffset: number
  /** logEndOffset − committed (the whole partition when nothing is committed). */
  readonly lag: number
}

export interface LagOptions {
  /**
   * The isolation level of the group's consumers; default 'read_committed', the consumer's
   * default. Under it, records of a transaction not yet decided are not counted: the group cannot
   * read them yet, so they are not work it is behind on.
   */
  readonly isolationLevel?: IsolationLevel
}

export interface ResetOffsetsOptions {
  readonly groupId: string
  readonly topic: string
  /** Defaults to every partition of the topic. */
  readonly partitions?: readonly number[]
  readonly to: OffsetSpec | { readonly offset: number }
}

export class Admin {
  constructor(private readonly transport: Transport) {}

  createTopics(topics: readonly CreateTopicRequest[]): Promise<TopicMetadata[]> {
    return this.transport.createTopics(topics)
  }

  deleteTopics(topics: readonly string[]): Promise<void> {
    return this.transport.deleteTopics(topics)
  }

  /** Raises a topic's partition count to `count`. */
  createPartitions(topic: string, count: number): Promise<TopicMetadata> {
    return this.transport.createPartitions(topic, count)
  }

  listTopics(options?: { includeInternal?: boolean }): Promise<TopicMetadata[]> {
    return this.transport.listTopics(options)
  }

  describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    return this.transport.describeTopics(topics)
  }

  listGroups(): Promise<GroupListing[]> {
    return this.transport.listGroups()
  }

  /** A group's state, members and (decoded) assignments. */
  async describeGroup(groupId: string): Promise<GroupDescription & {
    assignments: ReadonlyArray<{ memberId: string, partitions: TopicPartition[] }>
  }> {
    const description = await this.transport.describeGroup(groupId)
    const assignments = description.members.map(member => ({ memberId: member.memberId,
      partitions: decodePartitions(member.assignment) }))
    return { ...description, assignments }
  }

  /**
   * The group's committed offsets. A transaction's offsets count once its commit marker is
   * written, a moment after `commitTransaction()` resolves; with `requireStable` the call waits
   * for offsets a transaction still holds undecided (retrying UNSTABLE_OFFSET_COMMIT every
   * 10 ms, up to `timeoutMs`, default 5 s), as Kafka's AdminClient does with requireStable
   * (KIP-447).
   * @throws UNSTABLE_OFFSET_COMMIT when a transaction stays undecided past `timeoutMs`
   */
  async fetchOffsets(groupId: string, partitions?: readonly TopicPartition[],
    options: { requireStable?: boolean, timeoutMs?: number } = {}): Promise<CommittedOffset[]> {
    const request = { groupId, ...(partitions === undefined ? {} : { partitions }),
      ...(options.requireStable === true ? { requireStable: true } : {}) }
    const deadline = Date.now() + (options.timeoutMs ?? 5_000)
    for (;;) {
      try {
        return await this.transport.fetchOffsets(request)
      } catch (error) {
        if (!WeirError.is(error, 'UNSTABLE_OFFSET_COMMIT') || Date.now() > deadline) throw error
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    }
  }

  /**
   * Lag per partition of every topic the group committed offsets for (or of `topics`), measured
   * to the last stable offset (read_committed, the default) or to the high watermark
   * (`{ isolationLevel: 'read_uncommitted' }`); without open transactions the two are equal.
   * @example
   * const total = (await admin.lag('billing')).reduce((sum, p) => sum + p.lag, 0)
   * @see Kafka's kafka-consumer-groups --describe (LAG column)
   */
  async lag(groupId: string, topics?: readonly string[], options: LagOptions = {}):
  Promise<PartitionLag[]> {
    const committed = await this.transport.fetchOffsets({ groupId })
    const names = topics ?? [...new Set(committed.map(c => c.topic))]
    const described = await describeExistingTopics(this.transport, names)
    const ends = await this.endOffsets(described, options.isolationLevel ?? 'read_committed')
    const lags: PartitionLag[] = []
    for (const description of described) {
      for (const state of description.partitionStates) {
        const found = committed.find(c => c.topic === description.name
          && c.partition === state.partition)
        const committedOffset = found?.offset ?? -1
        const from = committedOffset >= 0 ? committedOffset : state.logStartOffset
        const end = ends.get(partitionKey({ topic: description.name,
          partition: state.partition })) ?? state.highWatermark
        lags.push({ topic: description.name, partition: state.partition, committedOffset,
          logEndOffset: end, lag: Math.max(0, end - from) })
      }
    }
    return lags
  }

  /**
   * Under read_committed, the last stable offset of each partition (ListOffsets 'latest' at
   * READ_COMMITTED, one request for all); under read_uncommitted none is needed: the described
   * high watermark is the end. Keyed by `partitionKey`.
   */
  private async endOffsets(described: readonly TopicDescription[],
    isolationLevel: IsolationLevel): Promise<Map<string, number>> {
    const ends = new Map<string, number>()
    if (isolationLevel !== 'read_committed') return ends
    const requests = described.flatMap(description => description.partitionStates.map(state =>
      ({ topic: description.name, partition: state.partition, spec: 'latest' as const,
        isolationLevel })))
    if (requests.length === 0) return ends
    for (const offset of await this.transport.listOffsets(requests)) {
      ends.set(partitionKey(offset), offset.offset)
    }
    return ends
  }

  /**
   * Sets a group's committed offsets for a topic; the group must have no active members.
   * @throws NON_EMPTY_GROUP, UNKNOWN_TOPIC, OFFSET_OUT_OF_RANGE
   */
  async resetOffsets(options: ResetOffsetsOptions): Promise<void> {
    const [description] = await this.transport.describeTopics([options.topic])
    const partitions = options.partitions
      ?? Array.from({ length: description!.partitions }, (_, i) => i)
    const to = options.to
    const offsets = typeof to === 'object' && 'offset' in to
      ? partitions.map(partition => ({ topic: options.topic, partition, offset: to.offset }))
      : await this.transport.listOffsets(partitions.map(partition =>
        ({ topic: options.topic, partition, spec: to })))
    for (const offset of offsets) {
      if (!Number.isSafeInteger(offset.offset) || offset.offset < 0) {
        throw new WeirError('INVALID_REQUEST', `Cannot reset to offset ${offset.offset}.`)
      }
    }
    await this.transport.resetOffsets({ groupId: options.groupId, offsets })
  }

  /**
   * Transactional ids with their producer id, epoch, state and the partitions of the open
   * transaction (Kafka's kafka-transactions.sh describe).
   * @throws TRANSACTIONAL_ID_NOT_FOUND
   */
  describeTransactions(transactionalIds: readonly string[]): Promise<TransactionDescription[]> {
    return this.transport.describeTransactions(transactionalIds)
  }

  /** Every transactional id the coordinator knows (kafka-transactions.sh list). */
  listTransactions(): Promise<TransactionDescription[]> {
    return this.transport.listTransactions()
  }

  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return this.transport.deleteGroups(groupIds)
  }
}

function decodePartitions(assignment: Buffer): TopicPartition[] {
  if (assignment.length === 0) return []
  try {
    return (JSON.parse(assignment.toString('utf8')) as { partitions: TopicPartition[] })
      .partitions
  } catch {
    return [] // a member of another client library: its assignment format is not ours
  }
}
