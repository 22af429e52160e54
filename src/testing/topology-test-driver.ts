/**
 * Runs a topology in this process on an embedded broker, for example-based tests: pipe records
 * in, read what it wrote, move time, read its stores. Kafka Streams' TopologyTestDriver, on the
 * real runtime: the broker, transactions and state stores are the ones production uses, so a
 * test through the driver also checks serdes, repartitioning and exactly-once commits.
 *
 * Time is virtual. Records piped without a timestamp get the driver's time (`startMs`, then
 * moved by `advanceTime`), and wall-clock punctuators fire when `advanceTime` moves it, never
 * on their own. Each `pipeInput` and `advanceTime` returns once everything it caused is
 * processed and committed, so outputs are deterministic: the same calls give the same records,
 * partition by partition, in the same order, every time.
 *
 * @example
 * const driver = await TopologyTestDriver.start(wordCount())
 * await driver.pipeInput('lines', [{ key: 'a', value: 'to be or not to be' }])
 * expect((await driver.readOutput<string, number>('counts')).map(r => [r.key, r.value]))
 *   .toContainEqual(['be', 2])
 * expect(await driver.store<number>('counts').get('to')).toBe(2)
 * await driver.close()
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Producer } from '../client/producer.ts'
import { Weir } from '../client/weir.ts'
import type { CreateTopicRequest } from '../broker/broker.ts'
import { defaultKeySerde, json, type Serde } from '../streams/serdes.ts'
import type { StoreQuery } from '../streams/store-query.ts'
import type { StreamsApp } from '../streams/streams-app.ts'
import { subTopologies } from '../streams/sub-topologies.ts'
import type { Topology } from '../streams/topology.ts'
import { ManualClock } from '../util/clock.ts'
import type { ReadRecord, TestRecord } from './model.ts'
import { readTopic } from './read-topic.ts'

export interface TestDriverOptions {
  /** Partitions of the topics the driver creates (the topology's inputs and outputs); 1. */
  readonly partitions?: number
  /** Topics to create first, instead of (or besides) the defaults, e.g. with configs. */
  readonly topics?: readonly CreateTopicRequest[]
  /** The driver's time at the start, ms since the epoch; default 0. */
  readonly startMs?: number
  readonly processing?: 'exactly-once' | 'at-least-once'
  /** The broker's and stores' directory; a fresh temporary one (deleted on close) by default. */
  readonly dir?: string
}

/** The topology's external topics: what it reads that it does not write itself, and sinks. */
function externalTopics(topology: Topology): string[] {
  const subs = subTopologies(topology)
  const repartition = new Set(subs.flatMap(sub => sub.repartitionSinks))
  const topics = subs.flatMap(sub => [...sub.sources.map(source => source.topic), ...sub.sinks])
  return [...new Set(topics)].filter(topic => !repartition.has(topic))
}

export class TopologyTestDriver {
  private readonly positions = new Map<string, Map<number, number>>()

  private constructor(
    private readonly topology: Topology,
    private readonly weir: Weir,
    readonly app: StreamsApp,
    private readonly producer: Producer,
    private readonly clock: ManualClock,
    private readonly cleanup: (() => Promise<void>) | undefined,
  ) {}

  /** Opens the broker, creates the topics and starts the topology, ready for input. */
  static async start(topology: Topology, options: TestDriverOptions = {}):
  Promise<TopologyTestDriver> {
    const dir = options.dir ?? await mkdtemp(join(tmpdir(), 'weir-test-driver-'))
    const cleanup = options.dir === undefined
      ? () => rm(dir, { recursive: true, force: true }) : undefined
    const weir = await Weir.open({ dir: join(dir, 'data'), offsetsTopicPartitions: 1,
      transactionStateTopicPartitions: 1 })
    try {
      const given = options.topics ?? []
      const named = new Set(given.map(topic => topic.topic))
      const existing = new Set((await weir.admin().listTopics()).map(topic => topic.name))
      const missing = externalTopics(topology).filter(topic => !named.has(topic)
        && !existing.has(topic))
      await weir.admin().createTopics([...given.filter(topic => !existing.has(topic.topic)),
        ...missing.map(topic => ({ topic, partitions: options.partitions ?? 1 }))])
      const clock = new ManualClock(options.startMs ?? 0)
      const app = await topology.start({ weir, stateDir: join(dir, 'state'), clock,
        processing: options.processing ?? 'exactly-once', instanceId: 'test-driver',
        consumer: { maxWaitMs: 20, heartbeatIntervalMs: 300 } })
      await app.caughtUp()
      return new TopologyTestDriver(topology, weir, app, weir.producer(), clock, cleanup)
    } catch (error) {
      await weir.close()
      await cleanup?.()
      throw error
    }
  }

  /** The driver's time now (ms since the epoch). */
  get nowMs(): number {
    return this.clock.nowMs()
  }

  /**
   * Writes `records` to `topic` (with the topology's serdes when it reads that topic, else
   * UTF-8 keys and JSON values, or the given serdes; a null value is a tombstone) and returns
   * once the topology has processed and committed everything they cause.
   */
  async pipeInput<K = string, V = unknown>(topic: string,
    records: ReadonlyArray<TestRecord<K | null, V>>,
    serdes: { keySerde?: Serde<K>, valueSerde?: Serde<V> } = {}): Promise<void> {
    const source = this.topology.sources.get(topic)
    const keySerde = (serdes.keySerde ?? source?.keySerde ?? defaultKeySerde()) as Serde<K>
    const valueSerde = (serdes.valueSerde ?? source?.valueSerde ?? json<V>()) as Serde<V>
    await this.producer.send({ topic, messages: records.map(record => ({
      key: record.key === null ? null : keySerde.serialize(record.key),
      // null is a tombstone (a delete in a table), as in Kafka Streams' test driver.
      value: record.value === null ? null : valueSerde.serialize(record.value),
      timestamp: record.timestamp ?? this.clock.nowMs(),
      ...(record.partition === undefined ? {} : { partition: record.partition }) })) })
    await this.app.caughtUp()
  }

  /**
   * What the topology wrote to `topic` (read_committed) since the last call for that topic, by
   * partition then offset.
   */
  async readOutput<K = string, V = unknown>(topic: string,
    serdes: { keySerde?: Serde<K>, valueSerde?: Serde<V> } = {}):
  Promise<Array<ReadRecord<K, V>>> {
    const { records, next } = await readTopic<K, V>(this.weir, topic,
      { ...serdes, from: this.positions.get(topic) ?? new Map() })
    this.positions.set(topic, next)
    return records
  }

  /** Moves the driver's time; wall-clock punctuators due by then fire, and their work commits. */
  async advanceTime(ms: number): Promise<void> {
    this.clock.advance(ms)
    await this.app.punctuateNow()
    await this.app.caughtUp()
  }

  /** Reads a store's committed state (point, range, prefix, all). */
  store<V, K = string>(name: string): StoreQuery<V, K> {
    return this.app.query<V, K>(name)
  }

  /** The client the driver runs on, for anything else a test needs (admin, more producers). */
  get client(): Weir {
    return this.weir
  }

  async close(): Promise<void> {
    try {
      await this.app.close()
      await this.producer.close()
      await this.weir.close()
    } finally {
      await this.cleanup?.()
    }
  }
}
