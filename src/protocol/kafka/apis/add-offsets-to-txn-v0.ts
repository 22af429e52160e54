/**
 * AddOffsetsToTxn v0 (key 25): enrolls a group's offsets (its `__consumer_offsets` partition)
 * in the producer's transaction, before TxnOffsetCommit.
 *
 *   Request  => transactional_id:STRING producer_id:INT64 producer_epoch:INT16 group_id:STRING
 *   Response => throttle_time_ms:INT32 error_code:INT16
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'

export const addOffsetsToTxnV0: ApiVersionSchema = {
  apiKey: 25, name: 'AddOffsetsToTxn', version: 0,
  request: message(false, field('transactionalId', 'string'), field('producerId', 'int64'),
    field('producerEpoch', 'int16'), field('groupId', 'string')),
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16')),
}
