/**
 * How long a saga keeps the entry of an instance that ended (docs/event-sourcing.md "Sagas").
 * The entry is what makes a repeated request for that instance a no-op, so it is kept for a
 * retention of stream time after the instance ended, then deleted through the changelog by the
 * store's expiry sweep (`process(…, { stores: [{ store, expiry }] })`). A repeat arriving later
 * starts the instance again, as Kafka's idempotent producer forgets a producer after
 * `transactional.id.expiration.ms`: the retention trades memory against how late a duplicate
 * may come. Entries of running instances never expire.
 */
import type { StoreExpiryOptions } from '../streams/operators/process.ts'
import { WeirError } from '../errors.ts'

/** A saga entry: `endedAtMs` is the stream time at which the instance ended, once it has. */
export interface SagaEntry {
  readonly endedAtMs?: number
}

/** 7 days of stream time. */
export const DEFAULT_SAGA_RETENTION_MS = 7 * 24 * 60 * 60 * 1000

/**
 * The store expiry of a saga's entries: `retentionMs` after `endedAtMs`, never while running;
 * swept every retention / 2 of stream time.
 * @throws WEIR_ERR_STREAMS_TOPOLOGY for a retention that is not a positive integer
 */
export function sagaRetention(retentionMs = DEFAULT_SAGA_RETENTION_MS):
StoreExpiryOptions<SagaEntry> {
  if (!Number.isSafeInteger(retentionMs) || retentionMs < 1) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `A saga's retentionMs must be a positive `
      + `integer (ms of stream time), got ${retentionMs}.`)
  }
  return {
    expiresAtMs: (_key, entry) => (entry.endedAtMs ?? Infinity) + retentionMs,
    sweepIntervalMs: Math.max(1, Math.floor(retentionMs / 2)),
  }
}
