/**
 * CreateTopics v0 (key 19): creates topics, one error per topic. A topic gives either a
 * partition count and replication factor (−1 = the broker's default) or explicit assignments.
 *
 *   Request  => topics:[name:STRING num_partitions:INT32 replication_factor:INT16
 *                 assignments:[partition_index:INT32 broker_ids:[INT32]]
 *                 configs:[name:STRING value:NULLABLE_STRING]] timeout_ms:INT32
 *   Response => topics:[name:STRING error_code:INT16]
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const creatableTopic = struct(field('name', 'string'), field('numPartitions', 'int32'),
  field('replicationFactor', 'int16'),
  field('assignments', arrayOf(struct(field('partitionIndex', 'int32'),
    field('brokerIds', arrayOf('int32'))))),
  field('configs', arrayOf(struct(field('name', 'string'), field('value', 'nullableString')))))

export const createTopicsV0: ApiVersionSchema = {
  apiKey: 19, name: 'CreateTopics', version: 0,
  request: message(false, field('topics', arrayOf(creatableTopic)),
    field('timeoutMs', 'int32')),
  response: message(false, field('topics', arrayOf(struct(field('name', 'string'),
    field('errorCode', 'int16'))))),
}
