/** OffsetFetch v6: v5 in the flexible encoding (KIP-482: compact lengths, tagged fields). */
import type { ApiVersionSchema } from '../api.ts'
import { message } from '../schema.ts'
import { offsetFetchV5 } from './offset-fetch-v5.ts'

export const offsetFetchV6: ApiVersionSchema = {
  apiKey: 9, name: 'OffsetFetch', version: 6,
  request: message(true, ...offsetFetchV5.request.fields),
  response: message(true, ...offsetFetchV5.response.fields),
}
