/** Fetch v6: as v5 (the bump lets the broker answer KafkaStorageException). */
import type { ApiVersionSchema } from '../api.ts'
import { fetchV5 } from './fetch-v5.ts'

export const fetchV6: ApiVersionSchema = { ...fetchV5, version: 6 }
