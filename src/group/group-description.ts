/**
 * What DescribeGroups shows of a group (Kafka's GroupMetadata.summary): state, protocol type,
 * generation, leader and members. As Kafka, the selected protocol and the members' metadata and
 * assignments are shown only while the group is Stable; in any other state they would describe
 * a generation that is being replaced.
 */
import { assert } from '../util/assert.ts'
import type { GroupMetadata } from './group-metadata.ts'
import type { GroupDescription } from './group-requests.ts'

export function describeGroupMetadata(group: GroupMetadata): GroupDescription {
  const stable = group.state === 'Stable'
  const protocol = stable ? group.protocolName : undefined
  assert(!stable || protocol !== undefined, 'a Stable group has a protocol')
  const members = [...group.members.values()].map(member => ({
    memberId: member.memberId,
    ...(member.groupInstanceId === undefined ? {} : { groupInstanceId: member.groupInstanceId }),
    clientId: member.clientId,
    metadata: protocol === undefined ? Buffer.alloc(0) : member.metadataFor(protocol),
    assignment: protocol === undefined ? Buffer.alloc(0) : member.assignment,
  }))
  assert(members.length === group.size, 'every member is described')
  return {
    groupId: group.groupId, state: group.state, protocolType: group.protocolType ?? '',
    protocol: protocol ?? '', generationId: group.generationId, leader: group.leaderId ?? '',
    members,
  }
}
