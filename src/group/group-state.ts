/**
 * The states of a classic consumer group (Kafka's GroupState in GroupMetadata.scala, now
 * ClassicGroupState.java) as a table: each state has a numeric id, the states it may be entered
 * from, and what happens in it. `assertTransition` is the only way a group changes state, so an
 * illegal transition is caught where it happens rather than as a confused group later.
 *
 * The ids are stable (they would be persisted if group metadata ever were; today only offsets
 * are, see offset-store.ts) and never reused.
 */
import { assert } from '../util/assert.ts'

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable'
  | 'Dead'

export interface GroupStateInfo {
  readonly id: number
  readonly validPreviousStates: readonly GroupState[]
  /** What the coordinator does with requests while the group is in this state. */
  readonly action: string
  /** What moves the group out of this state. */
  readonly transition: string
}

export const groupStates: Readonly<Record<GroupState, GroupStateInfo>> = {
  Empty: {
    id: 0,
    validPreviousStates: ['PreparingRebalance'],
    action: 'The group has no members but may have committed offsets. Joins are accepted; '
      + 'commits with generation -1 (no membership) are accepted; heartbeats and syncs get '
      + 'UNKNOWN_MEMBER_ID. A new group starts here.',
    transition: 'A join moves it to PreparingRebalance; deleteGroups (or the periodic cleanup '
      + 'of a group with no offsets) moves it to Dead.',
  },
  PreparingRebalance: {
    id: 1,
    validPreviousStates: ['Stable', 'CompletingRebalance', 'Empty'],
    action: 'Joins are held until every known member has rejoined or the rebalance deadline '
      + '(largest rebalance timeout of the members) passes. Heartbeats get '
      + 'REBALANCE_IN_PROGRESS so members learn to rejoin; syncs get REBALANCE_IN_PROGRESS; '
      + 'commits of the current generation are accepted.',
    transition: 'When all members have joined or the deadline passes: dynamic members that did '
      + 'not rejoin are removed, the generation is bumped and the group moves to '
      + 'CompletingRebalance, or to Empty when no member is left.',
  },
  CompletingRebalance: {
    id: 2,
    validPreviousStates: ['PreparingRebalance'],
    action: 'Members have their JoinGroup responses and send SyncGroup; followers are held until '
      + 'the leader sends the assignment. Heartbeats of the new generation are accepted; '
      + 'commits get REBALANCE_IN_PROGRESS.',
    transition: 'The leader\'s SyncGroup moves it to Stable; a join with changed metadata, a '
      + 'leave or a session expiry moves it back to PreparingRebalance (held syncs fail with '
      + 'REBALANCE_IN_PROGRESS).',
  },
  Stable: {
    id: 3,
    validPreviousStates: ['CompletingRebalance'],
    action: 'Every member has its assignment. Heartbeats, syncs and commits of the current '
      + 'generation are accepted; a follower rejoining with unchanged metadata gets the current '
      + 'generation back without a rebalance.',
    transition: 'A new member, changed metadata, the leader rejoining, a leave or a session '
      + 'expiry moves it to PreparingRebalance.',
  },
  Dead: {
    id: 4,
    validPreviousStates: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
    action: 'The group is being removed: it has no members and no offsets. The coordinator '
      + 'drops it from its map, so requests see an unknown group.',
    transition: 'None: a later join creates a new group.',
  },
}

/** Asserts that a group may move from `from` to `to` (a failure is a coordinator bug). */
export function assertTransition(from: GroupState, to: GroupState): void {
  const info = groupStates[to]
  assert(info !== undefined, `unknown group state ${String(to)}`)
  assert(info.validPreviousStates.includes(from),
    `illegal group state transition ${from} → ${to}`)
}
