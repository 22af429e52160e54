/**
 * FindCoordinator v1: the request says what the key is (0 group, 1 transactional id); the
 * response adds throttle_time_ms and an error message.
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'

export const findCoordinatorV1: ApiVersionSchema = {
  apiKey: 10, name: 'FindCoordinator', version: 1,
  request: message(false, field('key', 'string'), field('keyType', 'int8')),
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16'),
    field('errorMessage', 'nullableString'), field('nodeId', 'int32'), field('host', 'string'),
    field('port', 'int32')),
}
