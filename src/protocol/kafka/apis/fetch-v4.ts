/**
 * Fetch v4 (key 1), the first version with record batch v2, isolation levels and the last stable
 * offset (KIP-98); librdkafka 2.0.2 needs it advertised (reference §1.2). FetchRequest.json.
 *
 * Request:  replica_id int32, max_wait_ms int32, min_bytes int32, max_bytes int32,
 *           isolation_level int8, topics [topic string, partitions [partition int32,
 *           fetch_offset int64, partition_max_bytes int32]]
 * Response: throttle_time_ms int32, responses [topic string, partitions [partition_index int32,
 *           error_code int16, high_watermark int64, last_stable_offset int64,
 *           aborted_transactions nullable [producer_id int64, first_offset int64],
 *           records nullable bytes]]
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, type Field, field, message, struct } from '../schema.ts'

export const abortedTransaction = struct(field('producerId', 'int64'),
  field('firstOffset', 'int64'))

/** The request fields before `topics` from v4 to v6. */
export const fetchRequestHeadV4: readonly Field[] = [field('replicaId', 'int32'),
  field('maxWaitMs', 'int32'), field('minBytes', 'int32'), field('maxBytes', 'int32'),
  field('isolationLevel', 'int8')]

/** A response's topics, given the layout of one partition. */
export const fetchResponses = (...partition: Field[]): Field =>
  field('responses', arrayOf(struct(field('topic', 'string'),
    field('partitions', arrayOf(struct(...partition))))))

export const fetchV4: ApiVersionSchema = {
  apiKey: 1, name: 'Fetch', version: 4,
  request: message(false, ...fetchRequestHeadV4,
    field('topics', arrayOf(struct(field('topic', 'string'),
      field('partitions', arrayOf(struct(field('partition', 'int32'),
        field('fetchOffset', 'int64'), field('partitionMaxBytes', 'int32')))))))),
  response: message(false, field('throttleTimeMs', 'int32'), fetchResponses(
    field('partitionIndex', 'int32'), field('errorCode', 'int16'),
    field('highWatermark', 'int64'), field('lastStableOffset', 'int64'),
    field('abortedTransactions', arrayOf(abortedTransaction, true)),
    field('records', 'nullableBytes'))),
}
