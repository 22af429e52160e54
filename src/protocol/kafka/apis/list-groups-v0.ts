/** ListGroups v0 (key 16): every group the coordinator knows, with its protocol type. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const listedGroup = struct(field('groupId', 'string'), field('protocolType', 'string'))

export const listGroupsV0: ApiVersionSchema = {
  apiKey: 16, name: 'ListGroups', version: 0,
  request: message(false),
  response: message(false, field('errorCode', 'int16'), field('groups', arrayOf(listedGroup))),
}
