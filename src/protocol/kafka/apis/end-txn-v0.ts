/**
 * EndTxn v0 (key 26): commits or aborts the producer's transaction.
 *
 *   Request  => transactional_id:STRING producer_id:INT64 producer_epoch:INT16 committed:BOOL
 *   Response => throttle_time_ms:INT32 error_code:INT16
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'

export const endTxnV0: ApiVersionSchema = {
  apiKey: 26, name: 'EndTxn', version: 0,
  request: message(false, field('transactionalId', 'string'), field('producerId', 'int64'),
    field('producerEpoch', 'int16'), field('committed', 'bool')),
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16')),
}
