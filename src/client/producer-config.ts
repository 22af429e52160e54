/**
 * Producer settings, Kafka's names in camelCase, with defaults and validation. Idempotence is on
 * by default and then requires `acks: 'all'` and at most 5 batches in flight per partition
 * (Kafka's ProducerConfig rules for enable.idempotence).
 */
import { WeirError } from '../errors.ts'
import type { Acks } from '../broker/partition.ts'
import type { Partitioner } from '../broker/partitioner.ts'
import { type Compression, compressionIds } from '../log/compression.ts'
import { BATCHES_RETAINED } from '../broker/producer-state-manager.ts'

export interface ProducerConfig {
  /** Dedup of retries by producer id and sequence (default true). */
  readonly idempotent: boolean
  /** 0: don't wait; 1: the broker ordered it; 'all' (default): durable per flush policy. */
  readonly acks: Acks
  /** How long a partition's batch waits for more records before it is sent (default 0). */
  readonly lingerMs: number
  /** A batch is sent once its records reach this many bytes (Kafka batch.size). */
  readonly batchBytes: number
  /** Attempts after the first for a retriable failure (default 10). */
  readonly retries: number
  readonly retryBackoffMs: number
  /** A record not acknowledged within this time fails with its last error. */
  readonly deliveryTimeoutMs: number
  /** Unacknowledged batches per partition (≤ 5 with idempotence). */
  readonly inFlightMax: number
  /** Bytes of records accepted but not yet acknowledged (Kafka buffer.memory). */
  readonly bufferBytesMax: number
  readonly compression: Compression
  /** Chooses a partition for records without an explicit one (default: murmur2 / sticky). */
  readonly partitioner?: Partitioner
  /**
   * Makes the producer transactional (Kafka's transactional.id): `initTransactions()` fences
   * older instances with the same id, and every send belongs to a transaction. Requires
   * idempotence (the default).
   */
  readonly transactionalId?: string
  /** How long a transaction may stay open before the broker aborts it (default 60 s). */
  readonly transactionTimeoutMs: number
  /**
   * Wait before retrying CONCURRENT_TRANSACTIONS (the previous transaction is still writing its
   * markers, about one fsync): the first 10 retries wait this long, later ones double up to
   * `retryBackoffMs`. Small, because the wait sits between two transactions on the hot path of a
   * copy loop.
   */
  readonly transactionRetryBackoffMs: number
}

export const producerConfigDefaults: ProducerConfig = {
  idempotent: true,
  acks: 'all',
  lingerMs: 0,
  batchBytes: 64 * 1024,
  retries: 10,
  retryBackoffMs: 100,
  deliveryTimeoutMs: 120_000,
  inFlightMax: BATCHES_RETAINED,
  bufferBytesMax: 32 * 1024 * 1024,
  compression: 'none',
  transactionTimeoutMs: 60_000,
  transactionRetryBackoffMs: 1,
}

export function resolveProducerConfig(overrides: Partial<ProducerConfig> = {}): ProducerConfig {
  const config = { ...producerConfigDefaults, ...overrides }
  const invalid = (message: string): WeirError => new WeirError('INVALID_CONFIG', message)
  if (config.idempotent && config.acks !== 'all') {
    throw invalid(`An idempotent producer needs acks: 'all' (got ${String(config.acks)}); `
      + 'set idempotent: false to use weaker acks.')
  }
  if (config.idempotent && config.inFlightMax > BATCHES_RETAINED) {
    throw invalid(`An idempotent producer keeps at most ${BATCHES_RETAINED} batches in flight `
      + `per partition (got inFlightMax ${config.inFlightMax}); the broker could not recognise `
      + 'a retry of an older one.')
  }
  if (config.transactionalId !== undefined) {
    if (typeof config.transactionalId !== 'string' || config.transactionalId.length === 0) {
      throw invalid('transactionalId must be a non-empty string.')
    }
    if (!config.idempotent) {
      throw invalid('A transactional producer must be idempotent; remove idempotent: false.')
    }
  }
  const positive: Array<keyof ProducerConfig> = ['batchBytes', 'inFlightMax', 'bufferBytesMax',
    'deliveryTimeoutMs', 'transactionTimeoutMs', 'transactionRetryBackoffMs']
  for (const key of positive) {
    const value = config[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw invalid(`Producer option ${key} must be a positive integer (got ${String(value)}).`)
    }
  }
  if (!Object.hasOwn(compressionIds, config.compression)) {
    throw invalid(`Producer option compression must be one of ${Object.keys(compressionIds)
      .join(', ')} (got ${String(config.compression)}); zstd is not available.`)
  }
  for (const key of ['lingerMs', 'retries', 'retryBackoffMs'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0) {
      throw invalid(`Producer option ${key} must be an integer ≥ 0 (got ${config[key]}).`)
    }
  }
  return config
}
