/**
 * Shape and limit checks for group requests, before any state is looked at (Kafka's request
 * validation in GroupCoordinator and KafkaApis). A failure is a typed error naming the field and
 * the limit: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, INCONSISTENT_GROUP_PROTOCOL (no protocol
 * at all, as Kafka) or INVALID_REQUEST. The embedded API is typed, but a server will hand these
 * functions decoded JSON or protobuf, so they check types too.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { TopicPartition } from './assignor.ts'
import type { GroupCoordinatorConfig } from './group-coordinator-config.ts'
import type {
  HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, OffsetCommitRequest, SyncGroupRequest,
  TxnOffsetCommitRequest,
} from './group-requests.ts'

const INT32_MAX = 0x7fffffff
const INT16_MAX = 0x7fff

function invalid(message: string): WeirError {
  return new WeirError('INVALID_REQUEST', message)
}

export function checkGroupId(groupId: unknown, config: GroupCoordinatorConfig): string {
  if (typeof groupId !== 'string' || groupId === '') {
    throw new WeirError('INVALID_GROUP_ID', 'The group id is empty; give the group a name.')
  }
  if (groupId.length > config.idLengthMax) {
    throw new WeirError('INVALID_GROUP_ID', `The group id has ${groupId.length} characters; `
      + `at most ${config.idLengthMax} (idLengthMax) are allowed.`)
  }
  return groupId
}

/** A string field of at most `idLengthMax` characters; '' only where `allowEmpty`. */
export function checkId(value: unknown, field: string, config: GroupCoordinatorConfig,
  allowEmpty: boolean): void {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) {
    throw invalid(`${field} must be a non-empty string.`)
  }
  if (value.length > config.idLengthMax) {
    throw invalid(`${field} has ${value.length} characters; at most ${config.idLengthMax} `
      + '(idLengthMax) are allowed.')
  }
}

function checkInteger(value: unknown, field: string, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${field} must be an integer in [${min}, ${max}], got ${String(value)}.`)
  }
}

function checkMember(request: { memberId: unknown, groupInstanceId?: unknown,
  generationId?: unknown }, config: GroupCoordinatorConfig): void {
  checkId(request.memberId, 'memberId', config, true)
  if (request.groupInstanceId !== undefined) {
    checkId(request.groupInstanceId, 'groupInstanceId', config, false)
  }
  if (request.generationId !== undefined) {
    checkInteger(request.generationId, 'generationId', -1, INT32_MAX)
  }
}

export function validateJoin(request: JoinGroupRequest, config: GroupCoordinatorConfig): void {
  checkGroupId(request.groupId, config)
  checkMember(request, config)
  checkId(request.clientId, 'clientId', config, true)
  const session = request.sessionTimeoutMs
  if (typeof session !== 'number' || !Number.isSafeInteger(session)
    || session < config.groupMinSessionTimeoutMs || session > config.groupMaxSessionTimeoutMs) {
    throw new WeirError('INVALID_SESSION_TIMEOUT', `sessionTimeoutMs ${String(session)} is `
      + `outside [${config.groupMinSessionTimeoutMs}, ${config.groupMaxSessionTimeoutMs}] `
      + '(groupMinSessionTimeoutMs, groupMaxSessionTimeoutMs); choose one inside.')
  }
  checkInteger(request.rebalanceTimeoutMs, 'rebalanceTimeoutMs', 1, INT32_MAX)
  const protocols = request.protocols
  if (request.protocolType === '' || !Array.isArray(protocols) || protocols.length === 0) {
    throw new WeirError('INCONSISTENT_GROUP_PROTOCOL', 'A JoinGroup needs a protocol type and '
      + 'at least one protocol (assignor).')
  }
  checkId(request.protocolType, 'protocolType', config, false)
  if (protocols.length > config.protocolsMax) {
    throw invalid(`A JoinGroup lists ${protocols.length} protocols; at most `
      + `${config.protocolsMax} (protocolsMax) are allowed.`)
  }
  let bytes = 0
  const names = new Set<string>()
  for (const protocol of protocols) {
    checkId(protocol.name, 'protocol name', config, false)
    if (!Buffer.isBuffer(protocol.metadata)) throw invalid('Protocol metadata must be bytes.')
    if (names.has(protocol.name)) throw invalid(`Protocol ${protocol.name} is listed twice.`)
    names.add(protocol.name)
    bytes += protocol.metadata.length
  }
  if (bytes > config.protocolMetadataBytesMax) {
    throw invalid(`Protocol metadata totals ${bytes} bytes; at most `
      + `${config.protocolMetadataBytesMax} (protocolMetadataBytesMax) are allowed.`)
  }
  assert(names.size === protocols.length, 'protocol names are unique')
}

export function validateSync(request: SyncGroupRequest, config: GroupCoordinatorConfig): void {
  checkGroupId(request.groupId, config)
  checkMember(request, config)
  if (!Array.isArray(request.assignments)) throw invalid('assignments must be a list.')
  if (request.assignments.length > config.groupMembersMax) {
    throw invalid(`A SyncGroup carries ${request.assignments.length} assignments; a group has `
      + `at most ${config.groupMembersMax} (groupMembersMax) members.`)
  }
  const seen = new Set<string>()
  for (const { memberId, assignment } of request.assignments) {
    checkId(memberId, 'assignment memberId', config, false)
    if (seen.has(memberId)) throw invalid(`Member ${memberId} is assigned twice.`)
    seen.add(memberId)
    if (!Buffer.isBuffer(assignment)) throw invalid('An assignment must be bytes.')
    if (assignment.length > config.assignmentBytesMax) {
      throw invalid(`The assignment of ${memberId} is ${assignment.length} bytes; at most `
        + `${config.assignmentBytesMax} (assignmentBytesMax) are allowed.`)
    }
  }
}

export function validateHeartbeat(request: HeartbeatRequest,
  config: GroupCoordinatorConfig): void {
  checkGroupId(request.groupId, config)
  checkMember(request, config)
}

export function validateLeave(request: LeaveGroupRequest, config: GroupCoordinatorConfig): void {
  checkGroupId(request.groupId, config)
  if (!Array.isArray(request.members) || request.members.length === 0
    || request.members.length > config.groupMembersMax) {
    throw invalid(`A LeaveGroup names 1 to ${config.groupMembersMax} members.`)
  }
  for (const member of request.members) {
    if (member.memberId === undefined && member.groupInstanceId === undefined) {
      throw invalid('A leaving member needs a memberId or a groupInstanceId.')
    }
    checkMember({ memberId: member.memberId ?? '', groupInstanceId: member.groupInstanceId },
      config)
  }
}

export function validateCommit(request: OffsetCommitRequest,
  config: GroupCoordinatorConfig): void {
  checkGroupId(request.groupId, config)
  checkMember(request, config)
  validatePartitions(request.offsets, config, true)
}

/** A TxnOffsetCommit: a plain commit's checks plus the transactional id and the producer. */
export function validateTxnCommit(request: TxnOffsetCommitRequest,
  config: GroupCoordinatorConfig): void {
  validateCommit(request, config)
  checkId(request.transactionalId, 'transactionalId', config, false)
  checkProducer(request)
}

/** A transaction marker for the offsets topic: its partition, producer and outcome. */
export function validateTxnCompletion(request: { partition: number, producerId: number,
  producerEpoch: number, commit: boolean }, partitionCount: number): void {
  assert(partitionCount > 0, 'the offsets topic has at least one partition')
  checkInteger(request.partition, 'partition of __consumer_offsets', 0, partitionCount - 1)
  checkProducer(request)
  if (typeof request.commit !== 'boolean') throw invalid('commit must be true or false.')
}

/** Kafka's producer id is an int64 (here: a safe integer) and its epoch an int16, both ≥ 0. */
function checkProducer(request: { producerId: unknown, producerEpoch: unknown }): void {
  checkInteger(request.producerId, 'producerId', 0, Number.MAX_SAFE_INTEGER)
  checkInteger(request.producerEpoch, 'producerEpoch', 0, INT16_MAX)
}

/** Partitions (and their offsets and metadata, when given) of an offset request. */
export function validatePartitions(entries: readonly (TopicPartition & { offset?: number,
  metadata?: string })[], config: GroupCoordinatorConfig, requireOffset: boolean): void {
  if (!Array.isArray(entries) || entries.length > config.offsetsPerCommitMax) {
    throw invalid(`An offset request carries at most ${config.offsetsPerCommitMax} `
      + '(offsetsPerCommitMax) partitions; split it.')
  }
  for (const entry of entries) {
    checkId(entry.topic, 'topic', config, false)
    checkInteger(entry.partition, 'partition', 0, INT32_MAX)
    if (requireOffset) checkInteger(entry.offset, 'offset', 0, Number.MAX_SAFE_INTEGER)
    const metadata = entry.metadata
    if (metadata === undefined) continue
    if (typeof metadata !== 'string') throw invalid('Offset metadata must be a string.')
    const bytes = Buffer.byteLength(metadata, 'utf8')
    if (bytes > config.offsetMetadataBytesMax) {
      throw invalid(`Offset metadata of ${bytes} bytes exceeds offsetMetadataBytesMax `
        + `(${config.offsetMetadataBytesMax}); store less (Kafka: OFFSET_METADATA_TOO_LARGE).`)
    }
  }
}
