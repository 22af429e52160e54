/** ApiVersions v0 (key 18): the versions the broker serves; also the body of every refusal. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const apiVersionRange = struct(field('apiKey', 'int16'), field('minVersion', 'int16'),
  field('maxVersion', 'int16'))

export const apiVersionsV0: ApiVersionSchema = {
  apiKey: 18, name: 'ApiVersions', version: 0,
  request: message(false),
  response: message(false, field('errorCode', 'int16'),
    field('apiKeys', arrayOf(apiVersionRange))),
}
