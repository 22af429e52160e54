/** SyncGroup v3: static membership (KIP-345): group_instance_id after the member id. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message } from '../schema.ts'
import { syncGroupAssignment } from './sync-group-v0.ts'
import { syncGroupV2 } from './sync-group-v2.ts'

export const syncGroupV3: ApiVersionSchema = {
  apiKey: 14, name: 'SyncGroup', version: 3,
  request: message(false, field('groupId', 'string'), field('generationId', 'int32'),
    field('memberId', 'string'), field('groupInstanceId', 'nullableString'),
    field('assignments', arrayOf(syncGroupAssignment))),
  response: syncGroupV2.response,
}
