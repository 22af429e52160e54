/** CreateTopics v3: as v2 (the bump marks throttling after the response, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { createTopicsV2 } from './create-topics-v2.ts'

export const createTopicsV3: ApiVersionSchema = { ...createTopicsV2, version: 3 }
