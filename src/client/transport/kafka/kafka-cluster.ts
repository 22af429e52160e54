/**
 * What the Kafka transport knows of the cluster: its brokers, each topic's partition leaders,
 * the controller, group and transaction coordinators, and the API versions each broker serves.
 * Metadata is refreshed when older than `metadataMaxAgeMs`, and at once when an answer says the
 * leader or coordinator moved.
 *
 * Versions: for each API, the highest version that both the broker advertises and Weir's Kafka
 * schemas (src/protocol/kafka/apis) can write; Produce starts at v3 (record batch v2). Most are
 * classic versions; OffsetFetch v7, TxnOffsetCommit v3 and the transaction listings are
 * flexible, which the connection layer frames (broker-connections.ts).
 */
import type { ApiVersionSchema } from '../../../protocol/kafka/api.ts'
import { apiSchemas } from '../../../protocol/kafka/apis/index.ts'
import { WeirError } from '../../../errors.ts'
import { type Scheduler, sleep } from '../../../util/clock.ts'
import {
  addressKey, type BrokerAddress, type BrokerConnections, type SendOptions,
} from './broker-connections.ts'
import { kafkaError } from './kafka-errors.ts'

export const API = {
  produce: 0, fetch: 1, listOffsets: 2, metadata: 3, offsetCommit: 8, offsetFetch: 9,
  findCoordinator: 10, joinGroup: 11, heartbeat: 12, leaveGroup: 13, syncGroup: 14,
  describeGroups: 15, listGroups: 16, apiVersions: 18, createTopics: 19, deleteTopics: 20,
  initProducerId: 22, addPartitionsToTxn: 24, addOffsetsToTxn: 25, endTxn: 26,
  txnOffsetCommit: 28, deleteGroups: 42, describeTransactions: 65, listTransactions: 66,
} as const

const SENDABLE_FROM: Readonly<Record<number, number>> = { [API.produce]: 3 }
const COORDINATOR_RETRIES = 20
const COORDINATOR_BACKOFF_MS = 50

export type CoordinatorType = 'group' | 'transaction'

export interface TopicLayout {
  /** Leader node id per partition index (−1: none now). */
  readonly leaders: readonly number[]
  readonly internal: boolean
  /** When this layout was read (Date.now()). */
  readonly readAt: number
}

interface MetadataAnswer {
  brokers: Array<{ nodeId: number, host: string, port: number }>
  controllerId?: number
  topics: Array<{ errorCode: number, name: string, isInternal?: boolean,
    partitions: Array<{ errorCode: number, partitionIndex: number, leaderId: number }> }>
}

type VersionRanges = ReadonlyMap<number, { min: number, max: number }>

export class KafkaCluster {
  private readonly brokers = new Map<number, BrokerAddress>()
  private readonly topics = new Map<string, TopicLayout>()
  private readonly coordinators = new Map<string, BrokerAddress>()
  private readonly versions = new Map<string, Promise<VersionRanges>>()
  private controllerId = -1

  constructor(
    readonly connections: BrokerConnections,
    private readonly bootstrap: readonly BrokerAddress[],
    private readonly settings: { metadataMaxAgeMs: number, scheduler: Scheduler },
  ) {}

  /**
   * Sends `body` as API `apiKey` at the highest version both sides have.
   * @throws UNSUPPORTED_VERSION when there is none
   */
  async request<T>(address: BrokerAddress, apiKey: number, body: object,
    options: SendOptions = {}):
  Promise<{ version: number, answer: T | undefined }> {
    const schema = await this.schema(address, apiKey)
    const answer = await this.connections.send<T>(address, schema, body, options)
    return { version: schema.version, answer }
  }

  /** As `request`, for APIs that always answer. */
  async call<T>(address: BrokerAddress, apiKey: number, body: object,
    options: Omit<SendOptions, 'expectResponse'> = {}): Promise<{ version: number, answer: T }> {
    const { version, answer } = await this.request<T>(address, apiKey, body, options)
    return { version, answer: answer! }
  }

  /** Some broker of the cluster (a known one, else a bootstrap address). */
  anyBroker(): BrokerAddress {
    const known = [...this.brokers.values()]
    const choices = known.length > 0 ? known : this.bootstrap
    return choices[Math.floor(Math.random() * choices.length)]!
  }

  /** Metadata of `topics` (all topics when null), recorded for leader lookups. */
  async metadata(topics: readonly string[] | null): Promise<MetadataAnswer> {
    const { answer } = await this.call<MetadataAnswer>(this.anyBroker(), API.metadata, {
      topics: topics === null ? null : topics.map(name => ({ name })),
      allowAutoTopicCreation: false })
    for (const broker of answer.brokers) {
      this.brokers.set(broker.nodeId, { host: broker.host, port: broker.port })
    }
    this.controllerId = answer.controllerId ?? this.controllerId
    for (const topic of answer.topics) {
      if (topic.errorCode !== 0) {
        this.topics.delete(topic.name)
        continue
      }
      const leaders: number[] = []
      for (const p of topic.partitions) leaders[p.partitionIndex] = p.leaderId
      this.topics.set(topic.name, { leaders, internal: topic.isInternal ?? false,
        readAt: Date.now() })
    }
    if (topics === null) {
      const listed = new Set(answer.topics.map(topic => topic.name))
      for (const name of this.topics.keys()) if (!listed.has(name)) this.topics.delete(name)
    }
    return answer
  }

  /** The topic's layout, from metadata no older than metadataMaxAgeMs. */
  async layout(topic: string): Promise<TopicLayout | undefined> {
    const known = this.topics.get(topic)
    if (known === undefined || Date.now() - known.readAt > this.settings.metadataMaxAgeMs) {
      await this.metadata([topic])
    }
    return this.topics.get(topic)
  }

  /**
   * The leader of a partition.
   * @throws UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE (retriable)
   */
  async leader(topic: string, partition: number): Promise<BrokerAddress> {
    const layout = await this.layout(topic)
    const leaderId = layout?.leaders[partition]
    if (layout === undefined || leaderId === undefined) {
      throw new WeirError('UNKNOWN_TOPIC_OR_PARTITION', `The Kafka cluster has no partition `
        + `${topic}/${partition}.`)
    }
    const address = this.brokers.get(leaderId)
    if (address === undefined) {
      this.forget(topic)
      throw new WeirError('LEADER_NOT_AVAILABLE', `Partition ${topic}/${partition} has no `
        + 'leader in the Kafka cluster right now; retry.')
    }
    return address
  }

  /** Drops what is known of a topic (its leader moved): the next lookup asks again. */
  forget(topic: string): void {
    this.topics.delete(topic)
  }

  async controller(): Promise<BrokerAddress> {
    if (!this.brokers.has(this.controllerId)) await this.metadata([])
    return this.brokers.get(this.controllerId) ?? this.anyBroker()
  }

  /**
   * Runs `call` on the coordinator of `key`, looking it up again and retrying (with a short
   * backoff) while the cluster says the coordinator moved or is loading.
   */
  private async withCoordinator<T>(key: string, type: CoordinatorType,
    call: (address: BrokerAddress) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call(await this.coordinator(key, type))
      } catch (error) {
        const moved = WeirError.is(error, 'NOT_COORDINATOR')
          || WeirError.is(error, 'COORDINATOR_NOT_AVAILABLE')
          || WeirError.is(error, 'COORDINATOR_LOAD_IN_PROGRESS')
          || WeirError.is(error, 'NETWORK_EXCEPTION')
        if (!moved || attempt >= COORDINATOR_RETRIES) throw error
        this.coordinators.delete(`${type}:${key}`)
        await sleep(this.settings.scheduler, COORDINATOR_BACKOFF_MS)
      }
    }
  }

  /** A request to the coordinator of `key` (with withCoordinator's retries); its answer. */
  async callCoordinator<T>(key: string, type: CoordinatorType, apiKey: number, body: object,
    options: Omit<SendOptions, 'expectResponse'> = {}): Promise<T> {
    return this.withCoordinator(key, type, async address =>
      (await this.call<T>(address, apiKey, body, options)).answer)
  }

  private async coordinator(key: string, type: CoordinatorType): Promise<BrokerAddress> {
    const cacheKey = `${type}:${key}`
    const known = this.coordinators.get(cacheKey)
    if (known !== undefined) return known
    const { answer } = await this.call<{ errorCode: number, host: string, port: number }>(
      this.anyBroker(), API.findCoordinator, { key, keyType: type === 'group' ? 0 : 1 })
    const error = kafkaError(answer.errorCode, `FindCoordinator for ${type} ${key}`)
    if (error !== undefined) throw error
    const address = { host: answer.host, port: answer.port }
    this.coordinators.set(cacheKey, address)
    return address
  }

  private async schema(address: BrokerAddress, apiKey: number): Promise<ApiVersionSchema> {
    const ranges = await this.apiVersions(address)
    const range = ranges.get(apiKey)
    const candidates = apiSchemas.filter(schema => schema.apiKey === apiKey
      && schema.version >= (SENDABLE_FROM[apiKey] ?? 0)
      && range !== undefined && schema.version >= range.min && schema.version <= range.max)
    const best = candidates.sort((a, b) => b.version - a.version)[0]
    if (best === undefined) {
      const name = apiSchemas.find(schema => schema.apiKey === apiKey)?.name ?? `API ${apiKey}`
      throw new WeirError('UNSUPPORTED_VERSION', `Kafka broker ${addressKey(address)} serves `
        + `${range === undefined ? 'no version' : `versions ${range.min}–${range.max}`} of `
        + `${name}, none of which Weir's Kafka transport writes; use Kafka 2.1 or later.`)
    }
    return best
  }

  private apiVersions(address: BrokerAddress): Promise<VersionRanges> {
    const key = addressKey(address)
    let known = this.versions.get(key)
    if (known === undefined) {
      known = this.askVersions(address)
      this.versions.set(key, known)
      known.catch(() => this.versions.delete(key))
    }
    return known
  }

  private async askVersions(address: BrokerAddress): Promise<VersionRanges> {
    const schema = apiSchemas.find(s => s.apiKey === API.apiVersions && s.version === 1)!
    const answer = await this.connections.send<{ errorCode: number,
      apiKeys: Array<{ apiKey: number, minVersion: number, maxVersion: number }> }>(
      address, schema, {})
    const error = kafkaError(answer!.errorCode, 'ApiVersions')
    if (error !== undefined) throw error
    const ranges = new Map(answer!.apiKeys.map(api =>
      [api.apiKey, { min: api.minVersion, max: api.maxVersion }]))
    this.connections.saslVersions ??= Object.fromEntries(answer!.apiKeys.map(api =>
      [api.apiKey, { minVersion: api.minVersion, maxVersion: api.maxVersion }]))
    return ranges
  }
}
