/** Metadata v1: null topics = all; brokers get a rack, topics is_internal; a controller id. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { partitionV0, requestTopic } from './metadata-v0.ts'

export const brokerV1 = struct(field('nodeId', 'int32'), field('host', 'string'),
  field('port', 'int32'), field('rack', 'nullableString'))
export const topicV1 = struct(field('errorCode', 'int16'), field('name', 'string'),
  field('isInternal', 'bool'), field('partitions', arrayOf(partitionV0)))

export const metadataV1: ApiVersionSchema = {
  apiKey: 3, name: 'Metadata', version: 1,
  request: message(false, field('topics', arrayOf(requestTopic, true))),
  response: message(false, field('brokers', arrayOf(brokerV1)),
    field('controllerId', 'int32'), field('topics', arrayOf(topicV1))),
}
