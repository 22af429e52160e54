/**
 * ListOffsets (key 2, v1–v3): per partition, the offset for a timestamp (Kafka's
 * ListOffsetsRequest): −2 the log start, −1 the end — the high watermark, or under
 * read_committed (v2+) the last stable offset — and otherwise the first offset whose record is
 * at least that recent. The answer's timestamp is −1: Weir's look-up returns the offset only
 * (KafkaJS and librdkafka read just the offset), and when no record is that recent it returns
 * the end, where such a record would be written, rather than Kafka's −1.
 *
 * Partitions are looked up one by one so that one unknown partition fails only itself.
 */
import type { OffsetSpec } from '../../broker/broker.ts'
import { WeirError } from '../../errors.ts'
import { knownPartitions } from './fetch-known-partitions.ts'
import { type KafkaContext, type KafkaHandler, kafkaErrorCode } from './kafka-context.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3
const EARLIEST_TIMESTAMP = -2
const LATEST_TIMESTAMP = -1
const READ_COMMITTED = 1

interface ListOffsetsPartition { readonly partitionIndex: number, readonly timestamp: number }
interface ListOffsetsTopic {
  readonly name: string
  readonly partitions: readonly ListOffsetsPartition[]
}

function specOf(timestamp: number): OffsetSpec {
  if (timestamp === EARLIEST_TIMESTAMP) return 'earliest'
  return timestamp === LATEST_TIMESTAMP ? 'latest' : { timestamp }
}

async function offsetOf(context: KafkaContext, topic: string, asked: ListOffsetsPartition,
  committed: boolean) {
  const { partitionIndex } = asked
  try {
    const [found] = await context.transport.listOffsets([{ topic, partition: partitionIndex,
      spec: specOf(asked.timestamp),
      isolationLevel: committed ? 'read_committed' : 'read_uncommitted' }])
    return { partitionIndex, errorCode: 0, timestamp: -1, offset: found!.offset }
  } catch (error) {
    if (!WeirError.is(error)) throw error
    return { partitionIndex, errorCode: kafkaErrorCode(error), timestamp: -1, offset: -1 }
  }
}

export const handleListOffsets: KafkaHandler = async (request, context) => {
  const topics = request.topics as readonly ListOffsetsTopic[]
  const committed = request.isolationLevel === READ_COMMITTED
  const known = await knownPartitions(context, topics.map(topic => topic.name))
  const answered = await Promise.all(topics.map(async ({ name, partitions }) => ({
    name,
    partitions: await Promise.all(partitions.map(asked => known(name, asked.partitionIndex)
      ? offsetOf(context, name, asked, committed)
      : { partitionIndex: asked.partitionIndex, errorCode: UNKNOWN_TOPIC_OR_PARTITION,
        timestamp: -1, offset: -1 })),
  })))
  return { throttleTimeMs: 0, topics: answered }
}
