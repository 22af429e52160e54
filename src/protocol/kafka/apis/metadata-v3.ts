/** Metadata v3: throttle_time_ms first in the response. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { requestTopic } from './metadata-v0.ts'
import { brokerV1, topicV1 } from './metadata-v1.ts'

export const metadataV3: ApiVersionSchema = {
  apiKey: 3, name: 'Metadata', version: 3,
  request: message(false, field('topics', arrayOf(requestTopic, true))),
  response: message(false, field('throttleTimeMs', 'int32'), field('brokers', arrayOf(brokerV1)),
    field('clusterId', 'nullableString'), field('controllerId', 'int32'),
    field('topics', arrayOf(topicV1))),
}
