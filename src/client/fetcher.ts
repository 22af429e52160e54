/**
 * Turns fetch responses into the batches a consumer hands out (Kafka's Fetcher): one fetch over
 * every fetchable partition at the consumer's isolation level, stored batches decoded, records
 * before the position dropped (a batch read from the middle starts earlier), control batches
 * skipped and, under read_committed, aborted transactions' records too (see
 * aborted-transaction-filter.ts), positions advanced. A response for a partition whose epoch moved
 * while the fetch was out (seek, revocation) is discarded.
 *
 * The position advances to the response's `nextOffset` even when no record is delivered: under
 * read_committed a response can end in markers or aborted data, and fetching them again would
 * loop. OFFSET_OUT_OF_RANGE resets the position by `autoOffsetReset`, as Kafka's consumer does;
 * 'latest' is the last stable offset under read_committed, the end of what such a consumer can
 * read (as Kafka's ListOffsets answers at READ_COMMITTED).
 */
import type { AbortedTransaction, FetchResult } from '../broker/fetch.ts'
import type { TopicPartition } from '../group/assignor.ts'
import type { LogRecord } from '../log/record-batch.ts'
import { filterAbortedTransactions } from './aborted-transaction-filter.ts'
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
  /** The partition's high watermark when fetched (read_uncommitted lag = it − nextOffset). */
  readonly highWatermark: number
  /**
   * The partition's last stable offset when fetched: below it every transaction is decided
   * (read_committed lag = it − nextOffset). Equals the high watermark without open transactions.
   */
  readonly lastStableOffset: number
  /** Offset after the batch's last record (what a commit after it stores). */
  readonly nextOffset: number
}

const NO_ABORTED_TRANSACTIONS: readonly AbortedTransaction[] = Object.freeze([])

export async function fetchBatches(transport: Transport, subscriptions: SubscriptionState,
  config: ConsumerConfig): Promise<ConsumerBatch[]> {
  const fetchable = subscriptions.fetchable()
  if (fetchable.length === 0) return []
  const epochs = fetchable.map(state => state.epoch)
  const results = await transport.fetch({
    partitions: fetchable.map(state => ({ topic: state.topic, partition: state.partition,
      offset: state.position!, maxBytes: config.maxBytesPerPartition })),
    isolationLevel: config.isolationLevel,
    maxWaitMs: config.maxWaitMs, minBytes: 1, maxBytes: config.maxBytes,
  })
  const batches: ConsumerBatch[] = []
  for (let i = 0; i < results.length; i++) {
    const result = results[i]!
    const state = subscriptions.get(result)
    if (state === undefined || state !== fetchable[i] || state.epoch !== epochs[i]) continue
    if (result.error !== undefined) {
      if (result.error.code !== 'OFFSET_OUT_OF_RANGE') throw result.error
      subscriptions.seek(result, resetOffset(result, config))
      continue
    }
    const records = decodeFrom(result, state, config)
    const nextOffset = Math.max(result.nextOffset, state.position!)
    const moved = nextOffset !== state.position
    if (moved) {
      state.position = nextOffset
    }
    if (records.length > 0 || (moved && config.emptyBatches)) {
      batches.push({ topic: state.topic, partition: state.partition, records,
        highWatermark: result.highWatermark, lastStableOffset: result.lastStableOffset,
        nextOffset })
    }
  }
  return batches
}

/** Where OFFSET_OUT_OF_RANGE puts the position: Kafka's auto.offset.reset at our isolation. */
function resetOffset(result: FetchResult, config: ConsumerConfig): number {
  if (config.autoOffsetReset === 'earliest') return result.logStartOffset
  return config.isolationLevel === 'read_committed' ? result.lastStableOffset
    : result.highWatermark
}

function decodeFrom(result: FetchResult, state: PartitionState, config: ConsumerConfig):
ConsumedRecord[] {
  const records: ConsumedRecord[] = []
  const { topic, partition } = state
  // read_uncommitted: the filter with no aborted transaction only drops markers and records
  // before the position, which is all read_uncommitted does.
  const abortedTransactions = config.isolationLevel === 'read_committed'
    ? result.abortedTransactions ?? NO_ABORTED_TRANSACTIONS : NO_ABORTED_TRANSACTIONS
  filterAbortedTransactions(result.bytes, { abortedTransactions, fromOffset: state.position! },
    record => {
      // A literal, not `{ ...record, topic, partition }`: V8 builds that spread ~10× slower, and
      // it was half the consumer's CPU time (bench/broker-bench.ts).
      records.push({ offset: record.offset, timestamp: record.timestamp, key: record.key,
        value: record.value, headers: record.headers, topic, partition })
    })
  return records
}
