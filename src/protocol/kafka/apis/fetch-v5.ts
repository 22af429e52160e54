/**
 * Fetch v5: the request's partitions carry the follower's log_start_offset (−1 from
 * consumers), and the response's partitions the log start offset (KIP-107).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, type Field, field, message, struct } from '../schema.ts'
import { abortedTransaction, fetchRequestHeadV4, fetchResponses } from './fetch-v4.ts'

export const fetchRequestTopicsV5 = field('topics', arrayOf(struct(field('topic', 'string'),
  field('partitions', arrayOf(struct(field('partition', 'int32'),
    field('fetchOffset', 'int64'), field('logStartOffset', 'int64'),
    field('partitionMaxBytes', 'int32')))))))

/** One partition of the response from v5 to v10. */
export const fetchPartitionV5: readonly Field[] = [field('partitionIndex', 'int32'),
  field('errorCode', 'int16'), field('highWatermark', 'int64'),
  field('lastStableOffset', 'int64'), field('logStartOffset', 'int64'),
  field('abortedTransactions', arrayOf(abortedTransaction, true)),
  field('records', 'nullableBytes')]

export const fetchV5: ApiVersionSchema = {
  apiKey: 1, name: 'Fetch', version: 5,
  request: message(false, ...fetchRequestHeadV4, fetchRequestTopicsV5),
  response: message(false, field('throttleTimeMs', 'int32'),
    fetchResponses(...fetchPartitionV5)),
}
