/** InitProducerId v1: as v0 (the bump marks throttling after the response, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { initProducerIdV0 } from './init-producer-id-v0.ts'

export const initProducerIdV1: ApiVersionSchema = { ...initProducerIdV0, version: 1 }
