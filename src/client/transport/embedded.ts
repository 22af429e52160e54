/**
 * The in-process transport: a broker, a group coordinator and a transaction coordinator opened in
 * this process on `dir`. Calls go straight to them; there is no serialisation, so this is also
 * the reference every other transport's behaviour is compared with.
 *
 * Offsets live in the internal compacted topic `__consumer_offsets`, transaction states in
 * `__transaction_state` (both flush 'always': nothing is acknowledged before it is on disk). The
 * transaction coordinator writes markers through the broker, or through the group coordinator for
 * `__consumer_offsets` partitions (which materialises the transaction's offsets on commit).
 */
import { WeirError } from '../../errors.ts'
import { Broker, type BrokerOptions, type CreateTopicRequest } from '../../broker/broker.ts'
import type { FetchRequest, FetchResult } from '../../broker/fetch.ts'
import type { ProduceResult } from '../../broker/partition.ts'
import type { TopicMetadata } from '../../broker/topic-registry.ts'
import {
  GroupCoordinator, type GroupCoordinatorConfig,
} from '../../group/group-coordinator.ts'
import type {
  CommittedOffset, GroupDescription, GroupListing, HeartbeatRequest, JoinGroupRequest,
  JoinGroupResponse, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest, SyncGroupRequest,
  SyncGroupResponse, TxnOffsetCommitRequest,
} from '../../group/group-requests.ts'
import type {
  ListOffsetsRequest, PartitionOffset, ProduceRequest, Transport,
} from './transport.ts'
import {
  TransactionCoordinator, type TransactionParticipants,
} from '../../txn/transaction-coordinator.ts'
import type { TransactionCoordinatorConfig } from '../../txn/transaction-coordinator-config.ts'
import { TRANSACTION_STATE_TOPIC } from '../../txn/transaction-log.ts'
import { CONSUMER_OFFSETS_TOPIC } from '../../group/offset-record.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch, TransactionDescription,
} from '../../txn/txn-requests.ts'
import type { TopicDescription } from '../../broker/broker.ts'

export { CONSUMER_OFFSETS_TOPIC }

export interface EmbeddedOptions extends BrokerOptions {
  /** Partitions of `__consumer_offsets` (fixed when the topic is first created). */
  readonly offsetsTopicPartitions?: number
  /** Partitions of `__transaction_state` (fixed when the topic is first created). */
  readonly transactionStateTopicPartitions?: number
  readonly group?: Partial<GroupCoordinatorConfig>
  readonly transactions?: Partial<TransactionCoordinatorConfig>
}

const INTERNAL_TOPIC_CONFIG = { cleanupPolicy: 'compact', flush: 'always' } as const

export class EmbeddedTransport implements Transport {
  private constructor(
    readonly broker: Broker,
    readonly groups: GroupCoordinator,
    readonly transactions: TransactionCoordinator,
  ) {}

  static async open(options: EmbeddedOptions): Promise<EmbeddedTransport> {
    const broker = await Broker.open(options)
    let groups: GroupCoordinator | undefined
    try {
      await broker.ensureInternalTopic(CONSUMER_OFFSETS_TOPIC,
        options.offsetsTopicPartitions ?? 4, INTERNAL_TOPIC_CONFIG)
      await broker.ensureInternalTopic(TRANSACTION_STATE_TOPIC,
        options.transactionStateTopicPartitions ?? 4, INTERNAL_TOPIC_CONFIG)
      const offsetLogs = broker.partitionsOf(CONSUMER_OFFSETS_TOPIC).map(p => p.log)
      const opened = await GroupCoordinator.open({ offsetLogs, clock: broker.clock,
        scheduler: broker.scheduler, config: options.group ?? {} })
      groups = opened
      const transactions = await TransactionCoordinator.open({
        logs: broker.partitionsOf(TRANSACTION_STATE_TOPIC).map(p => p.log),
        participants: transactionParticipants(broker, opened),
        clock: broker.clock, scheduler: broker.scheduler, config: options.transactions,
      })
      broker.setTransactionVerifier(transactions)
      return new EmbeddedTransport(broker, opened, transactions)
    } catch (error) {
      await groups?.close()
      await broker.close()
      throw error
    }
  }

  async createTopics(requests: readonly CreateTopicRequest[]): Promise<TopicMetadata[]> {
    const created: TopicMetadata[] = []
    for (const request of requests) created.push(await this.broker.createTopic(request))
    return created
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    for (const topic of topics) await this.broker.deleteTopic(topic)
  }

  createPartitions(topic: string, count: number): Promise<TopicMetadata> {
    return this.broker.createPartitions(topic, count)
  }

  async listTopics(options?: { includeInternal?: boolean }): Promise<TopicMetadata[]> {
    return this.broker.listTopics(options)
  }

  async describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    const described: TopicDescription[] = []
    for (const topic of topics) {
      await this.broker.topicForUse(topic)
      described.push(this.broker.describeTopic(topic))
    }
    return described
  }

  produce(request: ProduceRequest): Promise<ProduceResult> {
    return this.broker.produce(request)
  }

  fetch(request: FetchRequest): Promise<FetchResult[]> {
    return this.broker.fetch(request)
  }

  async listOffsets(requests: readonly ListOffsetsRequest[]): Promise<PartitionOffset[]> {
    const offsets: PartitionOffset[] = []
    for (const request of requests) {
      offsets.push({ topic: request.topic, partition: request.partition,
        offset: await this.broker.listOffset(request.topic, request.partition, request.spec,
          request.isolationLevel) })
    }
    return offsets
  }

  initProducerId(request?: InitProducerIdRequest): Promise<ProducerIdAndEpoch> {
    const transactionalId = request?.transactionalId
    if (transactionalId === undefined) return this.broker.initProducerId()
    return this.transactions.initProducerId({ ...request, transactionalId })
  }

  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<void> {
    return this.transactions.addPartitionsToTxn(request)
  }

  addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<void> {
    return this.transactions.addOffsetsToTxn(request)
  }

  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<void> {
    try {
      for (const offset of request.offsets) this.broker.partition(offset.topic, offset.partition)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.transactions.txnOffsetCommit(request,
      () => this.groups.txnCommitOffsets(request))
  }

  endTxn(request: EndTxnRequest): Promise<ProducerIdAndEpoch> {
    return this.transactions.endTxn(request)
  }

  async describeTransactions(transactionalIds: readonly string[]):
  Promise<TransactionDescription[]> {
    return this.transactions.describeTransactions(transactionalIds)
  }

  async listTransactions(): Promise<TransactionDescription[]> {
    return this.transactions.listTransactions()
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    return this.groups.joinGroup(request)
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return this.groups.syncGroup(request)
  }

  heartbeat(request: HeartbeatRequest): Promise<void> {
    return this.groups.heartbeat(request)
  }

  leaveGroup(request: LeaveGroupRequest): Promise<void> {
    return this.groups.leaveGroup(request)
  }

  async commitOffsets(request: OffsetCommitRequest): Promise<void> {
    for (const offset of request.offsets) this.broker.partition(offset.topic, offset.partition)
    return this.groups.commitOffsets(request)
  }

  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    return this.groups.fetchOffsets(request)
  }

  async listGroups(): Promise<GroupListing[]> {
    return this.groups.listGroups()
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return this.groups.describeGroup(groupId)
  }

  async resetOffsets(request: { groupId: string, offsets: readonly PartitionOffset[] }):
  Promise<void> {
    for (const offset of request.offsets) {
      const log = this.broker.partition(offset.topic, offset.partition).log
      if (offset.offset < log.logStartOffset || offset.offset > log.logEndOffset) {
        throw new WeirError('OFFSET_OUT_OF_RANGE', `Offset ${offset.offset} is outside `
          + `${offset.topic}/${offset.partition} [${log.logStartOffset}, ${log.logEndOffset}].`)
      }
    }
    return this.groups.resetOffsets(request)
  }

  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return this.groups.deleteGroups(groupIds)
  }

  async close(): Promise<void> {
    await this.transactions.close()
    await this.groups.close()
    await this.broker.close()
  }
}

/** How the transaction coordinator reaches the broker and the group coordinator. */
function transactionParticipants(broker: Broker, groups: GroupCoordinator):
TransactionParticipants {
  return {
    newProducerId: async () => (await broker.initProducerId()).producerId,
    checkPartition: partition => {
      broker.partition(partition.topic, partition.partition)
    },
    offsetsPartitionFor: groupId => ({ topic: CONSUMER_OFFSETS_TOPIC,
      partition: groups.partitionFor(groupId) }),
    writeMarker: (partition, marker) => partition.topic === CONSUMER_OFFSETS_TOPIC
      ? groups.completeTransaction({ partition: partition.partition,
        producerId: marker.producerId, producerEpoch: marker.producerEpoch,
        commit: marker.type === 'commit' })
      : broker.writeTxnMarker(partition.topic, partition.partition, marker),
  }
}
