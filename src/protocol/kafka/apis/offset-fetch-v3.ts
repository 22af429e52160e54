/** OffsetFetch v3: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { offsetFetchResponseTopic } from './offset-fetch-v1.ts'
import { offsetFetchV2 } from './offset-fetch-v2.ts'

export const offsetFetchV3: ApiVersionSchema = {
  apiKey: 9, name: 'OffsetFetch', version: 3,
  request: offsetFetchV2.request,
  response: message(false, field('throttleTimeMs', 'int32'),
    field('topics', arrayOf(offsetFetchResponseTopic)), field('errorCode', 'int16')),
}
