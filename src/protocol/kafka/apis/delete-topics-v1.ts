/** DeleteTopics v1: throttle_time_ms first in the response. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { deletableTopicResult, deleteTopicsV0 } from './delete-topics-v0.ts'

export const deleteTopicsV1: ApiVersionSchema = {
  apiKey: 20, name: 'DeleteTopics', version: 1,
  request: deleteTopicsV0.request,
  response: message(false, field('throttleTimeMs', 'int32'),
    field('responses', arrayOf(deletableTopicResult))),
}
