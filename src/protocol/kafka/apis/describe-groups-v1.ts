/** DescribeGroups v1: the response starts with throttle_time_ms. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { describedGroupV0, describeGroupsV0 } from './describe-groups-v0.ts'

export const describeGroupsV1: ApiVersionSchema = {
  apiKey: 15, name: 'DescribeGroups', version: 1,
  request: describeGroupsV0.request,
  response: message(false, field('throttleTimeMs', 'int32'),
    field('groups', arrayOf(describedGroupV0))),
}
