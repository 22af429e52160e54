/** JoinGroup v3: as v2 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { joinGroupV2 } from './join-group-v2.ts'

export const joinGroupV3: ApiVersionSchema = { ...joinGroupV2, version: 3 }
