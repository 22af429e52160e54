/**
 * JoinGroup (Kafka's GroupCoordinator handleJoinGroup, doNewMemberJoinGroup,
 * doCurrentMemberJoinGroup, updateStaticMemberAndRebalance): decides, for a validated request on
 * a group, whether the member is new, a static member's new incarnation, or a known member
 * rejoining, and whether that starts a rebalance or is answered from the current generation.
 *
 * A join that starts or joins a rebalance returns the member's held promise; the coordinator
 * checks whether the barrier can complete at the end of the current turn of the event loop, so
 * members that join together land in one generation. Joins answered at once resolve at once.
 *
 * Not done: Kafka's two-step join of JoinGroup v4+ (MEMBER_ID_REQUIRED, then rejoin with the
 * given id): embedded callers get their id in the first response.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { GroupMetadata } from './group-metadata.ts'
import { extendInitialDelay, prepareRebalance, type RebalanceContext } from './group-rebalance.ts'
import type { JoinGroupRequest, JoinGroupResponse } from './group-requests.ts'
import { validateCurrentMember } from './group-sync.ts'
import { MemberMetadata } from './member-metadata.ts'

/** Handles a validated JoinGroup for `group` (which may be new and not yet registered). */
export function joinGroupMember(group: GroupMetadata, request: JoinGroupRequest,
  context: RebalanceContext): Promise<JoinGroupResponse> {
  const instanceId = request.groupInstanceId
  const replacing = request.memberId === '' && instanceId !== undefined
    ? group.staticMemberId(instanceId) : undefined
  const names = request.protocols.map(protocol => protocol.name)
  const existing = request.memberId === '' ? replacing : request.memberId
  if (!group.supportsProtocols(request.protocolType, names, existing)) {
    throw new WeirError('INCONSISTENT_GROUP_PROTOCOL', `Member's protocol type `
      + `'${request.protocolType}' with protocols [${names.join(', ')}] shares no protocol with `
      + `the members of group ${group.groupId} (type '${group.protocolType ?? ''}'); use an `
      + 'assignor the other members also list.')
  }
  if (replacing !== undefined) return joinStaticMember(group, request, context)
  if (request.memberId === '') return joinNewMember(group, request, context)
  const member = validateCurrentMember(group, request.memberId, instanceId)
  return joinCurrentMember(group, member, request, context)
}

function joinNewMember(group: GroupMetadata, request: JoinGroupRequest,
  context: RebalanceContext): Promise<JoinGroupResponse> {
  if (group.size >= context.config.groupMembersMax) {
    throw new WeirError('GROUP_MAX_SIZE_REACHED', `Group ${group.groupId} already has `
      + `${group.size} members (groupMembersMax); add capacity or use another group.`)
  }
  const member = new MemberMetadata({
    memberId: context.newMemberId(request.clientId),
    groupInstanceId: request.groupInstanceId, clientId: request.clientId,
    sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    protocols: request.protocols,
  })
  assert(group.get(member.memberId) === undefined, 'generated member ids are unique')
  group.add(member, request.protocolType)
  member.touch(context.nowMs)
  const pending = member.awaitJoin()
  extendInitialDelay(group, context)
  prepareRebalance(group, context)
  return pending.promise
}

/**
 * A static member's new incarnation (memberId '' with a known group.instance.id) takes over the
 * old member id's place. In a Stable group with unchanged protocols it keeps its assignment and
 * gets the current generation without a rebalance; the response names the previous leader id,
 * so a restarted leader does not compute an assignment no one would receive (as Kafka).
 */
function joinStaticMember(group: GroupMetadata, request: JoinGroupRequest,
  context: RebalanceContext): Promise<JoinGroupResponse> {
  const instanceId = request.groupInstanceId
  assert(instanceId !== undefined, 'only static members are replaced')
  const previousLeader = group.leaderId
  const member = group.replaceStaticMember(instanceId, context.newMemberId(request.clientId))
  updateMember(member, request, context)
  // Kafka (KIP-345): the restart is silent when the group would select the same protocol. The
  // metadata may differ (a cooperative member rejoins owning nothing yet): the assignment it
  // gets back is the current one, so nothing needs recomputing.
  const unchanged = group.protocolName !== undefined
    && group.selectProtocol() === group.protocolName
  const pending = member.awaitJoin()
  switch (group.state) {
    case 'Stable':
      if (unchanged) {
        const current = group.joinResponseFor(member)
        member.completeJoin({ ...current, leader: previousLeader ?? '', members: [] })
      } else {
        prepareRebalance(group, context)
      }
      break
    case 'CompletingRebalance':
      prepareRebalance(group, context)
      break
    case 'PreparingRebalance':
      break
    default:
      assert(false, `a group with a static member is not ${group.state}`)
  }
  return pending.promise
}

/**
 * A known member rejoins. While preparing, it joins the barrier. While completing, an unchanged
 * member (a retried join) gets the current generation again. While Stable, a follower with
 * unchanged metadata gets the current generation back; the leader rejoining or changed metadata
 * starts a rebalance (the leader may have seen metadata change, as Kafka assumes).
 */
function joinCurrentMember(group: GroupMetadata, member: MemberMetadata,
  request: JoinGroupRequest, context: RebalanceContext): Promise<JoinGroupResponse> {
  const unchanged = member.matches(request.protocols)
  switch (group.state) {
    case 'PreparingRebalance':
      break
    case 'CompletingRebalance':
      if (unchanged) {
        member.touch(context.nowMs)
        return Promise.resolve(group.joinResponseFor(member))
      }
      break
    case 'Stable':
      if (unchanged && !group.isLeader(member.memberId)) {
        member.touch(context.nowMs)
        return Promise.resolve(group.joinResponseFor(member))
      }
      break
    default:
      assert(false, `a group with members is not ${group.state}`)
  }
  updateMember(member, request, context)
  const pending = member.awaitJoin()
  prepareRebalance(group, context)
  return pending.promise
}

function updateMember(member: MemberMetadata, request: JoinGroupRequest,
  context: RebalanceContext): void {
  member.protocols = request.protocols
  member.sessionTimeoutMs = request.sessionTimeoutMs
  member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
  member.touch(context.nowMs)
}
