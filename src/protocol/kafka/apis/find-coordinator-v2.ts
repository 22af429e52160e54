/** FindCoordinator v2: as v1 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { findCoordinatorV1 } from './find-coordinator-v1.ts'

export const findCoordinatorV2: ApiVersionSchema = { ...findCoordinatorV1, version: 2 }
