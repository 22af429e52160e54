/** ListOffsets v3: as v2 (the bump marks quota-violation throttling, KIP-219). */
import type { ApiVersionSchema } from '../api.ts'
import { listOffsetsV2 } from './list-offsets-v2.ts'

export const listOffsetsV3: ApiVersionSchema = { ...listOffsetsV2, version: 3 }
