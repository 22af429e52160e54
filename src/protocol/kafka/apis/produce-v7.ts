/** Produce v7: as v6 (the bump says the client may send zstd batches, KIP-110). */
import type { ApiVersionSchema } from '../api.ts'
import { produceV6 } from './produce-v6.ts'

export const produceV7: ApiVersionSchema = { ...produceV6, version: 7 }
