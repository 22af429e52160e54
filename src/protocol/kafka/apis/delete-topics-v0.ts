/**
 * DeleteTopics v0 (key 20): deletes topics by name, one error per topic.
 *
 *   Request  => topic_names:[STRING] timeout_ms:INT32
 *   Response => responses:[name:STRING error_code:INT16]
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const deletableTopicResult = struct(field('name', 'string'), field('errorCode', 'int16'))

export const deleteTopicsV0: ApiVersionSchema = {
  apiKey: 20, name: 'DeleteTopics', version: 0,
  request: message(false, field('topicNames', arrayOf('string')), field('timeoutMs', 'int32')),
  response: message(false, field('responses', arrayOf(deletableTopicResult))),
}
