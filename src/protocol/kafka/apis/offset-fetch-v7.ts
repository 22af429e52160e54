/**
 * OffsetFetch v7 (KIP-447): the request ends with require_stable (bool). When set, a partition
 * with transactional offsets not yet decided is answered UNSTABLE_OFFSET_COMMIT (88), so a
 * member taking it over waits for the previous owner's transaction instead of reading the
 * offsets from before it.
 */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { offsetFetchV6 } from './offset-fetch-v6.ts'

export const offsetFetchV7: ApiVersionSchema = {
  apiKey: 9, name: 'OffsetFetch', version: 7,
  request: message(true, ...offsetFetchV6.request.fields, field('requireStable', 'bool')),
  response: offsetFetchV6.response,
}
