/**
 * The requests and responses of the classic group protocol and the offset APIs, as the embedded
 * coordinator takes them (Kafka's JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, DescribeGroups, ListGroups, DeleteGroups, OffsetDelete). A network server will
 * decode the wire versions into these shapes and call the same methods.
 *
 * Fields keep Kafka's names. Buffers (protocol metadata, assignments) are opaque to the
 * coordinator: only the members' assignor reads them.
 */
import type { TopicPartition } from './assignor.ts'
import type { GroupState } from './group-state.ts'

/** One protocol a member supports (e.g. an assignor name) with its subscription metadata. */
export interface GroupProtocol {
  readonly name: string
  readonly metadata: Buffer
}

export interface JoinGroupRequest {
  readonly groupId: string
  /** '' for a member joining for the first time: the coordinator gives it an id. */
  readonly memberId: string
  /** Static membership (KIP-345): a stable id that survives restarts of the member. */
  readonly groupInstanceId?: string
  readonly clientId: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  /** e.g. 'consumer'; every member of a group uses the same type. */
  readonly protocolType: string
  /** In order of preference. */
  readonly protocols: readonly GroupProtocol[]
}

export interface JoinGroupResponseMember {
  readonly memberId: string
  readonly groupInstanceId?: string
  /** The member's metadata for the selected protocol. */
  readonly metadata: Buffer
}

export interface JoinGroupResponse {
  readonly generationId: number
  readonly protocolName: string
  readonly leader: string
  readonly memberId: string
  /** Every member with its metadata for the leader; empty for the others. */
  readonly members: readonly JoinGroupResponseMember[]
}

export interface MemberAssignment {
  readonly memberId: string
  readonly assignment: Buffer
}

export interface SyncGroupRequest {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId?: string
  /** Only the leader sends assignments; members it leaves out get an empty one. */
  readonly assignments: readonly MemberAssignment[]
}

export interface SyncGroupResponse {
  readonly assignment: Buffer
}

export interface HeartbeatRequest {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId?: string
}

/** A member to remove: by member id, by static instance id, or both (they must agree). */
export interface LeavingMember {
  readonly memberId?: string
  readonly groupInstanceId?: string
}

export interface LeaveGroupRequest {
  readonly groupId: string
  readonly members: readonly LeavingMember[]
}

export interface OffsetCommitEntry extends TopicPartition {
  readonly offset: number
  /** Free text kept with the offset (bounded by `offsetMetadataBytesMax`); defaults to ''. */
  readonly metadata?: string
}

export interface OffsetCommitRequest {
  readonly groupId: string
  /** -1 commits without membership, allowed only while the group has no members. */
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId?: string
  readonly offsets: readonly OffsetCommitEntry[]
}

/**
 * Offsets committed as part of a transaction (Kafka's TxnOffsetCommit, KIP-447): they become the
 * group's committed offsets only when the transaction commits. With `generationId` ≥ 0 the
 * coordinator checks the member and generation as for a plain commit, so a zombie of an earlier
 * generation cannot commit (EOS v2 fencing); -1 skips the check.
 */
export interface TxnOffsetCommitRequest {
  readonly transactionalId: string
  readonly groupId: string
  readonly producerId: number
  readonly producerEpoch: number
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId?: string
  readonly offsets: readonly OffsetCommitEntry[]
}

export interface OffsetFetchRequest {
  readonly groupId: string
  /** All of the group's committed offsets when omitted. */
  readonly partitions?: readonly TopicPartition[]
  /**
   * Fail with the retriable UNSTABLE_OFFSET_COMMIT while a transaction holds undecided offsets
   * for a requested partition (Kafka's RequireStable, KIP-447), instead of answering with the
   * offsets committed before it.
   */
  readonly requireStable?: boolean
}

export interface CommittedOffset extends TopicPartition {
  readonly offset: number
  readonly metadata: string
  /** Coordinator clock time of the commit, in ms since the epoch. */
  readonly commitTimestamp: number
}

/** Admin: set a group's offsets (only while the group has no members). */
export interface ResetOffsetsRequest {
  readonly groupId: string
  readonly offsets: readonly (TopicPartition & { readonly offset: number })[]
}

/** Admin: delete a group's offsets for some partitions (only while it has no members). */
export interface DeleteOffsetsRequest {
  readonly groupId: string
  readonly partitions: readonly TopicPartition[]
}

export interface GroupListing {
  readonly groupId: string
  readonly state: GroupState
  /** '' when the group has only committed offsets (no member ever joined since startup). */
  readonly protocolType: string
}

export interface GroupMemberDescription {
  readonly memberId: string
  readonly groupInstanceId?: string
  readonly clientId: string
  /** Metadata for the selected protocol; empty unless the group is Stable (as Kafka). */
  readonly metadata: Buffer
  /** Empty unless the group is Stable (as Kafka). */
  readonly assignment: Buffer
}

export interface GroupDescription {
  readonly groupId: string
  /** 'Dead' for a group the coordinator does not know (as Kafka's DescribeGroups). */
  readonly state: GroupState
  readonly protocolType: string
  /** '' unless the group is Stable (as Kafka). */
  readonly protocol: string
  readonly generationId: number
  /** '' when the group has no leader. */
  readonly leader: string
  readonly members: readonly GroupMemberDescription[]
}
