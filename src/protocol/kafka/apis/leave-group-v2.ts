/** LeaveGroup v2: as v1 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { leaveGroupV1 } from './leave-group-v1.ts'

export const leaveGroupV2: ApiVersionSchema = { ...leaveGroupV1, version: 2 }
