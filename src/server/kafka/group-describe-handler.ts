/**
 * DescribeGroups and ListGroups. The coordinator already speaks Kafka's terms: state strings
 * (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead; an unknown group is Dead with
 * no error, as Kafka), protocol type, protocol (shown only while Stable, as Kafka), members
 * with their metadata and assignment bytes (empty unless Stable).
 *
 * client_host is '': the coordinator does not record where a member connected from, and the
 * handler contract (kafka-context.ts) does not pass the peer address. Kafka shows "/<ip>".
 */
import type { KafkaContext, KafkaHandler } from './kafka-context.ts'
import { settle, wire } from './group-wire.ts'

async function describeOne(context: KafkaContext, groupId: string) {
  const { errorCode, value } = await settle(() => context.transport.describeGroup(groupId))
  return {
    errorCode, groupId,
    groupState: value?.state ?? '',
    protocolType: value?.protocolType ?? '',
    protocolData: value?.protocol ?? '',
    members: (value?.members ?? []).map(member => ({ memberId: member.memberId,
      clientId: member.clientId, clientHost: '', memberMetadata: member.metadata,
      memberAssignment: member.assignment })),
  }
}

export const handleDescribeGroups: KafkaHandler = async (request, context) => {
  const { groups } = wire<{ groups: readonly string[] }>(request)
  const described = []
  // One at a time: the array is bounded by the frame, the answers are in request order.
  for (const groupId of groups) described.push(await describeOne(context, groupId))
  return { throttleTimeMs: 0, groups: described }
}

export const handleListGroups: KafkaHandler = async (_request, context) => {
  const { errorCode, value } = await settle(() => context.transport.listGroups())
  return { throttleTimeMs: 0, errorCode,
    groups: (value ?? []).map(group => ({ groupId: group.groupId,
      protocolType: group.protocolType })) }
}
