/** Fetch v8: as v7 (the bump marks quota-violation throttling, KIP-219). */
import type { ApiVersionSchema } from '../api.ts'
import { fetchV7 } from './fetch-v7.ts'

export const fetchV8: ApiVersionSchema = { ...fetchV7, version: 8 }
