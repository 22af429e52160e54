/** Metadata v2: the response carries the cluster id. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { requestTopic } from './metadata-v0.ts'
import { brokerV1, topicV1 } from './metadata-v1.ts'

export const metadataV2: ApiVersionSchema = {
  apiKey: 3, name: 'Metadata', version: 2,
  request: message(false, field('topics', arrayOf(requestTopic, true))),
  response: message(false, field('brokers', arrayOf(brokerV1)),
    field('clusterId', 'nullableString'), field('controllerId', 'int32'),
    field('topics', arrayOf(topicV1))),
}
