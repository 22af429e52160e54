/**
 * AddPartitionsToTxn v0 (key 24): enrolls partitions in the producer's transaction before its
 * first Produce to them; errors are per partition.
 *
 *   Request  => transactional_id:STRING producer_id:INT64 producer_epoch:INT16
 *               topics:[name:STRING partitions:[INT32]]
 *   Response => throttle_time_ms:INT32
 *               results:[name:STRING results:[partition_index:INT32 error_code:INT16]]
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const addPartitionsToTxnV0: ApiVersionSchema = {
  apiKey: 24, name: 'AddPartitionsToTxn', version: 0,
  request: message(false, field('transactionalId', 'string'), field('producerId', 'int64'),
    field('producerEpoch', 'int16'),
    field('topics', arrayOf(struct(field('name', 'string'),
      field('partitions', arrayOf('int32')))))),
  response: message(false, field('throttleTimeMs', 'int32'),
    field('results', arrayOf(struct(field('name', 'string'),
      field('results', arrayOf(struct(field('partitionIndex', 'int32'),
        field('errorCode', 'int16')))))))),
}
