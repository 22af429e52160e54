/** Metadata v6: as v5 (the bump marks quota-violation throttling, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { metadataV5 } from './metadata-v5.ts'

export const metadataV6: ApiVersionSchema = { ...metadataV5, version: 6 }
