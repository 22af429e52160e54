/**
 * Produce (key 0, v0–v7): appends each partition's record batch through the transport and
 * answers per partition, as Kafka's KafkaApis.handleProduceRequest does.
 *
 * - v3+: `records` must hold exactly one RecordBatch v2 (Kafka's ProduceRequest.validateRecords;
 *   otherwise INVALID_RECORD, 87). Weir does not split several batches: the first could be
 *   appended and the second refused, which one per-partition error code cannot say.
 * - v0–v2 carry old message sets, which Weir does not store: UNSUPPORTED_VERSION (35) per
 *   partition. They are served only so that the advertised range starts at 0 (librdkafka).
 * - The broker checks CRC, size, producer id, epoch and sequence (dedup and fencing are the
 *   native API's); its errors map to Kafka's codes, with two renamings for the produce path.
 * - acks 0: the appends are still ordered before the next request, but nothing is answered;
 *   a failed one closes the connection instead (Kafka's way of telling the client).
 * - timeout_ms is ignored: a single node waits for no replicas.
 */
import type { Acks } from '../../broker/partition.ts'
import { WeirError } from '../../errors.ts'
import { LOG_OVERHEAD_BYTES } from '../../log/record-batch.ts'
import { type KafkaContext, type KafkaHandler, kafkaErrorCode } from './kafka-context.ts'
import { logStartOffsets } from './produce-log-start.ts'

const CORRUPT_MESSAGE = 2
const MESSAGE_TOO_LARGE = 10
const INVALID_REQUIRED_ACKS = 21
const UNSUPPORTED_VERSION = 35
const INVALID_PRODUCER_EPOCH = 47
const INVALID_RECORD = 87
const RECORD_BATCH_V2_FIRST_VERSION = 3

interface PartitionData { readonly index: number, readonly records: Buffer | null }
interface TopicData { readonly name: string, readonly partitionData: readonly PartitionData[] }

interface PartitionResponse {
  index: number
  errorCode: number
  baseOffset: number
  logAppendTimeMs: number
  logStartOffset: number
}

/**
 * Kafka's code for a produce failure. A stale epoch is INVALID_PRODUCER_EPOCH on this path
 * (Kafka's ProducerAppendInfo.checkProducerEpoch; KafkaJS 2.2.4 does not know PRODUCER_FENCED,
 * 90), and a batch over the size limit MESSAGE_TOO_LARGE (UnifiedLog throws
 * RecordTooLargeException past max.message.bytes).
 */
function produceErrorCode(error: WeirError): number {
  if (error.code === 'PRODUCER_FENCED') return INVALID_PRODUCER_EPOCH
  if (error.code === 'RECORD_LIST_TOO_LARGE') return MESSAGE_TOO_LARGE
  return kafkaErrorCode(error)
}

function acksOf(acks: number): Acks | undefined {
  if (acks === -1) return 'all'
  return acks === 0 || acks === 1 ? acks : undefined
}

/** Why `records` is not exactly one batch (Kafka checks the count before the broker looks). */
function recordsDefect(records: Buffer | null): number | undefined {
  if (records === null || records.length === 0) return INVALID_RECORD
  if (records.length < LOG_OVERHEAD_BYTES) return CORRUPT_MESSAGE
  const batchBytes = LOG_OVERHEAD_BYTES + records.readInt32BE(8)
  // A shorter batch than declared is damaged (the broker says CORRUPT_MESSAGE); a longer
  // buffer holds a second batch.
  return batchBytes < records.length ? INVALID_RECORD : undefined
}

function failed(index: number, errorCode: number): PartitionResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }
}

async function appendOne(context: KafkaContext, topic: string,
  data: PartitionData, acks: Acks): Promise<PartitionResponse> {
  const defect = recordsDefect(data.records)
  if (defect !== undefined) return failed(data.index, defect)
  try {
    // A copy: the log rewrites the base offset in place and may keep the batch in its tail
    // cache, so it must not be a view into the request frame.
    const batch = Buffer.from(data.records!)
    const result = await context.transport.produce({ topic, partition: data.index, batch, acks })
    return { index: data.index, errorCode: 0, baseOffset: result.baseOffset,
      logAppendTimeMs: -1, logStartOffset: -1 }
  } catch (error) {
    if (!WeirError.is(error)) throw error
    return failed(data.index, produceErrorCode(error))
  }
}

export const handleProduce: KafkaHandler = async (request, context, header) => {
  const topicData = request.topicData as readonly TopicData[]
  const acks = acksOf(request.acks as number)
  const supported = header.apiVersion >= RECORD_BATCH_V2_FIRST_VERSION
  // Every append is started in request order before any is awaited: the broker assigns
  // offsets synchronously, so the order is the request's, and one flush can carry them all.
  const responses = topicData.map(({ name, partitionData }) => ({
    name,
    partitionResponses: partitionData.map(data => {
      if (acks === undefined) return Promise.resolve(failed(data.index, INVALID_REQUIRED_ACKS))
      if (!supported) return Promise.resolve(failed(data.index, UNSUPPORTED_VERSION))
      return appendOne(context, name, data, acks)
    }),
  }))
  const settled = await Promise.all(responses.map(async topic => ({ name: topic.name,
    partitionResponses: await Promise.all(topic.partitionResponses) })))
  if (acks === 0) {
    // No response to carry an error: Kafka closes the connection instead, so the client
    // learns that something failed (KafkaApis.handleProduceRequest); a throw here does that.
    const failure = settled.flatMap(topic => topic.partitionResponses)
      .find(partition => partition.errorCode !== 0)
    if (failure !== undefined) throw new Error(`acks=0 produce failed (${failure.errorCode})`)
    return undefined
  }
  await logStartOffsets(context, settled)
  return { responses: settled, throttleTimeMs: 0 }
}
