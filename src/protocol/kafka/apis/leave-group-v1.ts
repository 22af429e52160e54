/** LeaveGroup v1: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { leaveGroupV0 } from './leave-group-v0.ts'

export const leaveGroupV1: ApiVersionSchema = {
  apiKey: 13, name: 'LeaveGroup', version: 1,
  request: leaveGroupV0.request,
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16')),
}
