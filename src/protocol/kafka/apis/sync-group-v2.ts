/** SyncGroup v2: as v1 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { syncGroupV1 } from './sync-group-v1.ts'

export const syncGroupV2: ApiVersionSchema = { ...syncGroupV1, version: 2 }
