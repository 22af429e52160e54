/**
 * SyncGroup and Heartbeat of the classic protocol (Kafka's GroupCoordinator doSyncGroup,
 * handleHeartbeat, and GroupMetadata's member validation), who may commit offsets
 * (validateOffsetCommit), which member a LeaveGroup names, and the member check every
 * member-scoped request shares: a static member's old incarnation is FENCED_INSTANCE_ID, an
 * unknown member id is UNKNOWN_MEMBER_ID.
 *
 * SyncGroup while CompletingRebalance is the second barrier: followers are held until the
 * leader's sync brings the assignment, which moves the group to Stable and answers everyone.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { GroupMetadata } from './group-metadata.ts'
import type { RebalanceContext } from './group-rebalance.ts'
import type {
  HeartbeatRequest, LeavingMember, MemberAssignment, OffsetCommitRequest, SyncGroupRequest,
  SyncGroupResponse,
} from './group-requests.ts'
import type { MemberMetadata } from './member-metadata.ts'

/** The member a request speaks for, or FENCED_INSTANCE_ID / UNKNOWN_MEMBER_ID. */
export function validateCurrentMember(group: GroupMetadata, memberId: string,
  groupInstanceId: string | undefined): MemberMetadata {
  // Kafka's ClassicGroup.validateMember: a claimed instance id must be known and be this id's.
  if (groupInstanceId !== undefined) {
    const current = group.staticMemberId(groupInstanceId)
    if (current === undefined) {
      throw new WeirError('UNKNOWN_MEMBER_ID', `Group ${group.groupId} has no member with `
        + `group.instance.id ${groupInstanceId}; rejoin with an empty member id.`)
    }
    if (current !== memberId) {
      throw new WeirError('FENCED_INSTANCE_ID', `Member ${memberId} of group ${group.groupId} `
        + `was replaced by a newer instance with group.instance.id ${groupInstanceId}; `
        + 'stop this instance (two instances share one group.instance.id).')
    }
  }
  const member = group.get(memberId)
  if (member === undefined) {
    throw new WeirError('UNKNOWN_MEMBER_ID', `Group ${group.groupId} has no member `
      + `${memberId}; rejoin with an empty member id.`)
  }
  assert(member.memberId === memberId, 'members are filed under their id')
  return member
}

function checkGeneration(group: GroupMetadata, generationId: number, memberId: string): void {
  if (generationId !== group.generationId) {
    throw new WeirError('ILLEGAL_GENERATION', `Member ${memberId} sent generation `
      + `${generationId} but group ${group.groupId} is at generation ${group.generationId}; `
      + 'rejoin the group.')
  }
}

function rebalanceInProgress(group: GroupMetadata): WeirError {
  return new WeirError('REBALANCE_IN_PROGRESS', `Group ${group.groupId} is rebalancing; `
    + 'rejoin the group (send JoinGroup).')
}

/** Handles a validated SyncGroup. */
export function syncGroupMember(group: GroupMetadata, request: SyncGroupRequest,
  context: RebalanceContext): Promise<SyncGroupResponse> {
  const member = validateCurrentMember(group, request.memberId, request.groupInstanceId)
  checkGeneration(group, request.generationId, request.memberId)
  switch (group.state) {
    case 'PreparingRebalance':
      throw rebalanceInProgress(group)
    case 'CompletingRebalance': {
      member.touch(context.nowMs)
      const pending = member.awaitSync()
      if (group.isLeader(member.memberId)) applyAssignment(group, request.assignments)
      return pending.promise
    }
    case 'Stable':
      member.touch(context.nowMs)
      return Promise.resolve({ assignment: member.assignment })
    default:
      assert(false, `a group with members is not ${group.state}`)
  }
}

/**
 * The leader's assignment: members it leaves out get an empty assignment, ids that are not
 * members (any more) are ignored. The group becomes Stable and every held sync is answered.
 */
function applyAssignment(group: GroupMetadata, assignments: readonly MemberAssignment[]): void {
  assert(group.state === 'CompletingRebalance', 'assignments arrive while completing')
  const byMember = new Map(assignments.map(entry => [entry.memberId, entry.assignment]))
  for (const member of group.members.values()) {
    member.assignment = byMember.get(member.memberId) ?? Buffer.alloc(0)
  }
  group.transitionTo('Stable')
  for (const member of group.members.values()) {
    if (member.awaitingSync !== undefined) member.completeSync(member.assignment)
  }
  assert([...group.members.values()].every(member => member.awaitingSync === undefined),
    'a Stable group holds no syncs')
}

/**
 * Handles a validated Heartbeat: pushes the session deadline; REBALANCE_IN_PROGRESS tells a
 * member of the current generation that it must rejoin (Kafka's order: member, generation,
 * then state).
 */
export function heartbeatMember(group: GroupMetadata, request: HeartbeatRequest,
  context: RebalanceContext): void {
  const member = validateCurrentMember(group, request.memberId, request.groupInstanceId)
  checkGeneration(group, request.generationId, request.memberId)
  member.touch(context.nowMs)
  if (group.state === 'PreparingRebalance') throw rebalanceInProgress(group)
  assert(group.state === 'CompletingRebalance' || group.state === 'Stable',
    'a group with members of this generation is completing or stable')
}

/**
 * Kafka's offset-commit validation: generation -1 commits without membership while the group
 * has no members; while completing a rebalance commits wait (REBALANCE_IN_PROGRESS); otherwise
 * the member and generation must be current (commits during PreparingRebalance are accepted).
 * A commit pushes the member's session deadline.
 */
export function validateOffsetCommit(group: GroupMetadata | undefined, hasOffsets: boolean,
  request: OffsetCommitRequest, nowMs: number): void {
  const { groupId, generationId } = request
  if (generationId < 0 && (group === undefined || group.state === 'Empty')) return
  if (group === undefined) {
    if (hasOffsets) {
      throw new WeirError('UNKNOWN_MEMBER_ID', `Group ${groupId} has no members; join it, `
        + 'or commit with generation -1.')
    }
    throw new WeirError('ILLEGAL_GENERATION', `Group ${groupId} does not exist, so `
      + `generation ${generationId} is stale; rejoin, or commit with generation -1.`)
  }
  if (group.state === 'CompletingRebalance') {
    throw new WeirError('REBALANCE_IN_PROGRESS', `Group ${groupId} is completing a `
      + 'rebalance; commit after SyncGroup.')
  }
  const member = validateCurrentMember(group, request.memberId, request.groupInstanceId)
  checkGeneration(group, generationId, request.memberId)
  member.touch(nowMs)
}

/** The member a LeaveGroup entry names: by instance id (checked against the member id) or id. */
export function leavingMember(group: GroupMetadata, leaving: LeavingMember): MemberMetadata {
  const instanceId = leaving.groupInstanceId
  const byInstance = instanceId === undefined ? undefined : group.staticMemberId(instanceId)
  const claimed = leaving.memberId === undefined || leaving.memberId === ''
    ? byInstance ?? '' : leaving.memberId
  return validateCurrentMember(group, claimed, instanceId)
}
