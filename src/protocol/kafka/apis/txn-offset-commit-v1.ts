/** TxnOffsetCommit v1: as v0 (the bump marks throttling after the response, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { txnOffsetCommitV0 } from './txn-offset-commit-v0.ts'

export const txnOffsetCommitV1: ApiVersionSchema = { ...txnOffsetCommitV0, version: 1 }
