/** ListGroups v2: as v1 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { listGroupsV1 } from './list-groups-v1.ts'

export const listGroupsV2: ApiVersionSchema = { ...listGroupsV1, version: 2 }
