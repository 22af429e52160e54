/**
 * Produce v0 (key 0): per partition, the records to append (ProduceRequest.json).
 *
 * Request:  acks int16, timeout_ms int32, topic_data [name string, partition_data
 *           [index int32, records nullable bytes]]
 * Response: responses [name string, partition_responses [index int32, error_code int16,
 *           base_offset int64]]
 *
 * v0–v2 carry old message sets (magic 0/1), which Weir does not store: the handler answers
 * them UNSUPPORTED_VERSION per partition. They are here only so that Produce's advertised range
 * starts at 0, which librdkafka 2.0.2 requires before it compresses (reference §1.2).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const produceTopicData = struct(field('name', 'string'),
  field('partitionData', arrayOf(struct(field('index', 'int32'),
    field('records', 'nullableBytes')))))

export const produceV0: ApiVersionSchema = {
  apiKey: 0, name: 'Produce', version: 0,
  request: message(false, field('acks', 'int16'), field('timeoutMs', 'int32'),
    field('topicData', arrayOf(produceTopicData))),
  response: message(false, field('responses', arrayOf(struct(field('name', 'string'),
    field('partitionResponses', arrayOf(struct(field('index', 'int32'),
      field('errorCode', 'int16'), field('baseOffset', 'int64')))))))),
}
