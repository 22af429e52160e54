/**
 * DescribeTransactions v0 (key 65, KIP-664; flexible only): the state of each transactional id
 * at its coordinator — producer id and epoch, timeout, start time and the partitions of the
 * ongoing transaction. An unknown id is answered TRANSACTIONAL_ID_NOT_FOUND (105).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const describeTransactionsV0: ApiVersionSchema = {
  apiKey: 65, name: 'DescribeTransactions', version: 0,
  request: message(true, field('transactionalIds', arrayOf('string'))),
  response: message(true, field('throttleTimeMs', 'int32'),
    field('transactionStates', arrayOf(struct(field('errorCode', 'int16'),
      field('transactionalId', 'string'), field('transactionState', 'string'),
      field('transactionTimeoutMs', 'int32'), field('transactionStartTimeMs', 'int64'),
      field('producerId', 'int64'), field('producerEpoch', 'int16'),
      field('topics', arrayOf(struct(field('topic', 'string'),
        field('partitions', arrayOf('int32'))))))))),
}
