/** Produce v5: each partition response carries the log start offset (KIP-107). */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { produceV4 } from './produce-v4.ts'

export const partitionResponseV5 = struct(field('index', 'int32'), field('errorCode', 'int16'),
  field('baseOffset', 'int64'), field('logAppendTimeMs', 'int64'),
  field('logStartOffset', 'int64'))

export const produceV5: ApiVersionSchema = {
  ...produceV4, version: 5,
  response: message(false, field('responses', arrayOf(struct(field('name', 'string'),
    field('partitionResponses', arrayOf(partitionResponseV5))))),
  field('throttleTimeMs', 'int32')),
}
