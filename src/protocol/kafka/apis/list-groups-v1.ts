/** ListGroups v1: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { listedGroup } from './list-groups-v0.ts'

export const listGroupsV1: ApiVersionSchema = {
  apiKey: 16, name: 'ListGroups', version: 1,
  request: message(false),
  response: message(false, field('throttleTimeMs', 'int32'), field('errorCode', 'int16'),
    field('groups', arrayOf(listedGroup))),
}
