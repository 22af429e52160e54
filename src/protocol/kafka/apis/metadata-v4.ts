/** Metadata v4: the request says whether missing topics may be created (auto-creation). */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { requestTopic } from './metadata-v0.ts'
import { metadataV3 } from './metadata-v3.ts'

export const metadataV4: ApiVersionSchema = {
  apiKey: 3, name: 'Metadata', version: 4,
  request: message(false, field('topics', arrayOf(requestTopic, true)),
    field('allowAutoTopicCreation', 'bool')),
  response: metadataV3.response,
}
