/** Heartbeat v1: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { heartbeatV0 } from './heartbeat-v0.ts'

export const heartbeatV1: ApiVersionSchema = {
  apiKey: 12, name: 'Heartbeat', version: 1,
  request: heartbeatV0.request,
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16')),
}
