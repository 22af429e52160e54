/**
 * Consumer-group requests against a Kafka cluster, each sent to the group's coordinator.
 *
 * - JoinGroup: a broker of Kafka 2.2+ answers a first join (empty member id) with
 *   MEMBER_ID_REQUIRED and the id to use (KIP-394); the transport joins again with it at once,
 *   so Weir's group membership sees one join, as with Weir's own broker.
 * - OffsetCommit is classic (≤ v5): commits carry no group instance id. OffsetFetch v7
 *   (Kafka 2.5+) carries RequireStable (KIP-447); an older broker ignores it.
 * - DescribeGroups does not give the generation or the leader: they read −1 and ''.
 */
import type {
  CommittedOffset, GroupDescription, GroupListing, HeartbeatRequest, JoinGroupRequest,
  JoinGroupResponse, LeaveGroupRequest, OffsetCommitEntry, OffsetCommitRequest,
  OffsetFetchRequest, SyncGroupRequest, SyncGroupResponse,
} from '../../../group/group-requests.ts'
import type { GroupState } from '../../../group/group-state.ts'
import { API, type KafkaCluster } from './kafka-cluster.ts'
import { throwIfError } from './kafka-errors.ts'

const MEMBER_ID_REQUIRED = 79
const REQUEST_TIMEOUT_MS = 30_000

interface JoinAnswer {
  errorCode: number
  generationId: number
  protocolName: string
  leader: string
  memberId: string
  members: Array<{ memberId: string, groupInstanceId?: string | null, metadata: Buffer }>
}

export async function joinGroup(cluster: KafkaCluster, request: JoinGroupRequest):
Promise<JoinGroupResponse> {
  let memberId = request.memberId
  for (let attempt = 0; ; attempt++) {
    const answer = await cluster.callCoordinator<JoinAnswer>(request.groupId, 'group',
      API.joinGroup, {
        groupId: request.groupId, sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: request.rebalanceTimeoutMs, memberId,
        groupInstanceId: request.groupInstanceId ?? null,
        protocolType: request.protocolType, protocols: request.protocols,
      }, { timeoutMs: request.rebalanceTimeoutMs + REQUEST_TIMEOUT_MS,
        ...(request.clientId === '' ? {} : { clientId: request.clientId }) })
    if (answer.errorCode === MEMBER_ID_REQUIRED && attempt === 0) {
      memberId = answer.memberId
      continue
    }
    throwIfError(answer.errorCode, `JoinGroup of ${request.groupId}`)
    return { generationId: answer.generationId, protocolName: answer.protocolName,
      leader: answer.leader, memberId: answer.memberId,
      members: answer.members.map(member => ({ memberId: member.memberId,
        ...(member.groupInstanceId == null ? {} : { groupInstanceId: member.groupInstanceId }),
        metadata: Buffer.from(member.metadata) })) }
  }
}

export async function syncGroup(cluster: KafkaCluster, request: SyncGroupRequest):
Promise<SyncGroupResponse> {
  const answer = await cluster.callCoordinator<{ errorCode: number, assignment: Buffer }>(
    request.groupId, 'group', API.syncGroup, {
      groupId: request.groupId, generationId: request.generationId,
      memberId: request.memberId, groupInstanceId: request.groupInstanceId ?? null,
      assignments: request.assignments,
    }, { timeoutMs: 2 * REQUEST_TIMEOUT_MS })
  throwIfError(answer.errorCode, `SyncGroup of ${request.groupId}`)
  return { assignment: Buffer.from(answer.assignment) }
}

export async function heartbeat(cluster: KafkaCluster, request: HeartbeatRequest):
Promise<void> {
  const answer = await cluster.callCoordinator<{ errorCode: number }>(request.groupId, 'group',
    API.heartbeat, {
      groupId: request.groupId, generationId: request.generationId,
      memberId: request.memberId, groupInstanceId: request.groupInstanceId ?? null })
  throwIfError(answer.errorCode, `Heartbeat of ${request.groupId}`)
}

export async function leaveGroup(cluster: KafkaCluster, request: LeaveGroupRequest):
Promise<void> {
  // One member per request: LeaveGroup before v3 names a single member id.
  for (const member of request.members) {
    const answer = await cluster.callCoordinator<{ errorCode: number,
      members?: Array<{ errorCode: number }> }>(request.groupId, 'group', API.leaveGroup, {
        groupId: request.groupId, memberId: member.memberId ?? '',
        members: [{ memberId: member.memberId ?? '',
          groupInstanceId: member.groupInstanceId ?? null }] })
    throwIfError(answer.errorCode, `LeaveGroup of ${request.groupId}`)
    for (const left of answer.members ?? []) {
      throwIfError(left.errorCode, `LeaveGroup of ${request.groupId}`)
    }
  }
}

/** Offsets nested by topic, as OffsetCommit and TxnOffsetCommit carry them. */
export function offsetTopics(offsets: readonly OffsetCommitEntry[]) {
  const topics = new Map<string, Array<{ partitionIndex: number, committedOffset: number,
    committedLeaderEpoch: number, committedMetadata: string | null }>>()
  for (const entry of offsets) {
    topics.set(entry.topic, [...topics.get(entry.topic) ?? [], {
      partitionIndex: entry.partition, committedOffset: entry.offset,
      committedLeaderEpoch: -1, committedMetadata: entry.metadata ?? null }])
  }
  return [...topics].map(([name, partitions]) => ({ name, partitions }))
}

type PartitionErrors = { topics: Array<{ name: string, partitions: Array<{
  partitionIndex: number, errorCode: number }> }> }

/** Throws the first partition's error of an OffsetCommit or TxnOffsetCommit answer. */
export function throwFirstPartitionError(answer: PartitionErrors, what: string): void {
  for (const topic of answer.topics) {
    for (const partition of topic.partitions) {
      throwIfError(partition.errorCode, `${what} (${topic.name}/${partition.partitionIndex})`)
    }
  }
}

export async function commitOffsets(cluster: KafkaCluster, request: OffsetCommitRequest):
Promise<void> {
  const answer = await cluster.callCoordinator<PartitionErrors>(request.groupId, 'group',
    API.offsetCommit, {
      groupId: request.groupId, generationId: request.generationId,
      memberId: request.memberId, retentionTimeMs: -1,
      topics: offsetTopics(request.offsets) })
  throwFirstPartitionError(answer, `OffsetCommit of ${request.groupId}`)
}

interface OffsetFetchAnswer {
  errorCode?: number
  topics: Array<{ name: string, partitions: Array<{ partitionIndex: number,
    committedOffset: number, metadata: string | null, errorCode: number }> }>
}

export async function fetchOffsets(cluster: KafkaCluster, request: OffsetFetchRequest):
Promise<CommittedOffset[]> {
  const asked = request.partitions
  const topics = asked === undefined ? null : [...new Set(asked.map(p => p.topic))]
    .map(name => ({ name, partitionIndexes: asked.filter(p => p.topic === name)
      .map(p => p.partition) }))
  const answer = await cluster.callCoordinator<OffsetFetchAnswer>(request.groupId, 'group',
    API.offsetFetch, { groupId: request.groupId, topics,
      requireStable: request.requireStable === true })
  throwIfError(answer.errorCode ?? 0, `OffsetFetch of ${request.groupId}`)
  const committed: CommittedOffset[] = []
  for (const topic of answer.topics) {
    for (const p of topic.partitions) {
      throwIfError(p.errorCode, `OffsetFetch of ${request.groupId}`)
      if (p.committedOffset < 0) continue
      committed.push({ topic: topic.name, partition: p.partitionIndex,
        offset: p.committedOffset, metadata: p.metadata ?? '', commitTimestamp: -1 })
    }
  }
  return committed
}

interface DescribedGroup {
  errorCode: number
  groupId: string
  groupState: string
  protocolType: string
  protocolData: string
  members: Array<{ memberId: string, clientId: string, memberMetadata: Buffer,
    memberAssignment: Buffer }>
}

export async function describeGroup(cluster: KafkaCluster, groupId: string):
Promise<GroupDescription> {
  const answer = await cluster.callCoordinator<{ groups: DescribedGroup[] }>(groupId, 'group',
    API.describeGroups, { groups: [groupId] })
  const group = answer.groups[0]!
  throwIfError(group.errorCode, `DescribeGroups of ${groupId}`)
  return { groupId, state: group.groupState as GroupState, protocolType: group.protocolType,
    protocol: group.protocolData, generationId: -1, leader: '',
    members: group.members.map(member => ({ memberId: member.memberId,
      clientId: member.clientId, metadata: Buffer.from(member.memberMetadata),
      assignment: Buffer.from(member.memberAssignment) })) }
}

/** Every broker's groups (each lists those it coordinates), with their states. */
export async function listGroups(cluster: KafkaCluster): Promise<GroupListing[]> {
  const { brokers } = await cluster.metadata([])
  const listed = await Promise.all(brokers.map(async broker => {
    const { answer } = await cluster.call<{ errorCode: number,
      groups: Array<{ groupId: string, protocolType: string }> }>(
      { host: broker.host, port: broker.port }, API.listGroups, {})
    throwIfError(answer.errorCode, 'ListGroups')
    return answer.groups
  }))
  const groups = [...new Map(listed.flat().map(group => [group.groupId, group])).values()]
  return Promise.all(groups.map(async group => ({ groupId: group.groupId,
    protocolType: group.protocolType,
    state: (await describeGroup(cluster, group.groupId)).state })))
}
