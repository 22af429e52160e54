/**
 * Weir's client transport over a Kafka cluster (Apache Kafka, Redpanda, or Weir's own Kafka
 * listener): `Weir.kafka({ brokers })`. Each Transport method is the Kafka request it names, so
 * Weir's producer, consumer, group membership and transaction manager — and so topologies and
 * the event-sourcing kit on top — run unchanged.
 *
 * The library underneath is KafkaJS 2.2.4, for its network layer only (sockets, TLS, SASL,
 * framing, correlation, timeouts: kafkajs-connection.ts). Its producer and consumer cannot back
 * Weir's: the consumer has no revoke callback and no cooperative rebalancing, the producer
 * re-encodes records, and fetches come back decoded. @platformatic/kafka 2.x needs Node 22.
 * Request and response bodies are written and read by Weir's own Kafka schemas, the ones the
 * listener serves and that are checked byte for byte against KafkaJS's encoders.
 */
import type { ProduceResult } from '../../../broker/partition.ts'
import type { CreateTopicRequest, TopicDescription } from '../../../broker/broker.ts'
import type { FetchRequest, FetchResult } from '../../../broker/fetch.ts'
import type { TopicMetadata } from '../../../broker/topic-registry.ts'
import type {
  CommittedOffset, GroupDescription, GroupListing, HeartbeatRequest, JoinGroupRequest,
  JoinGroupResponse, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest,
  SyncGroupRequest, SyncGroupResponse, TxnOffsetCommitRequest,
} from '../../../group/group-requests.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch, TransactionDescription,
} from '../../../txn/txn-requests.ts'
import { WeirError } from '../../../errors.ts'
import { type Scheduler, systemScheduler } from '../../../util/clock.ts'
import type {
  ListOffsetsRequest, PartitionOffset, ProduceRequest, Transport,
} from '../transport.ts'
import { type BrokerAddress, BrokerConnections } from './broker-connections.ts'
import * as admin from './kafka-admin-requests.ts'
import { KafkaCluster } from './kafka-cluster.ts'
import * as data from './kafka-data-requests.ts'
import * as group from './kafka-group-requests.ts'
import type { KafkaSasl } from './kafkajs-connection.ts'
import * as txn from './kafka-txn-requests.ts'
import type { ConnectionOptions as TlsOptions } from 'node:tls'

export interface KafkaTransportOptions {
  /** Bootstrap brokers, `host:port` each. */
  readonly brokers: readonly string[]
  readonly clientId?: string
  /** TLS: true, or Node's tls.connect options. */
  readonly ssl?: boolean | TlsOptions
  /** SASL as KafkaJS takes it: `{ mechanism: 'plain', username, password }`, scram-sha-*. */
  readonly sasl?: KafkaSasl
  /** Default 10 s. */
  readonly connectionTimeoutMs?: number
  /** Per request (long polls and joins add their own wait); default 30 s. */
  readonly requestTimeoutMs?: number
  /** Default 32: concurrent requests to one broker (each holds a connection). */
  readonly connectionsPerBrokerMax?: number
  /** How long partition leaders are trusted before metadata is asked again; default 5 min. */
  readonly metadataMaxAgeMs?: number
  /** For topics Weir creates (CreateTopics v0–3 need one); default 1. */
  readonly replicationFactor?: number
  /** Partitions of a topic created without a count; default 1. */
  readonly defaultPartitions?: number
  readonly scheduler?: Scheduler
}

/** `host:port` → address. @throws INVALID_CONFIG */
export function parseBroker(broker: string): BrokerAddress {
  const match = /^(.+):(\d{1,5})$/.exec(broker)
  const port = match === null ? NaN : Number(match[2])
  if (match === null || port < 1 || port > 65_535) {
    throw new WeirError('INVALID_CONFIG', `Kafka broker '${broker}' is not host:port; pass `
      + `brokers like ['127.0.0.1:9092'].`)
  }
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port }
}

export class KafkaTransport implements Transport {
  private readonly cluster: KafkaCluster
  private readonly topicDefaults: admin.TopicDefaults

  constructor(options: KafkaTransportOptions) {
    if (options.brokers.length === 0) {
      throw new WeirError('INVALID_CONFIG', 'Weir.kafka needs at least one broker (host:port).')
    }
    const connections = new BrokerConnections({
      clientId: options.clientId ?? 'weir',
      connectionTimeoutMs: options.connectionTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      connectionsPerBrokerMax: options.connectionsPerBrokerMax ?? 32,
      ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
      ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    })
    this.cluster = new KafkaCluster(connections, options.brokers.map(parseBroker), {
      metadataMaxAgeMs: options.metadataMaxAgeMs ?? 300_000,
      scheduler: options.scheduler ?? systemScheduler })
    this.topicDefaults = { replicationFactor: options.replicationFactor ?? 1,
      partitions: options.defaultPartitions ?? 1 }
  }

  /** Reads the cluster's metadata once: fails fast when no broker answers. */
  async connect(): Promise<void> {
    await this.cluster.metadata([])
  }

  createTopics(requests: readonly CreateTopicRequest[]): Promise<TopicMetadata[]> {
    return admin.createTopics(this.cluster, requests, this.topicDefaults)
  }

  deleteTopics(topics: readonly string[]): Promise<void> {
    return admin.deleteTopics(this.cluster, topics)
  }

  createPartitions(): Promise<TopicMetadata> {
    return admin.notOverKafka('createPartitions', 'use kafka-topics.sh --alter --partitions')
  }

  listTopics(options?: { includeInternal?: boolean }): Promise<TopicMetadata[]> {
    return admin.listTopics(this.cluster, options)
  }

  describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    return admin.describeTopics(this.cluster, topics)
  }

  produce(request: ProduceRequest): Promise<ProduceResult> {
    return data.produce(this.cluster, request)
  }

  fetch(request: FetchRequest): Promise<FetchResult[]> {
    return data.fetch(this.cluster, request)
  }

  listOffsets(requests: readonly ListOffsetsRequest[]): Promise<PartitionOffset[]> {
    return data.listOffsets(this.cluster, requests)
  }

  initProducerId(request?: InitProducerIdRequest): Promise<ProducerIdAndEpoch> {
    return txn.initProducerId(this.cluster, request)
  }

  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<void> {
    return txn.addPartitionsToTxn(this.cluster, request)
  }

  addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<void> {
    return txn.addOffsetsToTxn(this.cluster, request)
  }

  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<void> {
    return txn.txnOffsetCommit(this.cluster, request)
  }

  endTxn(request: EndTxnRequest): Promise<ProducerIdAndEpoch> {
    return txn.endTxn(this.cluster, request)
  }

  describeTransactions(transactionalIds: readonly string[]):
  Promise<TransactionDescription[]> {
    return txn.describeTransactions(this.cluster, transactionalIds)
  }

  listTransactions(): Promise<TransactionDescription[]> {
    return txn.listTransactions(this.cluster)
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    return group.joinGroup(this.cluster, request)
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return group.syncGroup(this.cluster, request)
  }

  heartbeat(request: HeartbeatRequest): Promise<void> {
    return group.heartbeat(this.cluster, request)
  }

  leaveGroup(request: LeaveGroupRequest): Promise<void> {
    return group.leaveGroup(this.cluster, request)
  }

  commitOffsets(request: OffsetCommitRequest): Promise<void> {
    return group.commitOffsets(this.cluster, request)
  }

  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    return group.fetchOffsets(this.cluster, request)
  }

  listGroups(): Promise<GroupListing[]> {
    return group.listGroups(this.cluster)
  }

  describeGroup(groupId: string): Promise<GroupDescription> {
    return group.describeGroup(this.cluster, groupId)
  }

  resetOffsets(request: { groupId: string, offsets: readonly PartitionOffset[] }):
  Promise<void> {
    return admin.resetOffsets(this.cluster, request)
  }

  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return admin.deleteGroups(this.cluster, groupIds)
  }

  close(): Promise<void> {
    return this.cluster.connections.close()
  }
}
