/**
 * JoinGroup v0 (key 11): a member joins (or rejoins) a group with the protocols (assignors) it
 * supports and their metadata; the response brings the generation, the chosen protocol, the
 * leader and, for the leader only, every member's metadata. Metadata bytes are opaque here.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const joinGroupProtocol = struct(field('name', 'string'), field('metadata', 'bytes'))
export const joinGroupMemberV0 = struct(field('memberId', 'string'), field('metadata', 'bytes'))
export const joinGroupResponseFieldsV0 = [field('errorCode', 'int16'),
  field('generationId', 'int32'), field('protocolName', 'string'), field('leader', 'string'),
  field('memberId', 'string')]

export const joinGroupV0: ApiVersionSchema = {
  apiKey: 11, name: 'JoinGroup', version: 0,
  request: message(false, field('groupId', 'string'), field('sessionTimeoutMs', 'int32'),
    field('memberId', 'string'), field('protocolType', 'string'),
    field('protocols', arrayOf(joinGroupProtocol))),
  response: message(false, ...joinGroupResponseFieldsV0,
    field('members', arrayOf(joinGroupMemberV0))),
}
