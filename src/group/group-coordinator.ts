/**
 * The classic group coordinator, embedded (Kafka's GroupCoordinator for the JoinGroup/SyncGroup
 * protocol plus the offset APIs). It owns every group of the broker: membership and rebalances
 * in memory (group-join.ts, group-sync.ts, group-rebalance.ts), committed offsets in
 * `__consumer_offsets` through offset-store.ts. A network server will wrap the same methods.
 *
 * Persistence follows STYLE.md's coordinator rule where there is durable state: offsets change
 * only by replaying records after their append is durable, so recovery is replay. Membership is
 * deliberately not persisted (Kafka also writes GroupMetadata records): after a restart the
 * groups come back Empty with their offsets, and members learn UNKNOWN_MEMBER_ID and rejoin.
 *
 * Transactional offset commits (KIP-98/KIP-447) are written here but decided by the transaction
 * coordinator, which calls `completeTransaction` to write the marker; until then they are pending
 * (offset-store.ts) and `fetchOffsets` with `requireStable` answers UNSTABLE_OFFSET_COMMIT.
 * Deleting a group or its offsets while a transaction holds pending offsets for it is allowed:
 * the tombstones cover the pending offsets too, so a later commit marker brings none of them back
 * (Kafka's GroupMetadata.removeOffsets also drops pending transactional offsets). Refusing the
 * delete instead would make an admin wait on a transaction that may only end by timing out.
 *
 * Time is the injected Clock; deadlines (sessions, rebalances) are checked by `expire()`, run by
 * a Scheduler timer every `tickMs` and directly by tests. Nothing here sets its own timers.
 */
import { WeirError } from '../errors.ts'
import type { PartitionLog } from '../log/partition-log.ts'
import { assert } from '../util/assert.ts'
import { randomUint32 } from '../util/random.ts'
import { type CancelTimer, type Clock, type Scheduler, systemClock, systemScheduler } from
  '../util/clock.ts'
import {
  type GroupCoordinatorConfig, resolveGroupCoordinatorConfig,
} from './group-coordinator-config.ts'
import { describeGroupMetadata } from './group-description.ts'
import { joinGroupMember } from './group-join.ts'
import { GroupMetadata } from './group-metadata.ts'
import {
  expireGroup, removeMembers, type RebalanceContext, tryCompleteJoin,
} from './group-rebalance.ts'
import type {
  CommittedOffset, DeleteOffsetsRequest, GroupDescription, GroupListing, HeartbeatRequest,
  JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, OffsetCommitRequest,
  OffsetFetchRequest, ResetOffsetsRequest, SyncGroupRequest, SyncGroupResponse,
  TxnOffsetCommitRequest,
} from './group-requests.ts'
import {
  heartbeatMember, leavingMember, syncGroupMember, validateCurrentMember, validateOffsetCommit,
} from './group-sync.ts'
import {
  checkGroupId, validateCommit, validateHeartbeat, validateJoin, validateLeave,
  validatePartitions, validateSync, validateTxnCommit, validateTxnCompletion,
} from './group-validation.ts'
import { OffsetStore } from './offset-store.ts'

export {
  type GroupCoordinatorConfig, groupCoordinatorConfigDefaults,
} from './group-coordinator-config.ts'
export type {
  CommittedOffset, DeleteOffsetsRequest, GroupDescription, GroupListing, GroupMemberDescription,
  GroupProtocol, HeartbeatRequest, JoinGroupRequest, JoinGroupResponse, JoinGroupResponseMember,
  LeaveGroupRequest, LeavingMember, MemberAssignment, OffsetCommitEntry, OffsetCommitRequest,
  OffsetFetchRequest, ResetOffsetsRequest, SyncGroupRequest, SyncGroupResponse,
  TxnOffsetCommitRequest,
} from './group-requests.ts'

/** The transaction coordinator's marker for one partition of `__consumer_offsets`. */
export interface CompleteTransactionRequest {
  readonly partition: number
  readonly producerId: number
  readonly producerEpoch: number
  /** true writes a commit marker, false an abort marker. */
  readonly commit: boolean
}

export interface GroupCoordinatorOptions {
  /** The partitions of `__consumer_offsets` (compacted, flush 'always'), in order. */
  readonly offsetLogs: readonly PartitionLog[]
  readonly clock?: Clock
  readonly scheduler?: Scheduler
  readonly config?: Partial<GroupCoordinatorConfig>
  /** Source of the random part of generated member ids (node:crypto by default). */
  readonly randomUint32?: () => number
}

const defaultRandomUint32 = randomUint32

export class GroupCoordinator {
  private readonly groups = new Map<string, GroupMetadata>()
  private closed = false
  private cancelTimer: CancelTimer = () => undefined
  private memberIdCounter = 0

  private constructor(
    readonly config: GroupCoordinatorConfig,
    private readonly offsets: OffsetStore,
    private readonly clock: Clock,
    private readonly randomUint32: () => number,
  ) {}

  /**
   * Loads committed offsets from `offsetLogs` and starts the expiry timer.
   * @throws INVALID_CONFIG; WEIR_ERR_LOG_CORRUPT when a stored offset record does not parse
   */
  static async open(options: GroupCoordinatorOptions): Promise<GroupCoordinator> {
    const config = resolveGroupCoordinatorConfig(options.config)
    const offsets = await OffsetStore.open(options.offsetLogs)
    const coordinator = new GroupCoordinator(config, offsets, options.clock ?? systemClock,
      options.randomUint32 ?? defaultRandomUint32)
    const scheduler = options.scheduler ?? systemScheduler
    coordinator.cancelTimer = scheduler.every(config.tickMs, () => coordinator.expire())
    return coordinator
  }

  private context(nowMs = this.clock.nowMs()): RebalanceContext {
    return { config: this.config, nowMs, newMemberId: clientId => this.newMemberId(clientId) }
  }

  /** `<clientId>-<counter>-<random>` (Kafka: clientId-UUID), within idLengthMax. */
  private newMemberId(clientId: string): string {
    this.memberIdCounter += 1
    const counter = this.memberIdCounter.toString(16).padStart(8, '0')
    const random = (this.randomUint32() >>> 0).toString(16).padStart(8, '0')
    const suffix = `-${counter}-${random}`
    const memberId = clientId.slice(0, this.config.idLengthMax - suffix.length) + suffix
    assert(memberId.length <= this.config.idLengthMax, 'a generated member id fits idLengthMax')
    return memberId
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The group coordinator is closed; '
        + 'reopen the broker.')
    }
  }

  private memberGroup(groupId: string): GroupMetadata {
    const group = this.groups.get(groupId)
    if (group === undefined) {
      throw new WeirError('UNKNOWN_MEMBER_ID', `Group ${groupId} has no members; join it `
        + 'with an empty member id.')
    }
    return group
  }

  /**
   * Joins a member to a group, held until the rebalance completes.
   * @throws INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT, INVALID_REQUEST,
   *   INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED,
   *   REBALANCE_IN_PROGRESS (superseded by the member's newer join), WEIR_ERR_CLIENT_CLOSED
   */
  async joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    this.checkOpen()
    validateJoin(request, this.config)
    let group = this.groups.get(request.groupId)
    if (group === undefined) {
      if (request.memberId !== '') {
        throw new WeirError('UNKNOWN_MEMBER_ID', `Group ${request.groupId} has no member `
          + `${request.memberId}; join with an empty member id.`)
      }
      group = new GroupMetadata(request.groupId)
    }
    const response = joinGroupMember(group, request, this.context())
    this.groups.set(group.groupId, group)
    const joined = group
    // Complete the barrier at the end of this turn, so members joining together share it.
    queueMicrotask(() => {
      if (!this.closed && this.groups.get(joined.groupId) === joined) {
        tryCompleteJoin(joined, this.context())
      }
    })
    return response
  }

  /**
   * Sends the leader's assignment, or waits for it. @throws UNKNOWN_MEMBER_ID,
   * FENCED_INSTANCE_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS, INVALID_REQUEST
   */
  async syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    this.checkOpen()
    validateSync(request, this.config)
    return syncGroupMember(this.memberGroup(request.groupId), request, this.context())
  }

  /**
   * Keeps a member's session alive. @throws UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
   * ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS (rejoin)
   */
  async heartbeat(request: HeartbeatRequest): Promise<void> {
    this.checkOpen()
    validateHeartbeat(request, this.config)
    heartbeatMember(this.memberGroup(request.groupId), request, this.context())
  }

  /**
   * Removes members (all named members must exist, or none is removed) and rebalances.
   * @throws UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, INVALID_REQUEST
   */
  async leaveGroup(request: LeaveGroupRequest): Promise<void> {
    this.checkOpen()
    validateLeave(request, this.config)
    const group = this.memberGroup(request.groupId)
    const leaving = new Set(request.members.map(member => leavingMember(group, member)))
    removeMembers(group, [...leaving], this.context(), 'left the group')
  }

  /**
   * Commits offsets once durable. @throws ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
   * FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS (while completing a rebalance), INVALID_REQUEST
   */
  async commitOffsets(request: OffsetCommitRequest): Promise<void> {
    this.checkOpen()
    validateCommit(request, this.config)
    const nowMs = this.clock.nowMs()
    validateOffsetCommit(this.groups.get(request.groupId),
      this.offsets.hasOffsets(request.groupId), request, nowMs)
    if (request.offsets.length === 0) return
    await this.offsets.commit(request.groupId, request.offsets.map(entry => ({
      topic: entry.topic, partition: entry.partition, offset: entry.offset,
      metadata: entry.metadata ?? '', commitTimestamp: nowMs,
    })))
  }

  /**
   * Writes offsets as part of a producer's transaction (Kafka's TxnOffsetCommit): they stay
   * pending, invisible to `fetchOffsets`, until `completeTransaction` commits them. With
   * `generationId` ≥ 0 the member and generation must be current, so a zombie of an earlier
   * generation is fenced (KIP-447); with -1 no membership is checked. The caller (the
   * transaction coordinator) has already checked the transactional id and producer epoch.
   * @example
   * await coordinator.txnCommitOffsets({ transactionalId: 'tx', groupId: 'g', producerId: 7,
   *   producerEpoch: 0, generationId: -1, memberId: '', offsets: [{ topic: 't', partition: 0,
   *   offset: 42 }] })
   * @throws ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, INVALID_REQUEST,
   *   INVALID_GROUP_ID, WEIR_ERR_CLIENT_CLOSED
   * @see https://cwiki.apache.org/confluence/display/KAFKA/KIP-447
   */
  async txnCommitOffsets(request: TxnOffsetCommitRequest): Promise<void> {
    this.checkOpen()
    validateTxnCommit(request, this.config)
    if (request.generationId >= 0) this.checkTxnCommitMember(request)
    if (request.offsets.length === 0) return
    const commitTimestamp = this.clock.nowMs()
    await this.offsets.commitTransactional(request.groupId, request.producerId,
      request.producerEpoch, request.offsets.map(entry => ({ topic: entry.topic,
        partition: entry.partition, offset: entry.offset, metadata: entry.metadata ?? '',
        commitTimestamp })))
  }

  /**
   * Kafka's validateOffsetCommit with isTransactional: the member and generation checks of a
   * plain commit, but no REBALANCE_IN_PROGRESS while completing a rebalance and no session
   * refresh (Kafka does neither for TxnOffsetCommit).
   */
  private checkTxnCommitMember(request: TxnOffsetCommitRequest): void {
    const { groupId, generationId, memberId } = request
    assert(generationId >= 0, 'only commits with a generation are checked')
    const group = this.groups.get(groupId)
    if (group === undefined) {
      if (this.offsets.hasOffsets(groupId)) {
        throw new WeirError('UNKNOWN_MEMBER_ID', `Group ${groupId} has no members; join it, `
          + 'or commit with generation -1.')
      }
      throw new WeirError('ILLEGAL_GENERATION', `Group ${groupId} does not exist, so `
        + `generation ${generationId} is stale; rejoin, or commit with generation -1.`)
    }
    validateCurrentMember(group, memberId, request.groupInstanceId)
    if (generationId !== group.generationId) {
      throw new WeirError('ILLEGAL_GENERATION', `Member ${memberId} sent generation `
        + `${generationId} but group ${groupId} is at generation ${group.generationId}; `
        + 'rejoin the group, and abort the transaction.')
    }
  }

  /**
   * Writes a transaction marker for `producerId` to one partition of `__consumer_offsets`;
   * once durable, a commit makes the producer's pending offsets there committed and an abort
   * drops them. Harmless when nothing is pending (markers are rewritten after a restart).
   * @throws INVALID_REQUEST, WEIR_ERR_CLIENT_CLOSED, and the log's errors
   */
  async completeTransaction(request: CompleteTransactionRequest): Promise<void> {
    this.checkOpen()
    validateTxnCompletion(request, this.offsets.partitionCount)
    await this.offsets.completeTransaction(request.partition, request.producerId,
      request.producerEpoch, request.commit)
  }

  /** The partition of `__consumer_offsets` holding `groupId`'s offsets. @throws INVALID_GROUP_ID */
  partitionFor(groupId: string): number {
    return this.offsets.partitionFor(checkGroupId(groupId, this.config))
  }

  get offsetsPartitionCount(): number {
    return this.offsets.partitionCount
  }

  /**
   * The group's committed offsets for `partitions` (those with none are left out), or all.
   * @throws UNSTABLE_OFFSET_COMMIT (retriable) with `requireStable` while a transaction holds
   *   undecided offsets of the group for a requested partition (any, when none are named)
   */
  async fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    this.checkOpen()
    checkGroupId(request.groupId, this.config)
    if (request.partitions !== undefined) {
      validatePartitions(request.partitions, this.config, false)
    }
    if (request.requireStable === true
      && this.offsets.hasPendingOffsets(request.groupId, request.partitions)) {
      throw new WeirError('UNSTABLE_OFFSET_COMMIT', `Group ${request.groupId} has offsets in a `
        + 'transaction that is not committed or aborted yet; retry shortly.')
    }
    return this.offsets.fetch(request.groupId, request.partitions)
  }

  /** Admin: sets offsets of a group with no members. @throws NON_EMPTY_GROUP */
  async resetOffsets(request: ResetOffsetsRequest): Promise<void> {
    this.checkOpen()
    checkGroupId(request.groupId, this.config)
    validatePartitions(request.offsets, this.config, true)
    this.checkNoMembers(request.groupId)
    if (request.offsets.length === 0) return
    const commitTimestamp = this.clock.nowMs()
    await this.offsets.commit(request.groupId, request.offsets.map(entry => ({
      topic: entry.topic, partition: entry.partition, offset: entry.offset, metadata: '',
      commitTimestamp,
    })))
  }

  /** Admin: deletes offsets of a group with no members (tombstones). @throws NON_EMPTY_GROUP */
  async deleteOffsets(request: DeleteOffsetsRequest): Promise<void> {
    this.checkOpen()
    checkGroupId(request.groupId, this.config)
    validatePartitions(request.partitions, this.config, false)
    this.checkNoMembers(request.groupId)
    await this.offsets.delete(request.groupId, this.clock.nowMs(), request.partitions)
  }

  /**
   * Deletes groups with no members and their offsets. All are checked before any is deleted.
   * @throws GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, INVALID_GROUP_ID
   */
  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    this.checkOpen()
    const unique = [...new Set(groupIds)]
    for (const groupId of unique) {
      checkGroupId(groupId, this.config)
      if (!this.groups.has(groupId) && !this.offsets.hasOffsets(groupId)
        && !this.offsets.hasPendingOffsets(groupId)) {
        throw new WeirError('GROUP_ID_NOT_FOUND', `Group ${groupId} does not exist.`)
      }
      this.checkNoMembers(groupId)
    }
    const nowMs = this.clock.nowMs()
    for (const groupId of unique) this.dropGroup(groupId)
    await Promise.all(unique.map(groupId => this.offsets.delete(groupId, nowMs)))
  }

  private checkNoMembers(groupId: string): void {
    const state = this.groups.get(groupId)?.state ?? 'Empty'
    if (state !== 'Empty') {
      throw new WeirError('NON_EMPTY_GROUP', `Group ${groupId} is ${state} with members; stop `
        + 'its consumers (or remove its members) first.')
    }
  }

  private dropGroup(groupId: string): void {
    const group = this.groups.get(groupId)
    if (group === undefined) return
    group.transitionTo('Dead')
    this.groups.delete(groupId)
  }

  /** Every group with members or committed offsets, by group id. */
  listGroups(): GroupListing[] {
    this.checkOpen()
    const listings = new Map<string, GroupListing>()
    for (const groupId of this.offsets.groupIds()) {
      listings.set(groupId, { groupId, state: 'Empty', protocolType: '' })
    }
    for (const group of this.groups.values()) {
      listings.set(group.groupId, { groupId: group.groupId, state: group.state,
        protocolType: group.protocolType ?? '' })
    }
    return [...listings.values()].sort((a, b) => a.groupId < b.groupId ? -1 : 1)
  }

  /** A group's state and members; an unknown group is described as Dead (as Kafka). */
  describeGroup(groupId: string): GroupDescription {
    this.checkOpen()
    checkGroupId(groupId, this.config)
    const group = this.groups.get(groupId)
    if (group === undefined) {
      return { groupId, state: this.offsets.hasOffsets(groupId) ? 'Empty' : 'Dead',
        protocolType: '', protocol: '', generationId: 0, leader: '', members: [] }
    }
    return describeGroupMetadata(group)
  }

  /**
   * Runs every group's deadlines at `nowMs`: expired sessions are removed (and rebalance),
   * overdue rebalances complete, and Empty groups without offsets are dropped.
   */
  expire(nowMs = this.clock.nowMs()): void {
    if (this.closed) return
    const context = this.context(nowMs)
    for (const group of [...this.groups.values()]) {
      expireGroup(group, context)
      if (group.state === 'Empty' && !this.offsets.hasOffsets(group.groupId)) {
        this.dropGroup(group.groupId)
      }
    }
  }

  /** Stops the timer and fails held joins and syncs with WEIR_ERR_CLIENT_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.cancelTimer()
    const error = new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The group coordinator closed while '
      + 'this request was waiting; reconnect and rejoin.')
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) member.failPending(error)
    }
    await this.offsets.drain()
  }
}
