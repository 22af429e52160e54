/**
 * Fetch (key 1, v4–v11): reads raw stored batches through the transport's long-poll fetch and
 * answers per partition, as Kafka's KafkaApis.handleFetchRequest does for a consumer.
 *
 * - max_wait_ms, min_bytes, max_bytes and partition_max_bytes go to the transport as they are
 *   (its wait is bounded by both max_wait_ms and fetchWaitMsMax), so a long poll never outlives
 *   max_wait_ms. It holds its connection meanwhile: Kafka answers one request at a time per
 *   connection, which is why clients fetch on a connection of their own.
 * - At least one whole batch, even past the byte limits (KIP-74): the log returns its first
 *   batch whole, and max_bytes is raised to 1 so that a zero budget still reads it.
 * - isolation_level 1 reads below the last stable offset and lists the aborted transactions of
 *   the range, sorted by first offset (clients walk them in order); under 0 the list is null.
 * - Fetch sessions (v7+, KIP-227) are not kept: every answer has session_id 0, so clients keep
 *   sending full fetches; a request naming a session gets FETCH_SESSION_ID_NOT_FOUND (70).
 * - Unknown topics or partitions get UNKNOWN_TOPIC_OR_PARTITION (3) without failing the others;
 *   a fetch offset below the log start or past the log end gets OFFSET_OUT_OF_RANGE (1), and
 *   one between the high watermark and the log end an empty answer, as in Kafka's LocalLog.read
 *   (an acks=1 batch is answered before it reaches the high watermark: a reader told it is out
 *   of range there would reset its position for nothing). Errors carry −1 offsets, as Kafka's.
 */
import type { FetchRequest, FetchResult } from '../../broker/fetch.ts'
import { WeirError } from '../../errors.ts'
import { type KafkaContext, type KafkaHandler, kafkaErrorCode } from './kafka-context.ts'
import { knownPartitions } from './fetch-known-partitions.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3
const FETCH_SESSION_ID_NOT_FOUND = 70
const READ_COMMITTED = 1
const EMPTY = Buffer.alloc(0)

interface FetchPartition {
  readonly partition: number
  readonly fetchOffset: number
  readonly partitionMaxBytes: number
}
interface FetchTopic { readonly topic: string, readonly partitions: readonly FetchPartition[] }

interface PartitionResponse {
  partitionIndex: number
  errorCode: number
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
  abortedTransactions: Array<{ producerId: number, firstOffset: number }> | null
  preferredReadReplica: number
  records: Buffer
}

function failed(partitionIndex: number, errorCode: number): PartitionResponse {
  return { partitionIndex, errorCode, highWatermark: -1, lastStableOffset: -1,
    logStartOffset: -1, abortedTransactions: null, preferredReadReplica: -1, records: EMPTY }
}

function answer(asked: FetchPartition, result: FetchResult, committed: boolean):
PartitionResponse {
  // OFFSET_OUT_OF_RANGE comes from the log, with Kafka's bounds (see the file comment).
  if (result.error !== undefined) return failed(asked.partition, kafkaErrorCode(result.error))
  const { highWatermark, lastStableOffset, logStartOffset } = result
  const aborted = committed
    ? [...result.abortedTransactions ?? []].sort((a, b) => a.firstOffset - b.firstOffset)
      .map(({ producerId, firstOffset }) => ({ producerId, firstOffset }))
    : null
  return { partitionIndex: asked.partition, errorCode: 0, highWatermark, lastStableOffset,
    logStartOffset, abortedTransactions: aborted, preferredReadReplica: -1,
    records: result.bytes }
}

/** The transport's results by position in `asked`, or one error code for all of them. */
async function fetchKnown(context: KafkaContext, request: FetchRequest):
Promise<readonly FetchResult[] | number> {
  if (request.partitions.length === 0) return []
  try {
    return await context.transport.fetch(request)
  } catch (error) {
    if (!WeirError.is(error)) throw error
    return kafkaErrorCode(error)
  }
}

export const handleFetch: KafkaHandler = async (request, context) => {
  const sessionId = request.sessionId as number | undefined
  if (sessionId !== undefined && sessionId !== 0) {
    return { throttleTimeMs: 0, errorCode: FETCH_SESSION_ID_NOT_FOUND, sessionId: 0,
      responses: [] }
  }
  const topics = request.topics as readonly FetchTopic[]
  const committed = request.isolationLevel === READ_COMMITTED
  const known = await knownPartitions(context, topics.map(topic => topic.topic))
  const asked = topics.flatMap(({ topic, partitions }) => partitions
    .filter(p => known(topic, p.partition))
    .map(p => ({ topic, partition: p.partition, offset: p.fetchOffset,
      maxBytes: Math.max(1, p.partitionMaxBytes) })))
  const results = await fetchKnown(context, {
    partitions: asked,
    isolationLevel: committed ? 'read_committed' : 'read_uncommitted',
    maxWaitMs: Math.max(0, request.maxWaitMs as number),
    minBytes: request.minBytes as number,
    maxBytes: Math.max(1, request.maxBytes as number),
  })
  let next = 0
  const responses = topics.map(({ topic, partitions }) => ({
    topic,
    partitions: partitions.map(p => {
      if (!known(topic, p.partition)) return failed(p.partition, UNKNOWN_TOPIC_OR_PARTITION)
      const index = next++
      if (typeof results === 'number') return failed(p.partition, results)
      return answer(p, results[index]!, committed)
    }),
  }))
  return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses }
}
