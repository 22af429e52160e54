/**
 * Every limit Weir enforces, with its default. Limits are explicit and configurable; reaching one
 * is a typed error, never a crash. Relationships between defaults are asserted at load so a bad
 * edit fails at once rather than in production.
 */
import { assert } from './util/assert.ts'

export const KiB = 1024
export const MiB = 1024 * KiB
export const GiB = 1024 * MiB

export const logLimitDefaults = {
  /** Largest single record (key + value + headers, encoded). Kafka: max.message.bytes. */
  recordBytesMax: 1 * MiB,
  /** Largest record batch accepted by one append, encoded (Kafka counts the batch too). */
  batchBytesMax: 1 * MiB + 64 * KiB,
  /** A segment rolls before it would grow past this. Kafka: segment.bytes (1 GiB). */
  segmentBytesMax: 1 * GiB,
  /** Bytes of log between two sparse index entries. Kafka: index.interval.bytes. */
  indexIntervalBytes: 4 * KiB,
  /** Most distinct keys one compaction pass tracks (memory bound of the key map). */
  compactionKeysMax: 4_000_000,
  /** Largest read (fetch) one call returns, unless the first batch alone is larger. */
  readBytesMax: 64 * MiB,
  /** Most batches a single write to disk coalesces while others wait for the group commit. */
  groupCommitBatchesMax: 4096,
  /** Newest bytes of each partition kept in memory for readers at the log end (0: none). */
  tailCacheBytes: 128 * KiB,
} as const

export type LogLimits = { -readonly [K in keyof typeof logLimitDefaults]: number }

assert(logLimitDefaults.recordBytesMax < logLimitDefaults.batchBytesMax,
  'a batch must be able to hold one largest record plus its overhead')
assert(logLimitDefaults.batchBytesMax <= logLimitDefaults.segmentBytesMax,
  'a segment must hold one largest batch')
assert(logLimitDefaults.segmentBytesMax < 2 ** 31,
  'segment positions are stored as int32 in the offset index')

export const brokerLimitDefaults = {
  /** Most partitions one topic may have. */
  partitionsPerTopicMax: 10_000,
  /** Most partitions one fetch request may name. */
  fetchPartitionsMax: 10_000,
  /** Largest total a fetch returns (Kafka: fetch.max.bytes), unless one first batch is larger. */
  fetchBytesMax: 50 * MiB,
  /** Longest a fetch may wait for data (Kafka: fetch.max.wait.ms is asked by the client). */
  fetchWaitMsMax: 30_000,
  /** How often producer state is snapshotted, bounding the replay after a crash. */
  producerSnapshotIntervalMs: 60_000,
  /** Newest bytes of each partition kept in memory for fetches at the log end (0: none). */
  tailCacheBytes: logLimitDefaults.tailCacheBytes,
} as const

export type BrokerLimits = { -readonly [K in keyof typeof brokerLimitDefaults]: number }

assert(brokerLimitDefaults.fetchBytesMax <= logLimitDefaults.readBytesMax,
  'a fetch never asks one log for more than it will read')

export const serverLimitDefaults = {
  /** Largest request body; a larger one is refused with 413 before it is parsed. */
  requestBytesMax: 8 * MiB,
  /** Most records one produced batch may hold (413 above it). */
  batchRecordsMax: 100_000,
  /** Most partitions one produce request may name. */
  producePartitionsMax: 1_000,
  /** Most connections (HTTP and WebSocket) open at once; one more is answered 503. */
  connectionsMax: 1_024,
  /** Unsent bytes a WebSocket stream may buffer before the server stops reading for it. */
  streamBufferBytesMax: 4 * MiB,
  /** Calls one /v1/rpc connection may have running; past it the server stops reading it. */
  rpcInFlightMax: 64,
  /** Longest a graceful shutdown waits for requests in flight (long polls are cut short). */
  shutdownGraceMs: 10_000,
} as const

export type ServerLimits = { -readonly [K in keyof typeof serverLimitDefaults]: number }

assert(serverLimitDefaults.requestBytesMax > logLimitDefaults.batchBytesMax,
  'a produce request must be able to carry one largest batch')
