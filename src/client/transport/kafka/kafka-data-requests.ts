/**
 * Produce, Fetch and ListOffsets against a Kafka cluster: each partition's request goes to its
 * leader, one request per leader, answers put back in the caller's order.
 *
 * - Produce sends Weir's encoded batch as it is (RecordBatch v2, Weir's producer id, epoch and
 *   sequence) with the producer's transactional id, which Kafka requires for transactional
 *   batches. A retried batch the broker already has is answered DUPLICATE_SEQUENCE_NUMBER by
 *   old brokers: reported as a duplicate, as Weir's broker does.
 * - Fetch keeps whole batches only: Kafka may cut the last one at the byte limit (Weir's
 *   decoder takes whole batches), and the next offset is the last whole batch's end.
 * - ListOffsets by timestamp past the last record answers −1 in Kafka; Weir answers the end of
 *   the log (what `Broker.listOffset` does), so the transport asks for 'latest' then.
 */
import type { ProduceResult } from '../../../broker/partition.ts'
import type { FetchRequest, FetchResult } from '../../../broker/fetch.ts'
import { WeirError } from '../../../errors.ts'
import type { ListOffsetsRequest, PartitionOffset, ProduceRequest } from '../transport.ts'
import type { BrokerAddress } from './broker-connections.ts'
import { API, type KafkaCluster } from './kafka-cluster.ts'
import { kafkaError } from './kafka-errors.ts'

const DUPLICATE_SEQUENCE_NUMBER = 46
const PRODUCE_TIMEOUT_MS = 30_000
const BATCH_HEADER_BYTES = 12
const LAST_OFFSET_DELTA_AT = 23
const MAGIC_AT = 16
const PARTITION_BYTES_DEFAULT = 1024 * 1024
const FETCH_BYTES_DEFAULT = 50 * 1024 * 1024
const READ_COMMITTED = 1

interface ProduceAnswer {
  responses: Array<{ partitionResponses: Array<{ errorCode: number, baseOffset: number }> }>
}

/** Errors after which the partition's leader is looked up again. */
function forgetsLeader(error: WeirError): boolean {
  return error.code === 'NOT_LEADER_OR_FOLLOWER' || error.code === 'LEADER_NOT_AVAILABLE'
    || error.code === 'UNKNOWN_TOPIC_OR_PARTITION'
}

export async function produce(cluster: KafkaCluster, request: ProduceRequest):
Promise<ProduceResult> {
  const { topic, partition, batch } = request
  const address = await cluster.leader(topic, partition)
  const { answer } = await cluster.request<ProduceAnswer>(address, API.produce, {
    transactionalId: request.transactionalId ?? null,
    acks: request.acks === 'all' ? -1 : request.acks, timeoutMs: PRODUCE_TIMEOUT_MS,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  }, { expectResponse: request.acks !== 0 })
  if (answer === undefined) return { baseOffset: -1, lastOffset: -1, duplicate: false }
  const { errorCode, baseOffset } = answer.responses[0]!.partitionResponses[0]!
  if (errorCode === DUPLICATE_SEQUENCE_NUMBER) {
    return { baseOffset: -1, lastOffset: -1, duplicate: true }
  }
  const error = kafkaError(errorCode, `Produce to ${topic}/${partition}`)
  if (error !== undefined) {
    if (forgetsLeader(error)) cluster.forget(topic)
    throw error
  }
  const lastOffsetDelta = batch.readInt32BE(LAST_OFFSET_DELTA_AT)
  return { baseOffset, lastOffset: baseOffset + lastOffsetDelta, duplicate: false }
}

/** Groups items by their partition's leader; an item whose lookup fails gets `failed`. */
async function byLeader<T extends { topic: string, partition: number }>(cluster: KafkaCluster,
  items: readonly T[], failed: (index: number, error: WeirError) => void):
Promise<Map<BrokerAddress, Array<{ item: T, index: number }>>> {
  const groups = new Map<BrokerAddress, Array<{ item: T, index: number }>>()
  for (const [index, item] of items.entries()) {
    try {
      const leader = await cluster.leader(item.topic, item.partition)
      groups.set(leader, [...groups.get(leader) ?? [], { item, index }])
    } catch (error) {
      if (!WeirError.is(error) || error.code === 'NETWORK_EXCEPTION') throw error
      failed(index, error)
    }
  }
  return groups
}

/** Nested topics → partitions, in first-seen order. */
function nest<T extends { topic: string }, P>(entries: ReadonlyArray<{ item: T }>,
  partition: (item: T) => P): Array<{ topic: string, partitions: P[] }> {
  const topics = new Map<string, P[]>()
  for (const { item } of entries) topics.set(item.topic, [...topics.get(item.topic) ?? [],
    partition(item)])
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }))
}

interface FetchAnswer {
  errorCode?: number
  responses: Array<{ topic: string, partitions: Array<{ partitionIndex: number,
    errorCode: number, highWatermark: number, lastStableOffset: number,
    logStartOffset?: number, abortedTransactions: Array<{ producerId: number,
      firstOffset: number }> | null, records: Buffer | null }> }>
}

/** The whole batches at the front of `records` and the offset after the last of them. */
export function wholeBatches(records: Buffer | null, fetchOffset: number):
{ bytes: Buffer, nextOffset: number } {
  if (records === null) return { bytes: Buffer.alloc(0), nextOffset: fetchOffset }
  let end = 0
  let nextOffset = fetchOffset
  while (end + BATCH_HEADER_BYTES <= records.length) {
    const batchEnd = end + BATCH_HEADER_BYTES + records.readInt32BE(end + 8)
    if (batchEnd > records.length || batchEnd < end + LAST_OFFSET_DELTA_AT + 4) break
    if (records.readInt8(end + MAGIC_AT) !== 2) {
      throw new WeirError('UNSUPPORTED_VERSION', 'A Kafka topic holds records in the old '
        + 'message format (magic 0 or 1), which Weir does not read; convert the topic.')
    }
    const last = Number(records.readBigInt64BE(end)) + records.readInt32BE(end
      + LAST_OFFSET_DELTA_AT)
    nextOffset = Math.max(nextOffset, last + 1)
    end = batchEnd
  }
  // A copy: the response buffer holds every partition's bytes, and results outlive it.
  return { bytes: Buffer.from(records.subarray(0, end)), nextOffset }
}

export async function fetch(cluster: KafkaCluster, request: FetchRequest):
Promise<FetchResult[]> {
  const results: FetchResult[] = []
  const failed = (index: number, error: WeirError): void => {
    const { topic, partition, offset } = request.partitions[index]!
    results[index] = { topic, partition, bytes: Buffer.alloc(0), nextOffset: offset,
      highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, error }
  }
  const groups = await byLeader(cluster, request.partitions, failed)
  const maxWaitMs = request.maxWaitMs ?? 0
  await Promise.all([...groups].map(async ([leader, entries]) => {
    const { answer } = await cluster.call<FetchAnswer>(leader, API.fetch, {
      replicaId: -1, maxWaitMs, minBytes: request.minBytes ?? 1,
      maxBytes: request.maxBytes ?? FETCH_BYTES_DEFAULT,
      isolationLevel: request.isolationLevel === 'read_committed' ? READ_COMMITTED : 0,
      sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
      topics: nest(entries, p => ({ partition: p.partition, currentLeaderEpoch: -1,
        fetchOffset: p.offset, logStartOffset: -1,
        partitionMaxBytes: p.maxBytes ?? PARTITION_BYTES_DEFAULT })),
    }, { timeoutMs: maxWaitMs + 30_000 })
    const sessionError = kafkaError(answer.errorCode ?? 0, 'Fetch')
    if (sessionError !== undefined) throw sessionError
    const answered = new Map(answer.responses.flatMap(topic => topic.partitions.map(p =>
      [`${p.partitionIndex}:${topic.topic}`, p] as const)))
    for (const { item, index } of entries) {
      const found = answered.get(`${item.partition}:${item.topic}`)
      const error = found === undefined
        ? new WeirError('UNKNOWN_SERVER_ERROR', `The Kafka cluster did not answer the fetch of `
          + `${item.topic}/${item.partition}.`)
        : kafkaError(found.errorCode, `Fetch of ${item.topic}/${item.partition}`)
      if (error !== undefined || found === undefined) {
        if (forgetsLeader(error!)) cluster.forget(item.topic)
        failed(index, error!)
        continue
      }
      const { bytes, nextOffset } = wholeBatches(found.records, item.offset)
      results[index] = { topic: item.topic, partition: item.partition, bytes, nextOffset,
        highWatermark: found.highWatermark, lastStableOffset: found.lastStableOffset,
        logStartOffset: found.logStartOffset ?? -1,
        ...(found.abortedTransactions === null ? {} : {
          abortedTransactions: found.abortedTransactions.map(({ producerId, firstOffset }) =>
            ({ producerId, firstOffset })) }) }
    }
  }))
  return results
}

interface ListOffsetsAnswer {
  topics: Array<{ name: string, partitions: Array<{ partitionIndex: number, errorCode: number,
    offset: number }> }>
}

const EARLIEST = -2
const LATEST = -1

export async function listOffsets(cluster: KafkaCluster,
  requests: readonly ListOffsetsRequest[]): Promise<PartitionOffset[]> {
  const committed = requests.filter(r => r.isolationLevel === 'read_committed')
  if (committed.length > 0 && committed.length < requests.length) {
    // One isolation level per Kafka request: ask for each level apart, answer in order.
    const [a, b] = await Promise.all([listOffsets(cluster, committed),
      listOffsets(cluster, requests.filter(r => r.isolationLevel !== 'read_committed'))])
    const answers = [...a, ...b]
    return requests.map(r => answers.find(o => o.topic === r.topic
      && o.partition === r.partition)!)
  }
  const offsets: PartitionOffset[] = []
  const groups = await byLeader(cluster, requests, (_index, error) => {
    throw error
  })
  await Promise.all([...groups].map(async ([leader, entries]) => {
    const ask = async (timestamp: (item: ListOffsetsRequest) => number) => {
      const { answer } = await cluster.call<ListOffsetsAnswer>(leader, API.listOffsets, {
        replicaId: -1,
        isolationLevel: entries[0]!.item.isolationLevel === 'read_committed' ? 1 : 0,
        topics: nest(entries, p => ({ partitionIndex: p.partition, timestamp: timestamp(p) }))
          .map(({ topic, partitions }) => ({ name: topic, partitions })) })
      return new Map<string, ListOffsetsAnswer['topics'][number]['partitions'][number]>(
        answer.topics.flatMap(topic => topic.partitions.map(p =>
          [`${p.partitionIndex}:${topic.name}`, p] as const)))
    }
    const first = await ask(({ spec }) => spec === 'earliest' ? EARLIEST
      : spec === 'latest' ? LATEST : spec.timestamp)
    const pastEnd = entries.some(({ item }) =>
      first.get(`${item.partition}:${item.topic}`)?.offset === -1)
    const latest = pastEnd ? await ask(() => LATEST) : first
    for (const { item, index } of entries) {
      const key = `${item.partition}:${item.topic}`
      let found = first.get(key)
      if (found?.errorCode === 0 && found.offset === -1) found = latest.get(key)
      const error = found === undefined
        ? new WeirError('UNKNOWN_SERVER_ERROR', `The Kafka cluster did not answer ListOffsets `
          + `for ${item.topic}/${item.partition}.`)
        : kafkaError(found.errorCode, `ListOffsets of ${item.topic}/${item.partition}`)
      if (error !== undefined) {
        if (forgetsLeader(error)) cluster.forget(item.topic)
        throw error
      }
      offsets[index] = { topic: item.topic, partition: item.partition, offset: found!.offset }
    }
  }))
  return offsets
}
