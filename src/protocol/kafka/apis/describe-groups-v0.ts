/**
 * DescribeGroups v0 (key 15): each group's state (Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead), protocol type, protocol (protocol_data: the assignor
 * name) and members with their metadata and assignment bytes.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const describedGroupV0 = struct(field('errorCode', 'int16'), field('groupId', 'string'),
  field('groupState', 'string'), field('protocolType', 'string'),
  field('protocolData', 'string'),
  field('members', arrayOf(struct(field('memberId', 'string'), field('clientId', 'string'),
    field('clientHost', 'string'), field('memberMetadata', 'bytes'),
    field('memberAssignment', 'bytes')))))

export const describeGroupsV0: ApiVersionSchema = {
  apiKey: 15, name: 'DescribeGroups', version: 0,
  request: message(false, field('groups', arrayOf('string'))),
  response: message(false, field('groups', arrayOf(describedGroupV0))),
}
