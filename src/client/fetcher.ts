/**
 * Turns fetch responses into the batches a consumer hands out (Kafka's Fetcher): one fetch over
 * every fetchable partition, stored batches decoded, records before the position dropped (a batch
 * read from the middle starts earlier), control batches skipped, positions advanced. A response
 * for a partition whose epoch moved while the fetch was out (seek, revocation) is discarded.
 *
 * OFFSET_OUT_OF_RANGE resets the position by `autoOffsetReset`, as Kafka's consumer does.
 */
import type { TopicPartition } from '../group/assignor.ts'
import {
  decodeRecords, forEachBatch, isControl, type LogRecord, readBatchHeader,
} from '../log/record-batch.ts'
import type { ConsumerConfig } from './consumer-config.ts'
import type { PartitionState, SubscriptionState } from './subscription-state.ts'
import type { Transport } from './transport/transport.ts'

export interface ConsumedRecord extends LogRecord {
  readonly topic: string
  readonly partition: number
}

/** Records of one partition from one fetch, in offset order. */
export interface ConsumerBatch extends TopicPartition {
  readonly records: readonly ConsumedRecord[]
  /** The partition's high watermark when fetched (lag = highWatermark − next offset). */
  readonly highWatermark: number
  /** Offset after the batch's last record (what a commit after it stores). */
  readonly nextOffset: number
}

export async function fetchBatches(transport: Transport, subscriptions: SubscriptionState,
  config: ConsumerConfig): Promise<ConsumerBatch[]> {
  const fetchable = subscriptions.fetchable()
  if (fetchable.length === 0) return []
  const epochs = fetchable.map(state => state.epoch)
  const results = await transport.fetch({
    partitions: fetchable.map(state => ({ topic: state.topic, partition: state.partition,
      offset: state.position!, maxBytes: config.maxBytesPerPartition })),
    maxWaitMs: config.maxWaitMs, minBytes: 1, maxBytes: config.maxBytes,
  })
  const batches: ConsumerBatch[] = []
  for (let i = 0; i < results.length; i++) {
    const result = results[i]!
    const state = subscriptions.get(result)
    if (state === undefined || state !== fetchable[i] || state.epoch !== epochs[i]) continue
    if (result.error !== undefined) {
      if (result.error.code !== 'OFFSET_OUT_OF_RANGE') throw result.error
      const reset = config.autoOffsetReset === 'earliest' ? result.logStartOffset
        : result.highWatermark
      subscriptions.seek(result, reset)
      continue
    }
    const records = decodeFrom(result.bytes, state)
    const nextOffset = Math.max(result.nextOffset, state.position!)
    if (nextOffset !== state.position) {
      state.position = nextOffset
    }
    if (records.length > 0) {
      batches.push({ topic: state.topic, partition: state.partition, records,
        highWatermark: result.highWatermark, nextOffset })
    }
  }
  return batches
}

function decodeFrom(bytes: Buffer, state: PartitionState): ConsumedRecord[] {
  const records: ConsumedRecord[] = []
  const from = state.position!
  forEachBatch(bytes, position => {
    if (isControl(readBatchHeader(bytes, position))) return
    for (const record of decodeRecords(bytes, position)) {
      if (record.offset < from) continue
      // A literal, not `{ ...record, topic, partition }`: V8 builds that spread ~10× slower, and
      // it was half the consumer's CPU time (bench/broker-bench.ts).
      records.push({ offset: record.offset, timestamp: record.timestamp, key: record.key,
        value: record.value, headers: record.headers, topic: state.topic,
        partition: state.partition })
    }
  })
  return records
}
