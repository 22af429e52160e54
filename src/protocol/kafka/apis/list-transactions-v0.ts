/**
 * ListTransactions v0 (key 66, KIP-664; flexible only): the transactional ids a broker
 * coordinates, filtered by state names and producer ids (empty filters match all). State
 * names the broker does not know are listed back in unknown_state_filters.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const listTransactionsV0: ApiVersionSchema = {
  apiKey: 66, name: 'ListTransactions', version: 0,
  request: message(true, field('stateFilters', arrayOf('string')),
    field('producerIdFilters', arrayOf('int64'))),
  response: message(true, field('throttleTimeMs', 'int32'), field('errorCode', 'int16'),
    field('unknownStateFilters', arrayOf('string')),
    field('transactionStates', arrayOf(struct(field('transactionalId', 'string'),
      field('producerId', 'int64'), field('transactionState', 'string'))))),
}
