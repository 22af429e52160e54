/**
 * Fetch v7: incremental fetch sessions (KIP-227). The request carries session_id and
 * session_epoch after isolation_level and ends with forgotten_topics_data [topic string,
 * partitions [int32]]; the response starts throttle_time_ms, error_code int16, session_id int32.
 * Weir keeps no sessions: it always answers session_id 0, so clients send full fetches.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, type Field, field, message, struct } from '../schema.ts'
import { fetchRequestHeadV4, fetchResponses } from './fetch-v4.ts'
import { fetchPartitionV5, fetchRequestTopicsV5 } from './fetch-v5.ts'

export const fetchSessionFields: readonly Field[] = [field('sessionId', 'int32'),
  field('sessionEpoch', 'int32')]
export const forgottenTopicsData = field('forgottenTopicsData', arrayOf(struct(
  field('topic', 'string'), field('partitions', arrayOf('int32')))))
export const fetchResponseHeadV7: readonly Field[] = [field('throttleTimeMs', 'int32'),
  field('errorCode', 'int16'), field('sessionId', 'int32')]

export const fetchV7: ApiVersionSchema = {
  apiKey: 1, name: 'Fetch', version: 7,
  request: message(false, ...fetchRequestHeadV4, ...fetchSessionFields, fetchRequestTopicsV5,
    forgottenTopicsData),
  response: message(false, ...fetchResponseHeadV7, fetchResponses(...fetchPartitionV5)),
}
