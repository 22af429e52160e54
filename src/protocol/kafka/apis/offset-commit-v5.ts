/** OffsetCommit v5: the request drops retention_time_ms (KIP-211: the broker decides). */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { offsetCommitRequestTopic } from './offset-commit-v2.ts'
import { offsetCommitV4 } from './offset-commit-v4.ts'

export const offsetCommitV5: ApiVersionSchema = {
  apiKey: 8, name: 'OffsetCommit', version: 5,
  request: message(false, field('groupId', 'string'), field('generationId', 'int32'),
    field('memberId', 'string'), field('topics', arrayOf(offsetCommitRequestTopic))),
  response: offsetCommitV4.response,
}
