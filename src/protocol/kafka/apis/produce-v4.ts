/** Produce v4: as v3 (the bump lets the broker answer KafkaStorageException). */
import type { ApiVersionSchema } from '../api.ts'
import { produceV3 } from './produce-v3.ts'

export const produceV4: ApiVersionSchema = { ...produceV3, version: 4 }
