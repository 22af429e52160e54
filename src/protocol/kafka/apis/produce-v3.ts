/**
 * Produce v3: records are one RecordBatch v2 per partition (KIP-98), and the request names its
 * transactional_id first (null outside a transaction). Response as v2.
 *
 * Request: transactional_id nullable string, acks int16, timeout_ms int32, topic_data [...]
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { produceTopicData } from './produce-v0.ts'
import { produceV2 } from './produce-v2.ts'

export const produceV3: ApiVersionSchema = {
  apiKey: 0, name: 'Produce', version: 3,
  request: message(false, field('transactionalId', 'nullableString'), field('acks', 'int16'),
    field('timeoutMs', 'int32'), field('topicData', arrayOf(produceTopicData))),
  response: produceV2.response,
}
