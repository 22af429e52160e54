/** TxnOffsetCommit v2: each partition carries committed_leader_epoch (int32, after the offset). */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { txnOffsetCommitV1 } from './txn-offset-commit-v1.ts'

export const txnOffsetCommitTopicsV2 = field('topics', arrayOf(struct(field('name', 'string'),
  field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
    field('committedOffset', 'int64'), field('committedLeaderEpoch', 'int32'),
    field('committedMetadata', 'nullableString')))))))

export const txnOffsetCommitV2: ApiVersionSchema = {
  apiKey: 28, name: 'TxnOffsetCommit', version: 2,
  request: message(false, field('transactionalId', 'string'), field('groupId', 'string'),
    field('producerId', 'int64'), field('producerEpoch', 'int16'), txnOffsetCommitTopicsV2),
  response: txnOffsetCommitV1.response,
}
