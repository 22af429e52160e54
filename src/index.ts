/**
 * Weir's public entry: named exports grouped by layer. Internals not listed here are not part of
 * the API. The test kit (SimDisk) is published separately as `weir/testing` in a later issue.
 */

// Errors and limits
export { type ErrorCode, errorCodes, WeirError } from './errors.ts'
export { logLimitDefaults, type LogLimits } from './limits.ts'

// Util: the seams tests and embedders replace
export { type Clock, ManualClock, type Scheduler, systemClock } from './util/clock.ts'
export type { FileHandle, FileSystem, OpenMode } from './util/file-system.ts'
export { NodeFileSystem } from './util/node-file-system.ts'

// The partition log
export {
  type AppendResult, PartitionLog, type PartitionLogOptions, type ReadOptions, type ReadResult,
} from './log/partition-log.ts'
export {
  type CleanupPolicy, type FlushPolicy, type LogConfig, logConfigDefaults,
} from './log/log-config.ts'
export type { CompactionResult } from './log/log-cleaner.ts'
export {
  type BatchHeader, type Compression, decodeRecords, encodeBatch, type EncodeBatchOptions,
  forEachBatch, type LogRecord, readBatchHeader, type RecordHeader, type RecordInput,
} from './log/record-batch.ts'
export { type ControlMarker, type ControlType, decodeControlRecord, encodeControlBatch } from
  './log/control-record.ts'

// The broker (embedded by Weir.open; exposed for tools that drive it directly)
export {
  Broker, type BrokerOptions, type CreateTopicRequest, type OffsetSpec, type TopicDescription,
} from './broker/broker.ts'
export type {
  AbortedTransaction, FetchPartitionRequest, FetchRequest, FetchResult, IsolationLevel,
} from './broker/fetch.ts'
export type { Acks, ProduceResult } from './broker/partition.ts'
export type { TopicConfig, TopicMetadata } from './broker/topic-registry.ts'
export {
  defaultPartitioner, type Partitioner, type PartitionerInput, partitionForKey,
} from './broker/partitioner.ts'
export { brokerLimitDefaults, type BrokerLimits } from './limits.ts'

// Groups
export type { Assignor, AssignorMember, RebalanceProtocol, TopicPartition } from
  './group/assignor.ts'
export { assignorByName, assignors } from './group/assignors/index.ts'
export type {
  CommittedOffset, GroupDescription, GroupListing, OffsetCommitEntry, TxnOffsetCommitRequest,
} from './group/group-requests.ts'
export type { GroupCoordinatorConfig } from './group/group-coordinator.ts'

// Transactions
export type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch, TransactionDescription, TransactionState,
} from './txn/txn-requests.ts'
export {
  type TransactionCoordinatorConfig, transactionCoordinatorDefaults,
} from './txn/transaction-coordinator-config.ts'

// Clients
export { Weir, type WeirOpenOptions } from './client/weir.ts'
export {
  type Bytes, type Message, Producer, type ProducerRecord, type RecordMetadata, type Transaction,
} from './client/producer.ts'
export type {
  TransactionClientState, TransactionGroupMetadata,
} from './client/transaction-manager.ts'
export { filterAbortedTransactions } from './client/aborted-transaction-filter.ts'
export { type ProducerConfig, producerConfigDefaults } from './client/producer-config.ts'
export {
  Consumer, type ConsumerGroupMetadata, type RebalanceListener, type SubscribeOptions,
} from './client/consumer.ts'
export {
  type AssignorName, type ConsumerConfig, consumerConfigDefaults,
} from './client/consumer-config.ts'
export type { ConsumedRecord, ConsumerBatch } from './client/fetcher.ts'
export {
  Admin, type LagOptions, type PartitionLag, type ResetOffsetsOptions,
} from './client/admin.ts'
export type {
  ListOffsetsRequest, PartitionOffset, ProduceRequest, Transport,
} from './client/transport/transport.ts'
export { EmbeddedTransport, type EmbeddedOptions } from './client/transport/embedded.ts'
