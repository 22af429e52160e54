/** OffsetCommit v3: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { offsetCommitResponseTopic, offsetCommitV2 } from './offset-commit-v2.ts'

export const offsetCommitV3: ApiVersionSchema = {
  apiKey: 8, name: 'OffsetCommit', version: 3,
  request: offsetCommitV2.request,
  response: message(false, field('throttleTimeMs', 'int32'),
    field('topics', arrayOf(offsetCommitResponseTopic))),
}
