/**
 * Configuration of the group coordinator: timing (Kafka's group.* broker configs in camelCase)
 * and the limits that bound every request and collection it keeps. Validation turns a bad value
 * into INVALID_CONFIG naming the option.
 *
 * The limits live here rather than in src/limits.ts only because this file was written while
 * limits.ts had another owner; they belong there and should move (same names, same defaults).
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'

export interface GroupCoordinatorConfig {
  /** How often `expire()` runs to check session and rebalance deadlines. */
  readonly tickMs: number
  /**
   * How long a new group's first rebalance waits for more members before completing, extended
   * by each new member up to the rebalance timeout (group.initial.rebalance.delay.ms). 0 still
   * gathers the members that join in the same turn of the event loop.
   */
  readonly initialRebalanceDelayMs: number
  /** Smallest session timeout a member may ask for (group.min.session.timeout.ms). */
  readonly groupMinSessionTimeoutMs: number
  /** Largest session timeout a member may ask for (group.max.session.timeout.ms). */
  readonly groupMaxSessionTimeoutMs: number
  /** Most members a group may have (group.max.size). */
  readonly groupMembersMax: number
  /** Most protocols one member may list in a JoinGroup. */
  readonly protocolsMax: number
  /** Most bytes of protocol metadata one member may send in a JoinGroup (all protocols). */
  readonly protocolMetadataBytesMax: number
  /** Most bytes of one member's assignment in the leader's SyncGroup. */
  readonly assignmentBytesMax: number
  /** Most UTF-8 bytes of an offset's metadata string (offset.metadata.max.bytes). */
  readonly offsetMetadataBytesMax: number
  /** Most partitions one OffsetCommit (or reset/delete) may carry. */
  readonly offsetsPerCommitMax: number
  /** Most characters of a group, member, instance or client id, topic or protocol name. */
  readonly idLengthMax: number
}

const MiB = 1024 * 1024

export const groupCoordinatorConfigDefaults: GroupCoordinatorConfig = {
  tickMs: 100,
  initialRebalanceDelayMs: 0,
  // Kafka's default is 6000; 100 lets tests and small embedded deployments use short sessions.
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupMembersMax: 1000,
  protocolsMax: 32,
  protocolMetadataBytesMax: 1 * MiB,
  assignmentBytesMax: 1 * MiB,
  offsetMetadataBytesMax: 4096,
  offsetsPerCommitMax: 10_000,
  idLengthMax: 255,
}

function invalid(option: string, value: unknown, rule: string): WeirError {
  return new WeirError('INVALID_CONFIG',
    `Group coordinator option ${option}=${JSON.stringify(value)} is invalid: it must be ${rule}.`)
}

/** Fills defaults and validates; throws INVALID_CONFIG on the first bad option. */
export function resolveGroupCoordinatorConfig(
  overrides: Partial<GroupCoordinatorConfig> = {}): GroupCoordinatorConfig {
  const config: GroupCoordinatorConfig = { ...groupCoordinatorConfigDefaults, ...overrides }
  const minimums: Record<keyof GroupCoordinatorConfig, number> = {
    tickMs: 1, initialRebalanceDelayMs: 0, groupMinSessionTimeoutMs: 1,
    groupMaxSessionTimeoutMs: 1, groupMembersMax: 1, protocolsMax: 1,
    protocolMetadataBytesMax: 0, assignmentBytesMax: 0, offsetMetadataBytesMax: 0,
    offsetsPerCommitMax: 1,
    // Generated member ids are `<clientId prefix>-<17 characters>` and must fit too.
    idLengthMax: 32,
  }
  for (const [option, min] of Object.entries(minimums)) {
    const value = config[option as keyof GroupCoordinatorConfig]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw invalid(option, value, `an integer ≥ ${min}`)
    }
  }
  if (config.groupMaxSessionTimeoutMs < config.groupMinSessionTimeoutMs) {
    throw invalid('groupMaxSessionTimeoutMs', config.groupMaxSessionTimeoutMs,
      `≥ groupMinSessionTimeoutMs (${config.groupMinSessionTimeoutMs})`)
  }
  // Ids are written as int16-length strings in offset keys (3 UTF-8 bytes per UTF-16 unit).
  if (config.idLengthMax * 3 > 0x7fff) {
    throw invalid('idLengthMax', config.idLengthMax, `at most ${Math.floor(0x7fff / 3)}`)
  }
  if (config.offsetMetadataBytesMax > 0x7fff) {
    throw invalid('offsetMetadataBytesMax', config.offsetMetadataBytesMax, 'at most 32767')
  }
  assert(config.tickMs >= 1, 'the expiry timer needs a positive interval')
  return config
}
