/**
 * A running topology: `await topology.start({ weir, stateDir })` joins the app's consumer group,
 * creates its internal topics, and processes until `close()`. Several instances (processes) with
 * the same appId share the work; each needs its own `stateDir`.
 *
 * Defaults follow Kafka Streams: exactly-once processing with a 100 ms commit interval
 * (at-least-once: 30 s), a 10 s transaction timeout, errors failing the app.
 */
import { randomUUID } from 'node:crypto'
import { WeirError } from '../errors.ts'
import type { ConsumerConfig } from '../client/consumer-config.ts'
import type { ProducerConfig } from '../client/producer-config.ts'
import type { Weir } from '../client/weir.ts'
import type { RestoreProgress } from '../state/restore.ts'
import { systemClock, systemScheduler, type Clock, type Scheduler, sleep } from '../util/clock.ts'
import type { ErrorHandling, ErrorLogEntry } from './runtime/error-handling.ts'
import { prepareTopics } from './runtime/internal-topics.ts'
import {
  type ProcessingGuarantee, type ProcessingStep, StreamThread,
} from './runtime/stream-thread.ts'
import { storeQuery, type StoreQuery } from './store-query.ts'
import { type SubTopology, subTopologies } from './sub-topologies.ts'
import type { Topology } from './topology.ts'
import { StreamsMetrics, type StreamsMetricsSnapshot } from './runtime/streams-metrics.ts'

export interface StartOptions {
  readonly weir: Weir
  /** Where the local state stores live; one directory per app instance. */
  readonly stateDir: string
  /** 'exactly-once' (default) or 'at-least-once' (cheaper; outputs and state may repeat). */
  readonly processing?: ProcessingGuarantee
  /** How often work is committed; 100 ms under exactly-once, 30 s at-least-once by default. */
  readonly commitIntervalMs?: number
  /** Names this instance's transactional producer; random by default. */
  readonly instanceId?: string
  /** User code that throws: 'fail' (default), 'skip', or { deadLetterTopic }. */
  readonly processingErrors?: ErrorHandling
  /** Records that cannot be deserialized: 'fail' (default), 'skip', or { deadLetterTopic }. */
  readonly deserializationErrors?: ErrorHandling
  /** Where skipped and dead-lettered records are reported; console.warn by default. */
  readonly logger?: (entry: ErrorLogEntry) => void
  /** Restoration progress of each store. */
  readonly onRestore?: (progress: RestoreProgress & { taskId: string }) => void
  /** Overrides for the app's consumer (e.g. sessionTimeoutMs) and producer. */
  readonly consumer?: Partial<ConsumerConfig>
  readonly producer?: Partial<ProducerConfig>
  /**
   * Deserialized entries each store keeps cached per task, so hot keys are not read back from
   * LevelDB after every commit; default 10,000 (0 turns the cache off).
   */
  readonly storeCacheEntriesMax?: number
  /** Failed commits in a row (each aborted and retried) before the app stops; default 10. */
  readonly commitAttemptsMax?: number
  /**
   * How long a task keeps retrying retriable failures while it opens (restoring its stores over
   * a network that drops, a server restarting) before the app stops; default 300,000 ms (Kafka
   * Streams' task.timeout.ms).
   */
  readonly taskTimeoutMs?: number
  /** @internal Crash tests: a throw at a step kills the instance there (stream-thread.ts). */
  readonly onStep?: (step: ProcessingStep) => void
  readonly clock?: Clock
  readonly scheduler?: Scheduler
}

export class StreamsApp {
  private closed = false

  private constructor(
    readonly topology: Topology,
    private readonly subs: readonly SubTopology[],
    private readonly thread: StreamThread,
    private readonly weir: Weir,
    private readonly scheduler: Scheduler,
    private readonly counters: StreamsMetrics,
  ) {}

  /** This instance's counters (records dropped as late, by store). */
  metrics(): StreamsMetricsSnapshot {
    return this.counters.snapshot()
  }

  /** @internal use `topology.start(options)` */
  static async start(topology: Topology, options: StartOptions): Promise<StreamsApp> {
    const subs = subTopologies(topology)
    if (subs.length === 0) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `Topology ${topology.appId} has no `
        + 'sources; add t.stream(topic) or t.table(topic) before starting it.')
    }
    await prepareTopics(topology.appId, subs, options.weir.admin())
    const processing = options.processing ?? 'exactly-once'
    const clock = options.clock ?? systemClock
    const scheduler = options.scheduler ?? systemScheduler
    const metrics = new StreamsMetrics()
    const thread = new StreamThread(options.weir, subs, {
      appId: topology.appId,
      instanceId: options.instanceId ?? randomUUID(),
      processing,
      commitIntervalMs: options.commitIntervalMs
        ?? (processing === 'exactly-once' ? 100 : 30_000),
      stateDir: options.stateDir,
      processingErrors: options.processingErrors ?? 'fail',
      deserializationErrors: options.deserializationErrors ?? 'fail',
      log: options.logger ?? (entry => console.warn(`weir: ${entry.stage} error in task `
        + `${entry.taskId} at ${entry.record.topic}/${entry.record.partition}@`
        + `${entry.record.offset}:`, entry.error)),
      ...(options.onRestore === undefined ? {} : { onRestore: options.onRestore }),
      consumer: options.consumer ?? {},
      producer: options.producer ?? {},
      commitAttemptsMax: options.commitAttemptsMax ?? 10,
      taskTimeoutMs: options.taskTimeoutMs ?? 300_000,
      storeCacheEntriesMax: options.storeCacheEntriesMax ?? 10_000,
      metrics,
      ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    }, clock, scheduler)
    await thread.start()
    return new StreamsApp(topology, subs, thread, options.weir, scheduler, metrics)
  }

  /** Resolves when the app is closed; rejects with the error that stopped it. */
  get done(): Promise<void> {
    return this.thread.done
  }

  /** The tasks this instance runs now (restored, processing): `<subTopology>_<partition>`. */
  tasks(): string[] {
    return this.thread.localTasks().map(task => task.taskId).sort()
  }

  /**
   * Point, range and prefix reads of a store's committed local state (interactive queries):
   * the tasks of this instance only. A read during a rebalance waits for it to end (up to
   * `settleTimeoutMs`, default 10 s), so it never sees a partial assignment.
   * @throws WEIR_ERR_STREAMS_STATE for a store the topology does not declare; a read throws
   *   REBALANCE_IN_PROGRESS when the rebalance outlasts `settleTimeoutMs`
   */
  query<V, K = string>(store: string, options: { settleTimeoutMs?: number } = {}):
  StoreQuery<V, K> {
    const declared = this.topology.stores.get(store)
    if (declared === undefined) {
      throw new WeirError('WEIR_ERR_STREAMS_STATE', `App ${this.topology.appId} has no store `
        + `'${store}'; its stores: ${[...this.topology.stores.keys()].join(', ') || 'none'}.`)
    }
    return storeQuery<V, K>(declared.spec, {
      tasks: () => this.thread.localTasks(),
      settled: () => this.thread.assignmentSettled(),
      checkRunning: () => this.checkRunning('queried'),
      scheduler: this.scheduler,
      ...options,
    })
  }

  /**
   * Resolves once the app's group has committed everything readable in its input and internal
   * topics and this instance's stores hold it: lag 0 twice in a row, each check after a commit
   * run to completion (store writes applied) and with this instance's assignment settled (joined,
   * every assigned task restored). For tests and batch jobs.
   * @throws the error that stopped the app; REQUEST_TIMED_OUT after `timeoutMs` (default 60 s)
   */
  async caughtUp(options: { timeoutMs?: number, pollMs?: number } = {}): Promise<void> {
    const topics = this.subs.flatMap(sub => sub.sources.map(source => source.topic))
    const admin = this.weir.admin()
    const timeoutMs = options.timeoutMs ?? 60_000
    const deadline = Date.now() + timeoutMs
    let zeroInRow = 0
    while (zeroInRow < 2) {
      this.checkRunning()
      await sleep(this.scheduler, options.pollMs ?? 20)
      await this.thread.commitNow()
      this.checkRunning()
      const lag = await admin.lag(this.topology.appId, topics)
      const behind = lag.some(partition => partition.lag > 0) || !this.thread.assignmentSettled()
      zeroInRow = behind ? 0 : zeroInRow + 1
      if (Date.now() > deadline) {
        throw new WeirError('REQUEST_TIMED_OUT', `App ${this.topology.appId} did not catch up `
          + `within ${timeoutMs} ms; lag: ${lag.filter(p => p.lag > 0)
            .map(p => `${p.topic}/${p.partition}=${p.lag}`).join(', ') || 'none'}; `
          + `assignment settled: ${this.thread.assignmentSettled()}.`)
      }
    }
    // A commit that started after the last check (a tick) finishes applying its writes first.
    await this.thread.commitNow()
    this.checkRunning()
  }

  /**
   * @internal The test kit's driver (src/testing): runs wall-clock punctuators now, by this
   * app's clock, and commits what they emitted.
   */
  async punctuateNow(): Promise<void> {
    this.checkRunning('punctuated')
    await this.thread.punctuateNow()
    this.checkRunning('punctuated')
  }

  private checkRunning(doing = 'caught up'): void {
    const failure = this.thread.failure
    if (failure !== undefined) throw failure
    if (this.closed) {
      throw new WeirError('WEIR_ERR_STREAMS_STATE', `The app was closed before it ${doing}.`)
    }
  }

  /** Commits, leaves the group and closes the stores. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.thread.close()
  }
}
