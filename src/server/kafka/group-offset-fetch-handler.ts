/**
 * OffsetFetch v1+: the group's committed offsets for the named partitions, −1 with empty
 * metadata where none is committed (Kafka's INVALID_OFFSET and NO_METADATA, no error); from v2
 * null topics asks for every committed offset of the group. A group-level failure (e.g.
 * INVALID_GROUP_ID) goes, as Kafka's OffsetFetchRequest.getErrorResponse puts it, on every
 * requested partition in v1 (which has no group-level field) and in the top-level error code,
 * with no partitions, from v2.
 *
 * v5 adds committed_leader_epoch (−1: Weir keeps no leader epochs), v6 is flexible, and v7's
 * require_stable (KIP-447) makes partitions whose offsets wait in an undecided transaction
 * answer UNSTABLE_OFFSET_COMMIT (88) instead of the offsets from before it. Weir's coordinator
 * refuses the whole fetch then; the code goes on each requested partition, as Kafka puts it
 * (or, for an all-topics fetch, on the group).
 */
import type { TopicPartition } from '../../group/assignor.ts'
import type { CommittedOffset } from '../../group/group-requests.ts'
import { assert } from '../../util/assert.ts'
import type { KafkaHandler } from './kafka-context.ts'
import { NO_ERROR, settle, wire } from './group-wire.ts'

const NO_OFFSET = -1
const NO_LEADER_EPOCH = -1
const UNSTABLE_OFFSET_COMMIT = 88

interface OffsetFetchWire {
  readonly groupId: string
  /** null (v2+): every committed offset of the group. */
  readonly topics: ReadonlyArray<{ name: string, partitionIndexes: readonly number[] }> | null
  /** v7+. */
  readonly requireStable?: boolean
}

interface PartitionAnswer {
  partitionIndex: number
  committedOffset: number
  committedLeaderEpoch: number
  metadata: string
  errorCode: number
}

function byTopic(entries: ReadonlyArray<{ topic: string, answer: PartitionAnswer }>) {
  const topics = new Map<string, PartitionAnswer[]>()
  for (const { topic, answer } of entries) {
    const partitions = topics.get(topic) ?? []
    partitions.push(answer)
    topics.set(topic, partitions)
  }
  return [...topics].map(([name, partitions]) => ({ name, partitions }))
}

function answer(partition: number, committed: CommittedOffset | undefined,
  errorCode = NO_ERROR): PartitionAnswer {
  return { partitionIndex: partition, committedOffset: committed?.offset ?? NO_OFFSET,
    committedLeaderEpoch: NO_LEADER_EPOCH, metadata: committed?.metadata ?? '', errorCode }
}

export const handleOffsetFetch: KafkaHandler = async (request, context, header) => {
  const { groupId, topics, requireStable } = wire<OffsetFetchWire>(request)
  const requested: TopicPartition[] | undefined = topics?.flatMap(topic =>
    topic.partitionIndexes.map(partition => ({ topic: topic.name, partition })))
  const { errorCode, value } = await settle(() => context.transport.fetchOffsets({ groupId,
    ...(requested === undefined ? {} : { partitions: requested }),
    ...(requireStable === true ? { requireStable } : {}) }))
  if (value === undefined) {
    // v1 has no group-level error code: the error goes on each partition (Kafka's rule).
    const perPartition = header.apiVersion < 2 || errorCode === UNSTABLE_OFFSET_COMMIT
      ? requested ?? [] : []
    if (perPartition.length > 0 && header.apiVersion >= 2) {
      return { throttleTimeMs: 0, errorCode: NO_ERROR, topics: byTopic(perPartition.map(
        ({ topic, partition }) => ({ topic, answer: answer(partition, undefined, errorCode) }))) }
    }
    return { throttleTimeMs: 0, errorCode, topics: byTopic(perPartition.map(({ topic,
      partition }) => ({ topic, answer: answer(partition, undefined, errorCode) }))) }
  }
  const committed = new Map(value.map(entry => [`${entry.partition}:${entry.topic}`, entry]))
  const entries = (requested ?? value).map(({ topic, partition }) =>
    ({ topic, answer: answer(partition, committed.get(`${partition}:${topic}`)) }))
  assert(requested !== undefined || entries.every(entry => entry.answer.committedOffset >= 0),
    'every offset of an all-topics fetch is committed')
  return { throttleTimeMs: 0, errorCode: NO_ERROR, topics: byTopic(entries) }
}
