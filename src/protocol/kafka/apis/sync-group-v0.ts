/**
 * SyncGroup v0 (key 14): every member asks for its assignment; the leader's request carries
 * all of them. Assignment bytes are opaque here (the consumer protocol's Assignment).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const syncGroupAssignment = struct(field('memberId', 'string'),
  field('assignment', 'bytes'))

export const syncGroupV0: ApiVersionSchema = {
  apiKey: 14, name: 'SyncGroup', version: 0,
  request: message(false, field('groupId', 'string'), field('generationId', 'int32'),
    field('memberId', 'string'), field('assignments', arrayOf(syncGroupAssignment))),
  response: message(false, field('errorCode', 'int16'), field('assignment', 'bytes')),
}
