/** ApiVersions v1: adds throttle_time_ms to the response. v2 has the same layout. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { apiVersionRange } from './api-versions-v0.ts'

export const apiVersionsV1: ApiVersionSchema = {
  apiKey: 18, name: 'ApiVersions', version: 1,
  request: message(false),
  response: message(false, field('errorCode', 'int16'),
    field('apiKeys', arrayOf(apiVersionRange)), field('throttleTimeMs', 'int32')),
}
