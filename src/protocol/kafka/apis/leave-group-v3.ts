/**
 * LeaveGroup v3 (KIP-345): a batch of members leaves, named by member id and/or static
 * instance id, and the response has an error code per member besides the group's.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const leaveGroupV3: ApiVersionSchema = {
  apiKey: 13, name: 'LeaveGroup', version: 3,
  request: message(false, field('groupId', 'string'),
    field('members', arrayOf(struct(field('memberId', 'string'),
      field('groupInstanceId', 'nullableString'))))),
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16'),
    field('members', arrayOf(struct(field('memberId', 'string'),
      field('groupInstanceId', 'nullableString'), field('errorCode', 'int16'))))),
}
