/**
 * The in-process transport: a broker and a group coordinator opened in this process on `dir`.
 * Calls go straight to them; there is no serialisation, so this is also the reference every other
 * transport's behaviour is compared with.
 *
 * Offsets live in the internal compacted topic `__consumer_offsets` (flush 'always': a commit is
 * acknowledged only once it is on disk).
 */
import { WeirError } from '../../errors.ts'
import { Broker, type BrokerOptions, type CreateTopicRequest } from '../../broker/broker.ts'
import type { FetchRequest, FetchResult } from '../../broker/fetch.ts'
import type { ProduceResult } from '../../broker/partition.ts'
import type { TopicMetadata } from '../../broker/topic-registry.ts'
import type { TopicPartition } from '../../group/assignor.ts'
import {
  GroupCoordinator, type GroupCoordinatorConfig,
} from '../../group/group-coordinator.ts'
import type {
  CommittedOffset, GroupDescription, GroupListing, HeartbeatRequest, JoinGroupRequest,
  JoinGroupResponse, LeaveGroupRequest, OffsetCommitRequest, SyncGroupRequest, SyncGroupResponse,
} from '../../group/group-requests.ts'
import type {
  ListOffsetsRequest, PartitionOffset, ProduceRequest, Transport,
} from './transport.ts'
import type { TopicDescription } from '../../broker/broker.ts'

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets'

export interface EmbeddedOptions extends BrokerOptions {
  /** Partitions of `__consumer_offsets` (fixed when the topic is first created). */
  readonly offsetsTopicPartitions?: number
  readonly group?: Partial<GroupCoordinatorConfig>
}

export class EmbeddedTransport implements Transport {
  private constructor(readonly broker: Broker, readonly groups: GroupCoordinator) {}

  static async open(options: EmbeddedOptions): Promise<EmbeddedTransport> {
    const broker = await Broker.open(options)
    try {
      await broker.ensureInternalTopic(CONSUMER_OFFSETS_TOPIC,
        options.offsetsTopicPartitions ?? 4, { cleanupPolicy: 'compact', flush: 'always' })
      const offsetLogs = broker.partitionsOf(CONSUMER_OFFSETS_TOPIC).map(p => p.log)
      const groups = await GroupCoordinator.open({ offsetLogs, clock: broker.clock,
        scheduler: broker.scheduler, config: options.group ?? {} })
      return new EmbeddedTransport(broker, groups)
    } catch (error) {
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
        offset: await this.broker.listOffset(request.topic, request.partition, request.spec) })
    }
    return offsets
  }

  initProducerId(): Promise<{ producerId: number, producerEpoch: number }> {
    return this.broker.initProducerId()
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

  fetchOffsets(request: { groupId: string, partitions?: readonly TopicPartition[] }):
  Promise<CommittedOffset[]> {
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
    await this.groups.close()
    await this.broker.close()
  }
}
