/**
 * Consumer settings, Kafka's names in camelCase. Defaults follow Kafka's consumer where they
 * matter for correctness (autoOffsetReset 'latest', auto commit every 5 s, heartbeat at a third of
 * the session timeout at most) and prefer cooperative rebalancing, which Kafka lists second.
 * `isolationLevel` defaults to 'read_committed' as in KafkaJS (Kafka's Java consumer defaults to
 * read_uncommitted): see its doc comment.
 */
import type { IsolationLevel } from '../broker/fetch.ts'
import { WeirError } from '../errors.ts'
import type { Assignor } from '../group/assignor.ts'

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky'

export interface ConsumerConfig {
  /** Joins this consumer group; without it, use `assign()` (no group, no commits). */
  readonly groupId?: string
  /** Static membership (KIP-345): a restart within the session timeout keeps the assignment. */
  readonly groupInstanceId?: string
  readonly clientId: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly heartbeatIntervalMs: number
  /** In order of preference; the group uses the first one every member supports. */
  readonly assignors: ReadonlyArray<AssignorName | Assignor>
  /** Where to start in a partition without a committed offset, or after OFFSET_OUT_OF_RANGE. */
  readonly autoOffsetReset: 'earliest' | 'latest'
  readonly autoCommit: boolean
  readonly autoCommitIntervalMs: number
  /** Long-poll: how long a fetch waits for data. */
  readonly maxWaitMs: number
  /** Most bytes per fetch, and per partition within it. */
  readonly maxBytes: number
  readonly maxBytesPerPartition: number
  /** How often subscribed patterns are matched against the topic list again. */
  readonly metadataMaxAgeMs: number
  /**
   * 'read_committed' (default) reads only below the last stable offset and never hands out a
   * record of an aborted transaction; 'read_uncommitted' reads up to the high watermark, aborted
   * and undecided transactional records included. The default is the safe one, as in KafkaJS: a
   * consumer must never see aborted data unless it asks to, and for non-transactional topics the
   * two are the same (the last stable offset equals the high watermark).
   * @see KIP-98 (Exactly Once Delivery and Transactional Messaging)
   */
  readonly isolationLevel: IsolationLevel
  /**
   * Under read_committed, the wait before asking again for the committed offsets of newly
   * assigned partitions while a transaction holds undecided offsets for them
   * (UNSTABLE_OFFSET_COMMIT, KIP-447); Kafka's retry.backoff.ms. Retries stop once they would
   * wait `sessionTimeoutMs − heartbeatIntervalMs` in all (heartbeats pause during an assignment),
   * and the group then rejoins and tries again.
   */
  readonly stableOffsetRetryBackoffMs: number
  /**
   * Also hand out batches without records when a partition's position moved past records a
   * reader does not see (aborted transactions' data, transaction markers), so whoever commits
   * positions from batches (the streams runtime) commits past them. Default false.
   */
  readonly emptyBatches: boolean
}

export const consumerConfigDefaults: ConsumerConfig = {
  clientId: 'weir',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 60_000,
  heartbeatIntervalMs: 3_000,
  assignors: ['cooperative-sticky', 'range'],
  autoOffsetReset: 'latest',
  autoCommit: true,
  autoCommitIntervalMs: 5_000,
  maxWaitMs: 500,
  maxBytes: 50 * 1024 * 1024,
  maxBytesPerPartition: 1024 * 1024,
  metadataMaxAgeMs: 30_000,
  isolationLevel: 'read_committed',
  stableOffsetRetryBackoffMs: 100,
  emptyBatches: false,
}

const isolationLevels: readonly IsolationLevel[] = ['read_committed', 'read_uncommitted']

export function resolveConsumerConfig(overrides: Partial<ConsumerConfig> = {}): ConsumerConfig {
  const config = { ...consumerConfigDefaults, ...overrides }
  if (config.heartbeatIntervalMs >= config.sessionTimeoutMs) {
    throw new WeirError('INVALID_CONFIG', `heartbeatIntervalMs (${config.heartbeatIntervalMs}) `
      + `must be below sessionTimeoutMs (${config.sessionTimeoutMs}); a third of it is usual.`)
  }
  if (config.assignors.length === 0) {
    throw new WeirError('INVALID_CONFIG', 'A consumer needs at least one assignor.')
  }
  if (config.groupId === '') {
    throw new WeirError('INVALID_GROUP_ID', 'groupId must not be empty; omit it to consume '
      + 'without a group.')
  }
  if (!isolationLevels.includes(config.isolationLevel)) {
    throw new WeirError('INVALID_CONFIG', `isolationLevel '${String(config.isolationLevel)}' `
      + "is unknown; use 'read_committed' or 'read_uncommitted'.")
  }
  if (!Number.isSafeInteger(config.stableOffsetRetryBackoffMs)
    || config.stableOffsetRetryBackoffMs <= 0) {
    throw new WeirError('INVALID_CONFIG', 'stableOffsetRetryBackoffMs '
      + `(${config.stableOffsetRetryBackoffMs}) must be a positive integer; 100 is usual.`)
  }
  return config
}
