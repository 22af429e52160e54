/** AddPartitionsToTxn v1: as v0 (the bump marks throttling after the response, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { addPartitionsToTxnV0 } from './add-partitions-to-txn-v0.ts'

export const addPartitionsToTxnV1: ApiVersionSchema = { ...addPartitionsToTxnV0, version: 1 }
