/** DeleteGroups v1: as v0 (the bump marks throttling after the response, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { deleteGroupsV0 } from './delete-groups-v0.ts'

export const deleteGroupsV1: ApiVersionSchema = { ...deleteGroupsV0, version: 1 }
