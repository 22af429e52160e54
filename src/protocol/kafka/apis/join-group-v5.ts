/**
 * JoinGroup v5: static membership (KIP-345): the request carries group_instance_id after the
 * member id, and the leader's member list carries each member's.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { joinGroupProtocol, joinGroupResponseFieldsV0 } from './join-group-v0.ts'

export const joinGroupMemberV5 = struct(field('memberId', 'string'),
  field('groupInstanceId', 'nullableString'), field('metadata', 'bytes'))

export const joinGroupV5: ApiVersionSchema = {
  apiKey: 11, name: 'JoinGroup', version: 5,
  request: message(false, field('groupId', 'string'), field('sessionTimeoutMs', 'int32'),
    field('rebalanceTimeoutMs', 'int32'), field('memberId', 'string'),
    field('groupInstanceId', 'nullableString'), field('protocolType', 'string'),
    field('protocols', arrayOf(joinGroupProtocol))),
  response: message(false, field('throttleTimeMs', 'int32'), ...joinGroupResponseFieldsV0,
    field('members', arrayOf(joinGroupMemberV5))),
}
