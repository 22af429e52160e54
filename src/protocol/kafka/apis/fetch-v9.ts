/**
 * Fetch v9: each requested partition carries current_leader_epoch (int32, before
 * fetch_offset; KIP-320). A single node has one leader epoch forever, so Weir ignores it.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { fetchRequestHeadV4, fetchResponses } from './fetch-v4.ts'
import { fetchPartitionV5 } from './fetch-v5.ts'
import { fetchResponseHeadV7, fetchSessionFields, forgottenTopicsData } from './fetch-v7.ts'

export const fetchRequestTopicsV9 = field('topics', arrayOf(struct(field('topic', 'string'),
  field('partitions', arrayOf(struct(field('partition', 'int32'),
    field('currentLeaderEpoch', 'int32'), field('fetchOffset', 'int64'),
    field('logStartOffset', 'int64'), field('partitionMaxBytes', 'int32')))))))

export const fetchV9: ApiVersionSchema = {
  apiKey: 1, name: 'Fetch', version: 9,
  request: message(false, ...fetchRequestHeadV4, ...fetchSessionFields, fetchRequestTopicsV9,
    forgottenTopicsData),
  response: message(false, ...fetchResponseHeadV7, fetchResponses(...fetchPartitionV5)),
}
