/**
 * The rebalance barrier of the classic protocol (Kafka's GroupCoordinator prepareRebalance,
 * onCompleteJoin, removeMemberAndUpdateGroup and heartbeat expiry): starting a rebalance,
 * completing it when every member has rejoined or its deadline has passed, and removing members
 * (leave, session expiry) with the rebalance that follows.
 *
 * Time is whatever `nowMs` the caller passes in the context; nothing here reads a clock or sets
 * a timer. Deadlines are checked by `expireGroup`, which the coordinator runs on each tick.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { GroupCoordinatorConfig } from './group-coordinator-config.ts'
import type { GroupMetadata } from './group-metadata.ts'
import type { MemberMetadata } from './member-metadata.ts'

export interface RebalanceContext {
  readonly config: GroupCoordinatorConfig
  readonly nowMs: number
  /** A fresh member id for a member with this client id. */
  readonly newMemberId: (clientId: string) => string
}

/**
 * Moves the group to PreparingRebalance unless it is there already (Kafka's
 * maybePrepareRebalance). Leaving CompletingRebalance fails the held syncs with
 * REBALANCE_IN_PROGRESS and clears the assignments, so members rejoin.
 */
export function prepareRebalance(group: GroupMetadata, context: RebalanceContext): void {
  if (group.state === 'PreparingRebalance' || group.state === 'Dead') return
  if (group.state === 'CompletingRebalance') {
    for (const member of group.members.values()) {
      member.assignment = Buffer.alloc(0)
      member.awaitingSync?.reject(new WeirError('REBALANCE_IN_PROGRESS', `Group `
        + `${group.groupId} started another rebalance before its leader's SyncGroup; rejoin.`))
      member.awaitingSync = undefined
    }
  }
  const wasEmpty = group.state === 'Empty'
  const timeoutMs = group.rebalanceTimeoutMs()
  group.transitionTo('PreparingRebalance')
  const delayMs = context.config.initialRebalanceDelayMs
  if (wasEmpty && delayMs > 0) {
    group.initialDelay = { limitMs: context.nowMs + Math.max(timeoutMs, delayMs) }
    group.rebalanceDeadlineMs = context.nowMs + delayMs
  } else {
    group.rebalanceDeadlineMs = context.nowMs + timeoutMs
  }
  assert(group.rebalanceDeadlineMs >= context.nowMs, 'a rebalance deadline is not in the past')
}

/** A new member joined during the initial delay: wait for more, within the limit. */
export function extendInitialDelay(group: GroupMetadata, context: RebalanceContext): void {
  const initialDelay = group.initialDelay
  if (group.state !== 'PreparingRebalance' || initialDelay === undefined) return
  const pushed = context.nowMs + context.config.initialRebalanceDelayMs
  group.rebalanceDeadlineMs = Math.min(Math.max(group.rebalanceDeadlineMs ?? 0, pushed),
    initialDelay.limitMs)
}

/** Completes the join if every member has rejoined and no initial delay is running. */
export function tryCompleteJoin(group: GroupMetadata, context: RebalanceContext): void {
  if (group.state !== 'PreparingRebalance' || group.initialDelay !== undefined) return
  if (group.allMembersJoined()) completeJoin(group, context)
}

/**
 * Ends the PreparingRebalance barrier (Kafka's onCompleteJoin): dynamic members that did not
 * rejoin are removed (static ones stay until their session expires), the leader is kept if it
 * rejoined or else is the first member that did, the generation is bumped and every held join
 * is answered. If only static members that have not rejoined remain, the barrier is postponed
 * by another rebalance timeout, as Kafka does, until they rejoin or expire.
 */
export function completeJoin(group: GroupMetadata, context: RebalanceContext): void {
  assert(group.state === 'PreparingRebalance', 'only a preparing group completes a join')
  for (const member of [...group.members.values()]) {
    if (member.awaitingJoin !== undefined || member.isStatic) continue
    assert(member.awaitingSync === undefined, 'no sync is held while preparing a rebalance')
    group.remove(member.memberId)
  }
  const joined = [...group.members.values()].filter(member => member.awaitingJoin !== undefined)
  if (joined.length === 0 && group.size > 0) {
    group.initialDelay = undefined
    group.rebalanceDeadlineMs = context.nowMs + group.rebalanceTimeoutMs()
    return
  }
  const leader = group.leaderId === undefined ? undefined : group.get(group.leaderId)
  if (leader?.awaitingJoin === undefined) group.leaderId = joined[0]?.memberId
  group.initNextGeneration()
  for (const member of joined) {
    member.completeJoin(group.joinResponseFor(member))
    member.touch(context.nowMs)
  }
  assert(group.leaderId === undefined || group.get(group.leaderId) !== undefined,
    'the leader of a generation is a member')
}

/**
 * Removes members (leave, session expiry, admin) and moves the group on: a Stable or
 * CompletingRebalance group rebalances; a preparing one may now have everyone rejoined; a group
 * left with no members becomes Empty. Held requests of the removed fail with UNKNOWN_MEMBER_ID.
 */
export function removeMembers(group: GroupMetadata, members: readonly MemberMetadata[],
  context: RebalanceContext, reason: string): void {
  if (members.length === 0) return
  for (const member of members) {
    member.failPending(new WeirError('UNKNOWN_MEMBER_ID', `Member ${member.memberId} was `
      + `removed from group ${group.groupId} (${reason}); rejoin with an empty member id.`))
    group.remove(member.memberId)
  }
  prepareRebalance(group, context)
  tryCompleteJoin(group, context)
  assert(group.size > 0 || group.state === 'Empty' || group.state === 'PreparingRebalance',
    'a group left without members is Empty or waiting out its initial delay')
}

/**
 * Runs the group's deadlines at `context.nowMs`: members whose session expired with nothing held
 * are removed, and a rebalance whose deadline passed completes with whoever rejoined.
 */
export function expireGroup(group: GroupMetadata, context: RebalanceContext): void {
  const expired = [...group.members.values()].filter(member => member.isExpired(context.nowMs))
  removeMembers(group, expired, context, 'session timeout expired')
  const deadline = group.rebalanceDeadlineMs
  if (group.state === 'PreparingRebalance' && deadline !== undefined
    && context.nowMs >= deadline) {
    group.initialDelay = undefined
    completeJoin(group, context)
  }
}
