/** Produce v6: as v5 (the bump marks quota-violation throttling, KIP-219). */
import type { ApiVersionSchema } from '../api.ts'
import { produceV5 } from './produce-v5.ts'

export const produceV6: ApiVersionSchema = { ...produceV5, version: 6 }
