/**
 * Limits and timings of the transaction coordinator (Kafka's transaction.* broker configs).
 */
import { WeirError } from '../errors.ts'

export interface TransactionCoordinatorConfig {
  /** Largest `transactionTimeoutMs` a producer may ask for (transaction.max.timeout.ms). */
  readonly transactionMaxTimeoutMs: number
  /** Timeout when InitProducerId names none (the producer's default, 60 s). */
  readonly transactionTimeoutDefaultMs: number
  /** How often open transactions are checked for timeouts and stuck completions retried. */
  readonly timeoutCheckIntervalMs: number
  /**
   * What becomes of transactions found Ongoing after a restart: 'timeout' leaves them to their
   * timeout (Kafka's behaviour: the producer may still be alive and commit), 'abort' aborts them
   * at once.
   */
  readonly recoveredOngoing: 'timeout' | 'abort'
  readonly transactionalIdBytesMax: number
  /** Most partitions one transaction may touch. */
  readonly transactionPartitionsMax: number
}

export const transactionCoordinatorDefaults: TransactionCoordinatorConfig = {
  transactionMaxTimeoutMs: 15 * 60 * 1000,
  transactionTimeoutDefaultMs: 60 * 1000,
  timeoutCheckIntervalMs: 1000,
  recoveredOngoing: 'timeout',
  transactionalIdBytesMax: 1024,
  transactionPartitionsMax: 10_000,
}

export function resolveTransactionCoordinatorConfig(
  config: Partial<TransactionCoordinatorConfig>): TransactionCoordinatorConfig {
  const resolved = { ...transactionCoordinatorDefaults, ...config }
  for (const field of ['transactionMaxTimeoutMs', 'transactionTimeoutDefaultMs',
    'timeoutCheckIntervalMs', 'transactionalIdBytesMax', 'transactionPartitionsMax'] as const) {
    const value = resolved[field]
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new WeirError('INVALID_CONFIG', `Transaction coordinator config ${field} must be an `
        + `integer ≥ 1, got ${String(value)}.`)
    }
  }
  if (resolved.recoveredOngoing !== 'timeout' && resolved.recoveredOngoing !== 'abort') {
    throw new WeirError('INVALID_CONFIG', "recoveredOngoing must be 'timeout' or 'abort'.")
  }
  return resolved
}
