/** SyncGroup v1: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { syncGroupV0 } from './sync-group-v0.ts'

export const syncGroupV1: ApiVersionSchema = {
  apiKey: 14, name: 'SyncGroup', version: 1,
  request: syncGroupV0.request,
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16'),
    field('assignment', 'bytes')),
}
