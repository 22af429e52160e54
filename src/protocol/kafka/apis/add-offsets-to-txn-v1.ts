/** AddOffsetsToTxn v1: as v0 (the bump marks throttling after the response, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { addOffsetsToTxnV0 } from './add-offsets-to-txn-v0.ts'

export const addOffsetsToTxnV1: ApiVersionSchema = { ...addOffsetsToTxnV0, version: 1 }
