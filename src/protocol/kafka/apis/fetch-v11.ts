/**
 * Fetch v11 (KIP-392, fetch from the closest replica): the request ends with rack_id (string),
 * each response partition carries preferred_read_replica (int32, after aborted_transactions;
 * −1: read from the leader, always so on a single node).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { abortedTransaction, fetchRequestHeadV4, fetchResponses } from './fetch-v4.ts'
import { fetchResponseHeadV7, fetchSessionFields, forgottenTopicsData } from './fetch-v7.ts'
import { fetchRequestTopicsV9 } from './fetch-v9.ts'

export const fetchV11: ApiVersionSchema = {
  apiKey: 1, name: 'Fetch', version: 11,
  request: message(false, ...fetchRequestHeadV4, ...fetchSessionFields, fetchRequestTopicsV9,
    forgottenTopicsData, field('rackId', 'string')),
  response: message(false, ...fetchResponseHeadV7, fetchResponses(
    field('partitionIndex', 'int32'), field('errorCode', 'int16'),
    field('highWatermark', 'int64'), field('lastStableOffset', 'int64'),
    field('logStartOffset', 'int64'),
    field('abortedTransactions', arrayOf(abortedTransaction, true)),
    field('preferredReadReplica', 'int32'), field('records', 'nullableBytes'))),
}
