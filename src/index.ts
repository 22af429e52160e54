/**
 * Weir's public entry: named exports grouped by layer. Internals not listed here are not part of
 * the API. The test kit (SimDisk) is published separately as `weir/testing` in a later issue;
 * the server as `weir/server` (src/server/weir-server.ts), so that clients do not load fastify.
 */

// Errors and limits
export { type ErrorCode, errorCodes, WeirError } from './errors.ts'
export {
  logLimitDefaults, type LogLimits, serverLimitDefaults, type ServerLimits,
} from './limits.ts'

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
export {
  Weir, type WeirConnectOptions, type WeirKafkaOptions, type WeirOpenOptions,
} from './client/weir.ts'
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

// State stores
export { KeyValueStore, type RangeQuery, type StoreEntry } from './state/key-value-store.ts'
export {
  restoreStore, type RestoreOptions, type RestoreProgress, type RestoreResult,
} from './state/restore.ts'

// Streams
export { topology, Topology, type StreamOptions, type TableOptions } from './streams/topology.ts'
export { KStream, KTable } from './streams/kstream.ts'
export { type StartOptions, StreamsApp } from './streams/streams-app.ts'
export type { KeyValue, StoreQuery } from './streams/store-query.ts'
export type { TopologyDescription, SubTopologyDescription } from
  './streams/topology-description.ts'
export type { ProcessingGuarantee, ProcessingStep } from './streams/runtime/stream-thread.ts'
export type {
  ErrorHandling, ErrorLogEntry, ErrorStage, FailedRecord,
} from './streams/runtime/error-handling.ts'
export type { PunctuationType, RecordContext } from './streams/processing-context.ts'
export { bytes, defaultKeySerde, json, protobuf, type Serde, string } from './streams/serdes.ts'
export { aggregate } from './streams/operators/aggregate.ts'
export { count } from './streams/operators/count.ts'
export { dedupe, type DedupeOptions } from './streams/operators/dedupe.ts'
export { groupBy, type GroupByOptions } from './streams/operators/group-by.ts'
export { mapAsync } from './streams/operators/map-async.ts'
export {
  process, type ProcessOptions, type Processor, type ProcessorContext, type ProcessStoreOptions,
  type StoreExpiryOptions,
} from './streams/operators/process.ts'
export { reduce } from './streams/operators/reduce.ts'
export { selectKey } from './streams/operators/select-key.ts'
export type { StateStore, StoreOptions } from './streams/operators/store-internals.ts'
export { to, type ToOptions } from './streams/operators/to.ts'
export { toTable, type ToTableOptions } from './streams/operators/to-table.ts'
export {
  windowedAggregate, windowedCount, windowedReduce, type WindowedStoreOptions, type WindowedValue,
} from './streams/operators/windowed-aggregate.ts'
export type { StreamsMetricsSnapshot } from './streams/runtime/streams-metrics.ts'
export {
  sessionAggregate, sessionCount, sessionReduce, type SessionValue, type StoredSession,
} from './streams/operators/session-aggregate.ts'
export {
  type ClosingWindows, suppress, untilWindowCloses, type UntilWindowCloses, type WindowResult,
} from './streams/operators/suppress.ts'
export type {
  StreamTableJoinKind, StreamTableJoinOptions, VersionedLookup,
} from './streams/joins/stream-table-join.ts'
export type { TableJoinKind, TableJoinOptions } from './streams/joins/table-table-join.ts'
export type {
  ForeignKeyJoinKind, ForeignKeyJoinOptions,
} from './streams/joins/foreign-key-join.ts'
export type { StreamJoinKind, StreamJoinOptions } from './streams/joins/stream-stream-join.ts'
export { JoinWindows } from './streams/joins/join-windows.ts'
export { TimeWindows, type TimeWindow } from './streams/windows/time-windows.ts'
export { SessionWindows, type SessionWindow } from './streams/windows/session-windows.ts'
export {
  slidingAggregate, slidingCount, slidingReduce, type StoredSlidingWindow,
  type StoredSlidingWindows,
} from './streams/operators/sliding-aggregate.ts'
export { SlidingWindows } from './streams/windows/sliding-windows.ts'

// Event sourcing (docs/event-sourcing.md)
export {
  type Aggregate, type AggregateDefinition, type Decision, defineAggregate, type ExpectedVersion,
  isRejection, reject, type Rejection,
} from './es/aggregate.ts'
export { AggregateClient, type AggregateClientOptions } from './es/aggregate-client.ts'
export {
  type AggregateEntry, aggregateStore, aggregateTopics, aggregateTopology,
} from './es/aggregate-topology.ts'
export {
  aggregateAppId, eventsTopic, type Outcome, type Reply, repliesTopic, type Request,
  requestsTopic, snapshotsTopic, type StoredEvent,
} from './es/envelopes.ts'
export { CommandRejectedError, WrongExpectedVersionError } from './es/es-errors.ts'
export {
  DEFAULT_SAGA_RETENTION_MS, type SagaEntry, sagaRetention,
} from './es/saga-retention.ts'
