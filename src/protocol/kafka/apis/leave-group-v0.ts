/** LeaveGroup v0 (key 13): one member leaves its group, which rebalances without it. */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'

export const leaveGroupV0: ApiVersionSchema = {
  apiKey: 13, name: 'LeaveGroup', version: 0,
  request: message(false, field('groupId', 'string'), field('memberId', 'string')),
  response: message(false, field('errorCode', 'int16')),
}
