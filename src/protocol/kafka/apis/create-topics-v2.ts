/** CreateTopics v2: throttle_time_ms first in the response. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { createTopicsV1, creatableTopicResultV1 } from './create-topics-v1.ts'

export const createTopicsV2: ApiVersionSchema = {
  apiKey: 19, name: 'CreateTopics', version: 2,
  request: createTopicsV1.request,
  response: message(false, field('throttleTimeMs', 'int32'),
    field('topics', arrayOf(creatableTopicResultV1))),
}
