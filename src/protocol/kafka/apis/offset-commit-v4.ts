/** OffsetCommit v4: as v3 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { offsetCommitV3 } from './offset-commit-v3.ts'

export const offsetCommitV4: ApiVersionSchema = { ...offsetCommitV3, version: 4 }
