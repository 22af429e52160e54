/**
 * OffsetCommit v2+: the coordinator commits a batch all or nothing, Kafka answers per
 * partition, so the handler splits the kinds of failure:
 * - a partition of a topic that does not exist (or beyond its partition count) gets
 *   UNKNOWN_TOPIC_OR_PARTITION (3) and is left out of the commit, as Kafka does;
 * - the commit of the others succeeds or fails as one (membership, generation, limits), and
 *   each of them gets that code.
 *
 * Sentinel offsets: Kafka stores any committed offset, and KafkaJS's admin.resetOffsets commits
 * −2 (earliest) or −1 (latest) through a consumer's seek, leaving it to the next consumer to
 * resolve them. Weir's coordinator takes only real offsets (≥ 0), so the handler resolves the
 * two sentinels here with ListOffsets (latest under read_committed, the clients' default) and
 * commits the result: the next consumer starts where it would have. Other negative offsets
 * reach the coordinator and get INVALID_REQUEST (42).
 *
 * Generation −1 with an empty member id is a "simple" commit (librdkafka's assign() without
 * joining), which the coordinator allows while the group is Empty. retention_time_ms (v2–4) is
 * ignored: offsets stay until the group is deleted.
 */
import type { OffsetCommitEntry } from '../../group/group-requests.ts'
import { assert } from '../../util/assert.ts'
import type { KafkaContext, KafkaHandler } from './kafka-context.ts'
import { optional, settle, wire } from './group-wire.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3
const EARLIEST = -2
const LATEST = -1

interface OffsetCommitWire {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly topics: ReadonlyArray<{ name: string, partitions: ReadonlyArray<{
    partitionIndex: number, committedOffset: number, committedMetadata: string | null }> }>
}

const key = (topic: string, partition: number): string => `${partition}:${topic}`

/** The entries with −2 / −1 replaced by the partition's earliest / latest offset. */
async function resolveSentinels(context: KafkaContext, entries: OffsetCommitEntry[]):
Promise<{ entries: OffsetCommitEntry[], errors: Map<string, number> }> {
  const errors = new Map<string, number>()
  const resolved: OffsetCommitEntry[] = []
  for (const entry of entries) {
    if (entry.offset !== EARLIEST && entry.offset !== LATEST) {
      resolved.push(entry)
      continue
    }
    const { errorCode, value } = await settle(() => context.transport.listOffsets([{
      topic: entry.topic, partition: entry.partition,
      spec: entry.offset === EARLIEST ? 'earliest' : 'latest',
      isolationLevel: 'read_committed' }]))
    if (value?.[0] === undefined) errors.set(key(entry.topic, entry.partition), errorCode)
    else resolved.push({ ...entry, offset: value[0].offset })
  }
  assert(resolved.length + errors.size <= entries.length, 'each entry resolves at most once')
  assert(resolved.every(entry => entry.offset !== EARLIEST && entry.offset !== LATEST),
    'no sentinel reaches the coordinator')
  return { entries: resolved, errors }
}

export const handleOffsetCommit: KafkaHandler = async (request, context) => {
  const commit = wire<OffsetCommitWire>(request)
  const partitionCounts = new Map((await context.transport.listTopics())
    .map(topic => [topic.name, topic.partitions]))
  const exists = (topic: string, partition: number): boolean =>
    partition >= 0 && partition < (partitionCounts.get(topic) ?? 0)
  const requested: OffsetCommitEntry[] = commit.topics.flatMap(topic => topic.partitions
    .filter(partition => exists(topic.name, partition.partitionIndex))
    .map(partition => {
      const metadata = optional(partition.committedMetadata)
      return { topic: topic.name, partition: partition.partitionIndex,
        offset: partition.committedOffset, ...(metadata === undefined ? {} : { metadata }) }
    }))
  const { entries, errors } = await resolveSentinels(context, requested)
  const { errorCode } = entries.length === 0 ? { errorCode: 0 }
    : await settle(() => context.transport.commitOffsets({ groupId: commit.groupId,
      generationId: commit.generationId, memberId: commit.memberId, offsets: entries }))
  const codeOf = (topic: string, partition: number): number => exists(topic, partition)
    ? errors.get(key(topic, partition)) ?? errorCode : UNKNOWN_TOPIC_OR_PARTITION
  return {
    throttleTimeMs: 0,
    topics: commit.topics.map(topic => ({ name: topic.name,
      partitions: topic.partitions.map(({ partitionIndex }) => ({ partitionIndex,
        errorCode: codeOf(topic.name, partitionIndex) })) })),
  }
}
