/** JoinGroup v1: the request adds rebalance_timeout_ms (KIP-62) after the session timeout. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { joinGroupProtocol, joinGroupV0 } from './join-group-v0.ts'

export const joinGroupV1: ApiVersionSchema = {
  apiKey: 11, name: 'JoinGroup', version: 1,
  request: message(false, field('groupId', 'string'), field('sessionTimeoutMs', 'int32'),
    field('rebalanceTimeoutMs', 'int32'), field('memberId', 'string'),
    field('protocolType', 'string'), field('protocols', arrayOf(joinGroupProtocol))),
  response: joinGroupV0.response,
}
