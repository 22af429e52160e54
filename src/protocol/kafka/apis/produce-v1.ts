/** Produce v1: the response ends with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { field, message } from '../schema.ts'
import { produceV0 } from './produce-v0.ts'

export const produceV1: ApiVersionSchema = {
  ...produceV0, version: 1,
  response: message(false, ...produceV0.response.fields, field('throttleTimeMs', 'int32')),
}
