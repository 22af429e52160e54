/**
 * The handlers of the transaction and topic-admin APIs, by API key (see kafka-context.ts for the
 * contract). FindCoordinator (key type 1, transactions) is served with the group APIs.
 */
import { handleCreateTopics } from './admin-create-topics-handler.ts'
import { handleDeleteGroups } from './admin-delete-groups-handler.ts'
import { handleDeleteTopics } from './admin-delete-topics-handler.ts'
import type { KafkaHandler } from './kafka-context.ts'
import { handleAddOffsetsToTxn } from './txn-add-offsets-handler.ts'
import { handleAddPartitionsToTxn } from './txn-add-partitions-handler.ts'
import { handleDescribeTransactions, handleListTransactions } from './txn-describe-handlers.ts'
import { handleEndTxn } from './txn-end-handler.ts'
import { handleInitProducerId } from './txn-init-producer-id-handler.ts'
import { handleTxnOffsetCommit } from './txn-offset-commit-handler.ts'

export const txnAdminHandlers: ReadonlyMap<number, KafkaHandler> = new Map([
  [19, handleCreateTopics],
  [20, handleDeleteTopics],
  [22, handleInitProducerId],
  [24, handleAddPartitionsToTxn],
  [25, handleAddOffsetsToTxn],
  [26, handleEndTxn],
  [28, handleTxnOffsetCommit],
  [42, handleDeleteGroups],
  [65, handleDescribeTransactions],
  [66, handleListTransactions],
])
