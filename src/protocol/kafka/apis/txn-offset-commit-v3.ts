/**
 * TxnOffsetCommit v3 (KIP-447), flexible: after the producer epoch come generation_id (int32),
 * member_id (string) and group_instance_id (nullable string), so the group coordinator refuses
 * offsets from a member of an older generation (ILLEGAL_GENERATION) — a zombie that lost its
 * partitions in a rebalance cannot commit for them.
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { txnOffsetCommitTopicsV2, txnOffsetCommitV2 } from './txn-offset-commit-v2.ts'

export const txnOffsetCommitV3: ApiVersionSchema = {
  apiKey: 28, name: 'TxnOffsetCommit', version: 3,
  request: message(true, field('transactionalId', 'string'), field('groupId', 'string'),
    field('producerId', 'int64'), field('producerEpoch', 'int16'),
    field('generationId', 'int32'), field('memberId', 'string'),
    field('groupInstanceId', 'nullableString'), txnOffsetCommitTopicsV2),
  response: message(true, ...txnOffsetCommitV2.response.fields),
}
