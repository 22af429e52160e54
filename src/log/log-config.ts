/**
 * Per-log configuration: durability, cleanup, segment and retention settings, and limits. Names
 * are Kafka's topic configs in camelCase (retention.ms → retentionMs); -1 means "no limit" where
 * Kafka uses it that way. Validation turns a bad value into INVALID_CONFIG naming the option.
 */
import { WeirError } from '../errors.ts'
import { logLimitDefaults } from '../limits.ts'

/**
 * When an append is acknowledged:
 * - `'always'`: after fdatasync; concurrent appends share one fdatasync (group commit). An
 *   acknowledged append survives kill -9 and power loss.
 * - `{ intervalMs }`: after the write; a background fdatasync runs every `intervalMs`. A power
 *   loss can lose the acknowledged appends of the last interval (a suffix, never a middle).
 * - `'never'`: after the write; synced only when a segment rolls or the log closes.
 */
export type FlushPolicy = 'always' | 'never' | { readonly intervalMs: number }

export type CleanupPolicy = 'delete' | 'compact'

export interface LogConfig {
  readonly flush: FlushPolicy
  readonly cleanupPolicy: CleanupPolicy
  /** Roll a segment before it would exceed this many bytes. */
  readonly segmentBytesMax: number
  /** Roll a segment this long after its first append (Kafka: segment.ms). */
  readonly segmentMs: number
  /** Delete closed segments whose newest record is older than this; -1 keeps them forever. */
  readonly retentionMs: number
  /** Delete the oldest closed segments while the log is larger than this; -1 = no limit. */
  readonly retentionBytes: number
  /** Compaction keeps a tombstone at least this long after its timestamp. */
  readonly deleteRetentionMs: number
  readonly recordBytesMax: number
  readonly batchBytesMax: number
  readonly indexIntervalBytes: number
  readonly compactionKeysMax: number
  readonly readBytesMax: number
  readonly groupCommitBatchesMax: number
  /** Newest bytes of the active segment kept in memory for reads at the log end (tail-cache.ts). */
  readonly tailCacheBytes: number
  /** How often retention runs in the background (Kafka: log.retention.check.interval.ms). */
  readonly retentionCheckIntervalMs: number
  /** How often compaction runs in the background for compacted logs (log.cleaner.backoff.ms). */
  readonly compactionIntervalMs: number
  /** How often the recovery point (everything below is synced) is checkpointed to disk. */
  readonly recoveryPointCheckpointIntervalMs: number
}

const DAY_MS = 24 * 60 * 60 * 1000

export const logConfigDefaults: LogConfig = {
  flush: 'always',
  cleanupPolicy: 'delete',
  segmentMs: 7 * DAY_MS,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  deleteRetentionMs: DAY_MS,
  recoveryPointCheckpointIntervalMs: 60 * 1000,
  retentionCheckIntervalMs: 5 * 60 * 1000,
  compactionIntervalMs: 15 * 1000,
  ...logLimitDefaults,
}

function invalid(option: string, value: unknown, rule: string): WeirError {
  return new WeirError('INVALID_CONFIG',
    `Log option ${option}=${JSON.stringify(value)} is invalid: it must be ${rule}.`)
}

function checkInteger(config: LogConfig, option: keyof LogConfig, min: number): void {
  const value = config[option]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(option, value, `an integer ≥ ${min}`)
  }
}

/** Fills defaults and validates; throws INVALID_CONFIG on the first bad option. */
export function resolveLogConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  const config: LogConfig = { ...logConfigDefaults, ...overrides }
  for (const option of ['recordBytesMax', 'batchBytesMax', 'indexIntervalBytes',
    'compactionKeysMax', 'readBytesMax', 'groupCommitBatchesMax', 'segmentMs',
    'recoveryPointCheckpointIntervalMs', 'retentionCheckIntervalMs', 'compactionIntervalMs',
  ] as const) {
    checkInteger(config, option, 1)
  }
  for (const option of ['retentionMs', 'retentionBytes'] as const) checkInteger(config, option, -1)
  checkInteger(config, 'deleteRetentionMs', 0)
  checkInteger(config, 'tailCacheBytes', 0)
  checkInteger(config, 'segmentBytesMax', 1)
  if (config.segmentBytesMax < config.batchBytesMax || config.segmentBytesMax >= 2 ** 31) {
    throw invalid('segmentBytesMax', config.segmentBytesMax,
      `at least batchBytesMax (${config.batchBytesMax}) and below 2^31`)
  }
  const flush = config.flush
  if (flush !== 'always' && flush !== 'never') {
    if (typeof flush !== 'object' || !Number.isSafeInteger(flush.intervalMs)
      || flush.intervalMs < 1) {
      throw invalid('flush', flush, "'always', 'never' or { intervalMs: integer ≥ 1 }")
    }
  }
  if (config.cleanupPolicy !== 'delete' && config.cleanupPolicy !== 'compact') {
    throw invalid('cleanupPolicy', config.cleanupPolicy, "'delete' or 'compact'")
  }
  return config
}
