/**
 * ApiVersions v3, the first flexible version: the request names the client software, the
 * response's arrays are compact and carry tagged fields (Weir writes none: no supported or
 * finalized features). Its response still has header v0 (header.ts).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { apiVersionRange } from './api-versions-v0.ts'

export const apiVersionsV3: ApiVersionSchema = {
  apiKey: 18, name: 'ApiVersions', version: 3,
  request: message(true, field('clientSoftwareName', 'string'),
    field('clientSoftwareVersion', 'string')),
  response: message(true, field('errorCode', 'int16'),
    field('apiKeys', arrayOf(apiVersionRange)), field('throttleTimeMs', 'int32')),
}
