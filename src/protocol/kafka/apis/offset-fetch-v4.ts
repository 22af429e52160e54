/** OffsetFetch v4: as v3 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { offsetFetchV3 } from './offset-fetch-v3.ts'

export const offsetFetchV4: ApiVersionSchema = { ...offsetFetchV3, version: 4 }
