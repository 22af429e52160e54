/** Fetch v10: as v9 (the bump says the client can read zstd batches, KIP-110). */
import type { ApiVersionSchema } from '../api.ts'
import { fetchV9 } from './fetch-v9.ts'

export const fetchV10: ApiVersionSchema = { ...fetchV9, version: 10 }
