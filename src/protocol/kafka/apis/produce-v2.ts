/** Produce v2: each partition response carries log_append_time_ms (−1: CreateTime topics). */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { produceV0 } from './produce-v0.ts'

export const partitionResponseV2 = struct(field('index', 'int32'), field('errorCode', 'int16'),
  field('baseOffset', 'int64'), field('logAppendTimeMs', 'int64'))

export const produceV2: ApiVersionSchema = {
  ...produceV0, version: 2,
  response: message(false, field('responses', arrayOf(struct(field('name', 'string'),
    field('partitionResponses', arrayOf(partitionResponseV2))))),
  field('throttleTimeMs', 'int32')),
}
