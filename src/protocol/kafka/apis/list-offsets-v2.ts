/**
 * ListOffsets v2: the request carries isolation_level (int8, after replica_id; under
 * read_committed "latest" is the last stable offset, KIP-98); the response starts with
 * throttle_time_ms.
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { listOffsetsRequestTopics, listOffsetsResponseTopics } from './list-offsets-v1.ts'

export const listOffsetsV2: ApiVersionSchema = {
  apiKey: 2, name: 'ListOffsets', version: 2,
  request: message(false, field('replicaId', 'int32'), field('isolationLevel', 'int8'),
    listOffsetsRequestTopics),
  response: message(false, field('throttleTimeMs', 'int32'), listOffsetsResponseTopics),
}
