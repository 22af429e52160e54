/** ApiVersions v2: as v1 (the version bump marks throttling behaviour, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { apiVersionsV1 } from './api-versions-v1.ts'

export const apiVersionsV2: ApiVersionSchema = { ...apiVersionsV1, version: 2 }
