/** CreateTopics v1: the request may ask only to validate; topic results carry a message. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { creatableTopic } from './create-topics-v0.ts'

export const creatableTopicResultV1 = struct(field('name', 'string'), field('errorCode', 'int16'),
  field('errorMessage', 'nullableString'))

export const createTopicsV1: ApiVersionSchema = {
  apiKey: 19, name: 'CreateTopics', version: 1,
  request: message(false, field('topics', arrayOf(creatableTopic)),
    field('timeoutMs', 'int32'), field('validateOnly', 'bool')),
  response: message(false, field('topics', arrayOf(creatableTopicResultV1))),
}
