/**
 * The seam between Weir's clients and a broker. Producer, Consumer and Admin speak only this
 * interface; `EmbeddedTransport` (in-process) implements it now, an HTTP transport and a Kafka
 * transport will implement it later. Requests are Kafka's, one method per API, so that every
 * transport maps them one to one and tests can wrap a transport to duplicate, reorder, delay or
 * drop requests and responses.
 *
 * Errors are `WeirError`s with the broker's code; a transport that loses a response rejects with
 * a retriable error (REQUEST_TIMED_OUT), leaving the request possibly applied.
 */
import type { Acks, ProduceResult } from '../../broker/partition.ts'
import type { CreateTopicRequest, OffsetSpec, TopicDescription } from '../../broker/broker.ts'
import type { FetchRequest, FetchResult, IsolationLevel } from '../../broker/fetch.ts'
import type { TopicMetadata } from '../../broker/topic-registry.ts'
import type { TopicPartition } from '../../group/assignor.ts'
import type {
  CommittedOffset, GroupDescription, GroupListing, HeartbeatRequest, JoinGroupRequest,
  JoinGroupResponse, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest, SyncGroupRequest,
  SyncGroupResponse, TxnOffsetCommitRequest,
} from '../../group/group-requests.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch, TransactionDescription,
} from '../../txn/txn-requests.ts'

export interface ProduceRequest {
  readonly topic: string
  readonly partition: number
  /** One encoded record batch (Kafka RecordBatch v2). */
  readonly batch: Buffer
  readonly acks: Acks
  /**
   * The producer's transactional id, when it has one. Weir's broker reads the producer from the
   * batch; a Kafka broker refuses transactional batches without it (Produce v3+ carries it).
   */
  readonly transactionalId?: string
}

export interface ListOffsetsRequest extends TopicPartition {
  readonly spec: OffsetSpec
  /** Under read_committed, 'latest' is the last stable offset. Default read_uncommitted. */
  readonly isolationLevel?: IsolationLevel
}

export interface PartitionOffset extends TopicPartition {
  readonly offset: number
}

export interface Transport {
  createTopics(requests: readonly CreateTopicRequest[]): Promise<TopicMetadata[]>
  deleteTopics(topics: readonly string[]): Promise<void>
  createPartitions(topic: string, count: number): Promise<TopicMetadata>
  listTopics(options?: { includeInternal?: boolean }): Promise<TopicMetadata[]>
  /** @throws UNKNOWN_TOPIC (unless the broker auto-creates topics) */
  describeTopics(topics: readonly string[]): Promise<TopicDescription[]>

  produce(request: ProduceRequest): Promise<ProduceResult>
  fetch(request: FetchRequest): Promise<FetchResult[]>
  listOffsets(requests: readonly ListOffsetsRequest[]): Promise<PartitionOffset[]>
  /** A producer id: fresh (idempotent), or for a transactional id its next epoch. */
  initProducerId(request?: InitProducerIdRequest): Promise<ProducerIdAndEpoch>
  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<void>
  addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<void>
  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<void>
  /** Resolves once the decision is durable, with the producer id and epoch to use next. */
  endTxn(request: EndTxnRequest): Promise<ProducerIdAndEpoch>
  describeTransactions(transactionalIds: readonly string[]): Promise<TransactionDescription[]>
  listTransactions(): Promise<TransactionDescription[]>

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse>
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse>
  heartbeat(request: HeartbeatRequest): Promise<void>
  leaveGroup(request: LeaveGroupRequest): Promise<void>
  commitOffsets(request: OffsetCommitRequest): Promise<void>
  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]>
  listGroups(): Promise<GroupListing[]>
  describeGroup(groupId: string): Promise<GroupDescription>
  /** Replaces a group's committed offsets; only for a group without members. */
  resetOffsets(request: { groupId: string, offsets: readonly PartitionOffset[] }): Promise<void>
  deleteGroups(groupIds: readonly string[]): Promise<void>

  close(): Promise<void>
}
