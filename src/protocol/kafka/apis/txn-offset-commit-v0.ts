/**
 * TxnOffsetCommit v0 (key 28): stages a group's offsets in the producer's transaction; they
 * become the group's committed offsets when the transaction commits. Errors are per partition.
 *
 *   Request  => transactional_id:STRING group_id:STRING producer_id:INT64 producer_epoch:INT16
 *               topics:[name:STRING partitions:[partition_index:INT32 committed_offset:INT64
 *                 committed_metadata:NULLABLE_STRING]]
 *   Response => throttle_time_ms:INT32
 *               topics:[name:STRING partitions:[partition_index:INT32 error_code:INT16]]
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const txnOffsetCommitV0: ApiVersionSchema = {
  apiKey: 28, name: 'TxnOffsetCommit', version: 0,
  request: message(false, field('transactionalId', 'string'), field('groupId', 'string'),
    field('producerId', 'int64'), field('producerEpoch', 'int16'),
    field('topics', arrayOf(struct(field('name', 'string'),
      field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
        field('committedOffset', 'int64'), field('committedMetadata', 'nullableString')))))))),
  response: message(false, field('throttleTimeMs', 'int32'),
    field('topics', arrayOf(struct(field('name', 'string'),
      field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
        field('errorCode', 'int16')))))))),
}
