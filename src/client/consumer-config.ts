/**
 * Consumer settings, Kafka's names in camelCase. Defaults follow Kafka's consumer where they
 * matter for correctness (autoOffsetReset 'latest', auto commit every 5 s, heartbeat at a third of
 * the session timeout at most) and prefer cooperative rebalancing, which Kafka lists second.
 */
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
}

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
  return config
}
