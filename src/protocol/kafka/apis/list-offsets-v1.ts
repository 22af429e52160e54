/**
 * ListOffsets v1 (key 2): per partition, the offset for a timestamp: −2 the log start
 * (earliest), −1 the log end (latest), else the first record at or after it (KIP-79).
 * ListOffsetsRequest.json; v0 (several offsets per partition) is not served.
 *
 * Request:  replica_id int32, topics [name string, partitions [partition_index int32,
 *           timestamp int64]]
 * Response: topics [name string, partitions [partition_index int32, error_code int16,
 *           timestamp int64, offset int64]]
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const listOffsetsRequestTopics = field('topics', arrayOf(struct(field('name', 'string'),
  field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
    field('timestamp', 'int64')))))))
export const listOffsetsResponseTopics = field('topics', arrayOf(struct(field('name', 'string'),
  field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
    field('errorCode', 'int16'), field('timestamp', 'int64'), field('offset', 'int64')))))))

export const listOffsetsV1: ApiVersionSchema = {
  apiKey: 2, name: 'ListOffsets', version: 1,
  request: message(false, field('replicaId', 'int32'), listOffsetsRequestTopics),
  response: message(false, listOffsetsResponseTopics),
}
