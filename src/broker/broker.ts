/**
 * The broker: topics and their partitions on one machine, produce and fetch, offsets by time,
 * producer ids. It is what a client transport (embedded or over the network) calls; it knows
 * nothing of groups, HTTP or client-side batching.
 *
 * Layout under `dir`:
 *   metadata.json                      topics and the reserved producer-id block (topic-registry.ts)
 *   topics/<name>-<topicId>/<p>/       one partition log per directory (+ producer snapshots)
 * The topic id in the directory name keeps a re-created topic apart from a deleted one whose
 * files are still being removed. A directory no topic claims on open is a deletion that a crash
 * interrupted: its files are removed then.
 */
import { join } from 'node:path'
import { WeirError } from '../errors.ts'
import { brokerLimitDefaults, type BrokerLimits } from '../limits.ts'
import { assert } from '../util/assert.ts'
import {
  type CancelTimer, type Clock, type Scheduler, systemClock, systemScheduler,
} from '../util/clock.ts'
import type { FileSystem } from '../util/file-system.ts'
import { NodeFileSystem } from '../util/node-file-system.ts'
import { randomId } from '../util/random.ts'
import { isTransactional, type BatchHeader } from '../log/record-batch.ts'
import {
  type Acks, type MarkerRequest, Partition, type ProduceResult, type TransactionVerifier,
} from './partition.ts'
import {
  type TopicConfig, type TopicMetadata, TopicRegistry, validateTopicName,
} from './topic-registry.ts'
import {
  fetchPartitions, type FetchRequest, type FetchResult, type IsolationLevel,
} from './fetch.ts'

export interface BrokerOptions {
  readonly dir: string
  /** Create a topic on first produce or fetch instead of failing with UNKNOWN_TOPIC. */
  readonly autoCreateTopics?: boolean
  /** Partition count of auto-created topics. */
  readonly defaultPartitions?: number
  /** Config every new topic starts from (a topic's own config overrides it). */
  readonly topicDefaults?: TopicConfig
  readonly limits?: Partial<BrokerLimits>
  readonly fs?: FileSystem
  readonly clock?: Clock
  readonly scheduler?: Scheduler
}

export interface CreateTopicRequest {
  readonly topic: string
  readonly partitions?: number
  readonly config?: TopicConfig
}

export interface TopicDescription extends TopicMetadata {
  readonly partitionStates: ReadonlyArray<{
    readonly partition: number
    readonly logStartOffset: number
    readonly logEndOffset: number
    readonly highWatermark: number
  }>
}

export type OffsetSpec = 'earliest' | 'latest' | { readonly timestamp: number }

const PRODUCER_ID_BLOCK = 1000
/** 238 + '-' + 16 hex digits = 255, the longest file name Linux file systems allow. */
const DIRECTORY_NAME_CHARS_MAX = 238

/** `<name>-<topicId>`, the name shortened so the whole stays a legal file name. */
function topicDirectoryName(topic: TopicMetadata): string {
  return `${topic.name.slice(0, DIRECTORY_NAME_CHARS_MAX)}-${topic.topicId}`
}

export class Broker {
  private readonly partitions = new Map<string, Partition[]>()
  private nextProducerId: number
  private adminChain: Promise<unknown> = Promise.resolve()
  private readonly timers: CancelTimer[] = []
  private closed = false
  private verifier: TransactionVerifier | undefined

  private constructor(
    private readonly options: BrokerOptions,
    readonly fs: FileSystem,
    readonly clock: Clock,
    readonly scheduler: Scheduler,
    readonly limits: BrokerLimits,
    private readonly registry: TopicRegistry,
  ) {
    this.nextProducerId = registry.reservedProducerIdEnd
  }

  static async open(options: BrokerOptions): Promise<Broker> {
    const fs = options.fs ?? new NodeFileSystem()
    const limits = { ...brokerLimitDefaults, ...options.limits }
    const registry = await TopicRegistry.open(fs, options.dir)
    const broker = new Broker(options, fs, options.clock ?? systemClock,
      options.scheduler ?? systemScheduler, limits, registry)
    await fs.mkdir(join(options.dir, 'topics'))
    await broker.removeOrphanDirectories()
    for (const topic of registry.list()) {
      broker.partitions.set(topic.name, await broker.openPartitions(topic, 0))
    }
    broker.timers.push(broker.scheduler.every(limits.producerSnapshotIntervalMs, () => {
      if (!broker.closed) void broker.snapshotProducerState().catch(() => undefined)
    }))
    return broker
  }

  private topicDirectory(topic: TopicMetadata): string {
    return join(this.options.dir, 'topics', topicDirectoryName(topic))
  }

  /**
   * Opens partitions [from, topic.partitions) and returns the topic's full partition list; the
   * caller publishes it (`this.partitions`) once the metadata that names them is durable.
   */
  private async openPartitions(topic: TopicMetadata, from: number): Promise<Partition[]> {
    const opened = [...this.partitions.get(topic.name) ?? []]
    assert(opened.length === from, 'partitions are opened in order, once')
    const config = { ...this.options.topicDefaults, ...topic.config,
      tailCacheBytes: this.limits.tailCacheBytes }
    try {
      for (let p = from; p < topic.partitions; p++) {
        const directory = join(this.topicDirectory(topic), String(p))
        await this.fs.mkdir(directory)
        const verify = (header: BatchHeader): void => this.verifier?.verify({
          producerId: header.producerId, producerEpoch: header.producerEpoch,
          transactional: isTransactional(header) }, topic.name, p)
        opened.push(await Partition.open({ directory, config, fs: this.fs, clock: this.clock,
          scheduler: this.scheduler, verify }))
      }
    } catch (error) {
      await Promise.allSettled(opened.slice(from).map(partition => partition.close()))
      throw error
    }
    return opened
  }

  private async removeOrphanDirectories(): Promise<void> {
    const root = join(this.options.dir, 'topics')
    if (!await this.fs.exists(root)) return
    const live = new Set(this.registry.list().map(topicDirectoryName))
    for (const name of await this.fs.list(root)) {
      if (!live.has(name)) await this.removeFiles(join(root, name))
    }
  }

  private async removeFiles(topicDirectory: string): Promise<void> {
    for (const partition of await this.fs.list(topicDirectory)) {
      const directory = join(topicDirectory, partition)
      for (const file of await this.fs.list(directory)) await this.fs.unlink(join(directory, file))
      await this.fs.syncDirectory(directory)
    }
  }

  /** Runs admin changes one at a time. */
  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.adminChain.then(() => {
      this.checkOpen()
      return task()
    })
    this.adminChain = run.catch(() => undefined)
    return run
  }

  private checkOpen(): void {
    if (this.closed) throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The broker is closed.')
  }

  /**
   * Creates a topic; its metadata is durable before this resolves.
   * @throws TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS, INVALID_CONFIG
   */
  createTopic(request: CreateTopicRequest & { internal?: boolean }): Promise<TopicMetadata> {
    return this.serialize(async () => {
      const internal = request.internal === true
      validateTopicName(request.topic, internal)
      if (this.registry.get(request.topic) !== undefined) {
        throw new WeirError('TOPIC_ALREADY_EXISTS', `Topic '${request.topic}' already exists; `
          + 'use it or delete it first.')
      }
      const partitions = request.partitions ?? this.options.defaultPartitions ?? 1
      this.checkPartitionCount(request.topic, partitions)
      const topic: TopicMetadata = { name: request.topic, topicId: randomId(), partitions,
        config: { ...request.config }, internal }
      // Files first, metadata second: a crash in between leaves an orphan directory that the
      // next open removes, never a topic without its partitions.
      const opened = await this.openPartitions(topic, 0).catch(async (error: unknown) => {
        await this.removeFiles(this.topicDirectory(topic)).catch(() => undefined)
        throw error
      })
      await this.registry.put(topic, () => this.partitions.set(topic.name, opened))
      return topic
    })
  }

  private checkPartitionCount(topic: string, partitions: number): void {
    if (!Number.isInteger(partitions) || partitions < 1
      || partitions > this.limits.partitionsPerTopicMax) {
      throw new WeirError('INVALID_PARTITIONS', `Topic '${topic}' cannot have ${partitions} `
        + `partitions: use 1 to ${this.limits.partitionsPerTopicMax} (partitionsPerTopicMax).`)
    }
  }

  /** Creates an internal topic (name starting with `__`) unless it exists. */
  async ensureInternalTopic(name: string, partitions: number, config: TopicConfig):
  Promise<TopicMetadata> {
    const existing = this.registry.get(name)
    if (existing !== undefined) return existing
    return this.createTopic({ topic: name, partitions, config, internal: true })
  }

  /** Deletes a topic: gone once its metadata removal is durable; files are removed after. */
  deleteTopic(name: string): Promise<void> {
    return this.serialize(async () => {
      const topic = this.requireTopic(name)
      if (topic.internal) {
        throw new WeirError('INVALID_TOPIC_EXCEPTION', `Topic '${name}' is internal and cannot `
          + 'be deleted.')
      }
      const partitions = this.partitions.get(name) ?? []
      this.partitions.delete(name)
      await this.registry.remove(name)
      await Promise.allSettled(partitions.map(partition => partition.close()))
      await this.removeFiles(this.topicDirectory(topic))
    })
  }

  /** Raises a topic's partition count (partitions are never removed). */
  createPartitions(name: string, count: number): Promise<TopicMetadata> {
    return this.serialize(async () => {
      const topic = this.requireTopic(name)
      this.checkPartitionCount(name, count)
      if (count <= topic.partitions) {
        throw new WeirError('INVALID_PARTITIONS', `Topic '${name}' has ${topic.partitions} `
          + `partitions; ask for more than that (partitions can only be added).`)
      }
      const grown = { ...topic, partitions: count }
      const opened = await this.openPartitions(grown, topic.partitions)
      await this.registry.put(grown, () => this.partitions.set(name, opened))
      return grown
    })
  }

  listTopics(options: { includeInternal?: boolean } = {}): TopicMetadata[] {
    return this.registry.list().filter(topic => options.includeInternal === true
      || !topic.internal)
  }

  describeTopic(name: string): TopicDescription {
    const topic = this.requireTopic(name)
    const partitionStates = (this.partitions.get(name) ?? []).map((partition, index) => ({
      partition: index, logStartOffset: partition.log.logStartOffset,
      logEndOffset: partition.log.logEndOffset, highWatermark: partition.log.highWatermark,
    }))
    return { ...topic, partitionStates }
  }

  /** @throws UNKNOWN_TOPIC */
  requireTopic(name: string): TopicMetadata {
    const topic = this.registry.get(name)
    if (topic === undefined) {
      throw new WeirError('UNKNOWN_TOPIC', `Topic '${name}' does not exist; create it first `
        + '(admin createTopics) or open the broker with autoCreateTopics: true.')
    }
    return topic
  }

  /** Metadata of a topic, creating it first when auto-creation is on. */
  async topicForUse(name: string): Promise<TopicMetadata> {
    const topic = this.registry.get(name)
    if (topic !== undefined || this.options.autoCreateTopics !== true) {
      return this.requireTopic(name)
    }
    return this.createTopic({ topic: name }).catch((error: unknown) => {
      if (WeirError.is(error, 'TOPIC_ALREADY_EXISTS')) return this.requireTopic(name)
      throw error
    })
  }

  /** @throws UNKNOWN_TOPIC, UNKNOWN_TOPIC_OR_PARTITION */
  partition(topic: string, partition: number): Partition {
    const partitions = this.partitions.get(topic)
    if (partitions === undefined) this.requireTopic(topic)
    const found = partitions?.[partition]
    if (found === undefined || !Number.isInteger(partition)) {
      throw new WeirError('UNKNOWN_TOPIC_OR_PARTITION', `Topic '${topic}' has no partition `
        + `${partition}; it has ${partitions?.length ?? 0}.`)
    }
    return found
  }

  /** The partition logs of a topic, for coordinators that keep their state in internal topics. */
  partitionsOf(topic: string): readonly Partition[] {
    this.requireTopic(topic)
    return this.partitions.get(topic) ?? []
  }

  /**
   * Appends a producer's encoded batch to a partition.
   * @throws UNKNOWN_TOPIC, UNKNOWN_TOPIC_OR_PARTITION, PRODUCER_FENCED, OUT_OF_ORDER_SEQUENCE,
   *   and the log's validation errors; nothing is written when it throws.
   */
  produce(request: { topic: string, partition: number, batch: Buffer, acks: Acks }):
  Promise<ProduceResult> {
    if (this.closed) return Promise.reject(new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The broker '
      + 'is closed.'))
    const partitions = this.partitions.get(request.topic)
    if (partitions === undefined && this.options.autoCreateTopics === true) {
      return this.topicForUse(request.topic).then(() => this.produce(request))
    }
    try {
      if (this.registry.get(request.topic)?.internal === true) {
        // Only coordinators write internal topics, through their own path (Kafka refuses too).
        throw new WeirError('INVALID_TOPIC_EXCEPTION', `Topic '${request.topic}' is internal; `
          + 'clients cannot produce to it.')
      }
      return this.partition(request.topic, request.partition).produce(request.batch, request.acks)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Installs the transaction coordinator's check of producer batches (KIP-890 part 1); without
   * one, transactional batches are not verified (a broker without a coordinator).
   */
  setTransactionVerifier(verifier: TransactionVerifier): void {
    this.verifier = verifier
  }

  /** Writes a transaction marker into a partition; resolves once it is durable. */
  writeTxnMarker(topic: string, partition: number, marker: MarkerRequest): Promise<void> {
    try {
      this.checkOpen()
      return this.partition(topic, partition).writeMarker(marker)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Reads from several partitions, waiting up to `maxWaitMs` for `minBytes` (long poll). */
  async fetch(request: FetchRequest): Promise<FetchResult[]> {
    this.checkOpen()
    for (const item of request.partitions) {
      if (!this.partitions.has(item.topic)) await this.topicForUse(item.topic)
    }
    return fetchPartitions(request, {
      partition: (topic, partition) => this.partition(topic, partition),
      scheduler: this.scheduler, limits: this.limits,
    })
  }

  /**
   * Kafka's ListOffsets: log start, log end, or the first offset at or after a timestamp. Under
   * read_committed the end is the last stable offset, as a read_committed reader sees it.
   */
  async listOffset(topic: string, partition: number, spec: OffsetSpec,
    isolationLevel: IsolationLevel = 'read_uncommitted'): Promise<number> {
    this.checkOpen()
    const found = this.partition(topic, partition)
    const log = found.log
    const end = isolationLevel === 'read_committed' ? found.lastStableOffset : log.highWatermark
    if (spec === 'earliest') return log.logStartOffset
    if (spec === 'latest') return end
    const offset = await log.offsetForTimestamp(spec.timestamp)
    return offset === undefined ? end : Math.min(offset, end)
  }

  /** A new producer id (epoch 0) for an idempotent producer, unique across restarts. */
  initProducerId(): Promise<{ producerId: number, producerEpoch: number }> {
    return this.serialize(async () => {
      if (this.nextProducerId >= this.registry.reservedProducerIdEnd) {
        await this.registry.reserveProducerIds(this.nextProducerId + PRODUCER_ID_BLOCK)
      }
      const producerId = this.nextProducerId++
      assert(producerId < this.registry.reservedProducerIdEnd, 'ids come from a durable block')
      return { producerId, producerEpoch: 0 }
    })
  }

  private async snapshotProducerState(): Promise<void> {
    for (const partitions of this.partitions.values()) {
      for (const partition of partitions) await partition.snapshotProducerState()
    }
  }

  /** Finishes in-flight appends, snapshots producer state and closes every log. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const cancel of this.timers) cancel()
    await this.adminChain
    const all = [...this.partitions.values()].flat()
    await Promise.all(all.map(partition => partition.close()))
  }
}
