/** Heartbeat v2: as v1 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { heartbeatV1 } from './heartbeat-v1.ts'

export const heartbeatV2: ApiVersionSchema = { ...heartbeatV1, version: 2 }
