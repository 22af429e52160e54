/**
 * OffsetFetch v5: each answered partition carries committed_leader_epoch (int32, after the
 * offset; −1 when unknown — Weir keeps no leader epochs). The request is v4's.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { offsetFetchV4 } from './offset-fetch-v4.ts'

export const offsetFetchPartitionV5 = struct(field('partitionIndex', 'int32'),
  field('committedOffset', 'int64'), field('committedLeaderEpoch', 'int32'),
  field('metadata', 'nullableString'), field('errorCode', 'int16'))

export const offsetFetchV5: ApiVersionSchema = {
  apiKey: 9, name: 'OffsetFetch', version: 5,
  request: offsetFetchV4.request,
  response: message(false, field('throttleTimeMs', 'int32'),
    field('topics', arrayOf(struct(field('name', 'string'),
      field('partitions', arrayOf(offsetFetchPartitionV5))))),
    field('errorCode', 'int16')),
}
