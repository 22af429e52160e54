/**
 * InitProducerId v0 (key 22): a producer id and epoch, for a transactional id (bumping its epoch
 * fences older instances) or, with a null id, for an idempotent producer.
 *
 *   Request  => transactional_id:NULLABLE_STRING transaction_timeout_ms:INT32
 *   Response => throttle_time_ms:INT32 error_code:INT16 producer_id:INT64 producer_epoch:INT16
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'

export const initProducerIdV0: ApiVersionSchema = {
  apiKey: 22, name: 'InitProducerId', version: 0,
  request: message(false, field('transactionalId', 'nullableString'),
    field('transactionTimeoutMs', 'int32')),
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16'),
    field('producerId', 'int64'), field('producerEpoch', 'int16')),
}
