/**
 * OffsetFetch v2: null topics asks for every committed offset of the group (KIP-88), and the
 * response ends with a group-level error code.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { offsetFetchRequestTopic, offsetFetchResponseTopic } from './offset-fetch-v1.ts'

export const offsetFetchV2: ApiVersionSchema = {
  apiKey: 9, name: 'OffsetFetch', version: 2,
  request: message(false, field('groupId', 'string'),
    field('topics', arrayOf(offsetFetchRequestTopic, true))),
  response: message(false, field('topics', arrayOf(offsetFetchResponseTopic)),
    field('errorCode', 'int16')),
}
