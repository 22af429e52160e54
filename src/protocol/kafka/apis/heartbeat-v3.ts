/** Heartbeat v3: static membership (KIP-345): group_instance_id after the member id. */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { heartbeatV2 } from './heartbeat-v2.ts'

export const heartbeatV3: ApiVersionSchema = {
  apiKey: 12, name: 'Heartbeat', version: 3,
  request: message(false, field('groupId', 'string'), field('generationId', 'int32'),
    field('memberId', 'string'), field('groupInstanceId', 'nullableString')),
  response: heartbeatV2.response,
}
