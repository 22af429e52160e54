/** EndTxn v1: as v0 (the bump marks throttling after the response, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { endTxnV0 } from './end-txn-v0.ts'

export const endTxnV1: ApiVersionSchema = { ...endTxnV0, version: 1 }
