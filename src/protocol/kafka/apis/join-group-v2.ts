/** JoinGroup v2: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { joinGroupMemberV0, joinGroupResponseFieldsV0 } from './join-group-v0.ts'
import { joinGroupV1 } from './join-group-v1.ts'

export const joinGroupV2: ApiVersionSchema = {
  apiKey: 11, name: 'JoinGroup', version: 2,
  request: joinGroupV1.request,
  response: message(false, field('throttleTimeMs', 'int32'), ...joinGroupResponseFieldsV0,
    field('members', arrayOf(joinGroupMemberV0))),
}
