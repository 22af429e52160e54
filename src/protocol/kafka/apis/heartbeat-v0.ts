/** Heartbeat v0 (key 12): a member of a generation says it is alive. */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'

export const heartbeatV0: ApiVersionSchema = {
  apiKey: 12, name: 'Heartbeat', version: 0,
  request: message(false, field('groupId', 'string'), field('generationId', 'int32'),
    field('memberId', 'string')),
  response: message(false, field('errorCode', 'int16')),
}
