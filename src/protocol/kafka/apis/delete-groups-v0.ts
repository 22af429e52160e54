/**
 * DeleteGroups v0 (key 42, KIP-229): deletes empty consumer groups and their offsets, one
 * error per group (Kafka's DeleteGroupsRequest.json / DeleteGroupsResponse.json).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const deleteGroupsV0: ApiVersionSchema = {
  apiKey: 42, name: 'DeleteGroups', version: 0,
  request: message(false, field('groupsNames', arrayOf('string'))),
  response: message(false, field('throttleTimeMs', 'int32'),
    field('results', arrayOf(struct(field('groupId', 'string'), field('errorCode', 'int16'))))),
}
