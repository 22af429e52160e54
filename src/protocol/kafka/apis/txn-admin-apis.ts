/**
 * The transaction and topic-admin API versions the listener serves (one file per version next
 * to this one): Profile A of the reference, the classic versions KafkaJS 2.2.4, librdkafka 2.0.2
 * and @platformatic/kafka 2.x use, plus the flexible TxnOffsetCommit v3 (KIP-447 generation
 * fencing) and DescribeTransactions/ListTransactions v0 (flexible only). Other flexible versions
 * (InitProducerId v2+ etc.) are not served.
 */
import type { ApiVersionSchema } from '../api.ts'
import { addOffsetsToTxnV0 } from './add-offsets-to-txn-v0.ts'
import { addOffsetsToTxnV1 } from './add-offsets-to-txn-v1.ts'
import { addPartitionsToTxnV0 } from './add-partitions-to-txn-v0.ts'
import { addPartitionsToTxnV1 } from './add-partitions-to-txn-v1.ts'
import { createTopicsV0 } from './create-topics-v0.ts'
import { createTopicsV1 } from './create-topics-v1.ts'
import { createTopicsV2 } from './create-topics-v2.ts'
import { createTopicsV3 } from './create-topics-v3.ts'
import { describeTransactionsV0 } from './describe-transactions-v0.ts'
import { deleteGroupsV0 } from './delete-groups-v0.ts'
import { deleteGroupsV1 } from './delete-groups-v1.ts'
import { deleteTopicsV0 } from './delete-topics-v0.ts'
import { deleteTopicsV1 } from './delete-topics-v1.ts'
import { endTxnV0 } from './end-txn-v0.ts'
import { endTxnV1 } from './end-txn-v1.ts'
import { initProducerIdV0 } from './init-producer-id-v0.ts'
import { initProducerIdV1 } from './init-producer-id-v1.ts'
import { listTransactionsV0 } from './list-transactions-v0.ts'
import { txnOffsetCommitV0 } from './txn-offset-commit-v0.ts'
import { txnOffsetCommitV1 } from './txn-offset-commit-v1.ts'
import { txnOffsetCommitV2 } from './txn-offset-commit-v2.ts'
import { txnOffsetCommitV3 } from './txn-offset-commit-v3.ts'

export const txnAdminApis: readonly ApiVersionSchema[] = [
  createTopicsV0, createTopicsV1, createTopicsV2, createTopicsV3,
  deleteTopicsV0, deleteTopicsV1,
  deleteGroupsV0, deleteGroupsV1,
  initProducerIdV0, initProducerIdV1,
  addPartitionsToTxnV0, addPartitionsToTxnV1,
  addOffsetsToTxnV0, addOffsetsToTxnV1,
  endTxnV0, endTxnV1,
  txnOffsetCommitV0, txnOffsetCommitV1, txnOffsetCommitV2, txnOffsetCommitV3,
  describeTransactionsV0, listTransactionsV0,
]
