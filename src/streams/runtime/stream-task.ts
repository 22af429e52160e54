/**
 * A task: one partition of one sub-topology (Kafka Streams' StreamTask). It owns the sub-topology's
 * stores for that partition (one classic-level database each under `stateDir`), builds the
 * sub-topology's RxJS pipelines, pushes records through them one at a time, and collects what
 * they produce — output records and store writes — for the thread to commit.
 *
 * An error thrown in a pipeline ends that RxJS subscription (RxJS semantics), so the task queues
 * the error with the record it belongs to and rebuilds its pipelines before the next record;
 * per-subscription operator state (an RxJS `scan`, `distinct`) restarts then, as it does after
 * any restart — durable state belongs in stores.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Subject, type Subscription } from 'rxjs'
import type { TopicPartition } from '../../group/assignor.ts'
import type { ConsumedRecord } from '../../client/fetcher.ts'
import type { Message } from '../../client/producer.ts'
import type { Transport } from '../../client/transport/transport.ts'
import { KeyValueStore } from '../../state/key-value-store.ts'
import { restoreStore, type RestoreProgress } from '../../state/restore.ts'
import { WeirError } from '../../errors.ts'
import type { StreamsMetrics } from './streams-metrics.ts'
import { decodeStreamTime } from './commit-metadata.ts'
import { assert } from '../../util/assert.ts'
import type { Clock } from '../../util/clock.ts'
import {
  type OperatorHost, peekRecord, type Punctuator, type RecordContext, type SinkTarget, withHost,
  withRecord,
} from '../processing-context.ts'
import type { SourceSpec, StreamNode } from '../stream-node.ts'
import { changelogTopic, type SubTopology } from '../sub-topologies.ts'
import {
  type ErrorHandling, type ErrorLogEntry, type ErrorStage, type FailedRecord, handleRecordError,
} from './error-handling.ts'
import { type ChangelogWrite, TaskStore } from './task-store.ts'

export interface TaskConfig {
  readonly appId: string
  readonly sub: SubTopology
  readonly partition: number
  readonly stateDir: string
  readonly processingErrors: ErrorHandling
  readonly deserializationErrors: ErrorHandling
  readonly log: (entry: ErrorLogEntry) => void
  readonly clock: Clock
  /** Clean entries each store keeps cached (deserialized), per task. */
  readonly storeCacheEntriesMax: number
  readonly metrics: StreamsMetrics
}

interface ScheduledPunctuator {
  readonly punctuator: Punctuator
  /** Stream time or wall-clock time of the next call; undefined until stream time is known. */
  nextMs: number | undefined
  cancelled: boolean
}

interface QueuedError {
  readonly error: unknown
  readonly context: RecordContext | undefined
}

export function taskId(subTopology: number, partition: number): string {
  return `${subTopology}_${partition}`
}

export class StreamTask implements OperatorHost {
  readonly taskId: string
  readonly partition: number
  streamTimeMs = -1
  /** The stream time of the last commit (kept in its offsets' metadata): a discard goes back. */
  committedStreamTimeMs = -1
  /** Records produced since the thread last took them. */
  outputs: Array<{ topic: string, message: Message }> = []
  /** Per source topic: the offset after the last record processed (not yet committed). */
  readonly consumed = new Map<string, number>()
  /** Per source topic: the committed offset, where a failed commit goes back to. */
  readonly committed = new Map<string, number>()
  private readonly stores = new Map<string, TaskStore>()
  private readonly sources: ReadonlyMap<string, SourceSpec>
  private subjects = new Map<string, Subject<unknown>>()
  private subscriptions: Subscription[] = []
  private punctuators: ScheduledPunctuator[] = []
  private readonly inflight = new Set<Promise<unknown>>()
  private errors: QueuedError[] = []
  private broken = false
  private closed = false

  private constructor(private readonly config: TaskConfig) {
    this.taskId = taskId(config.sub.id, config.partition)
    this.partition = config.partition
    this.sources = new Map(config.sub.sources.map(source => [source.topic, source]))
  }

  /**
   * Opens the task's stores and restores each from its changelog (from its checkpoint, or from
   * the beginning when it has none it can trust), then builds the pipelines.
   */
  static async open(config: TaskConfig, transport: Transport,
    onProgress?: (progress: RestoreProgress & { taskId: string }) => void): Promise<StreamTask> {
    const task = new StreamTask(config)
    try {
      for (const spec of config.sub.stores) {
        const directory = join(config.stateDir, config.appId, task.taskId, spec.name)
        await mkdir(directory, { recursive: true })
        const kv = await KeyValueStore.open({ name: spec.name, directory })
        const topic = changelogTopic(config.appId, spec.name)
        task.stores.set(spec.name,
          new TaskStore(spec, topic, kv, config.storeCacheEntriesMax))
        await restoreStore(kv, { transport, topic, partition: config.partition,
          onProgress: progress => onProgress?.({ ...progress, taskId: task.taskId }) })
        await task.stores.get(spec.name)!.loadIndex()
      }
      // The stream time the last commit reached (stable: not one an open transaction may undo).
      const committed = await transport.fetchOffsets({ groupId: config.appId,
        partitions: task.partitions(), requireStable: true })
      task.streamTimeMs = Math.max(-1, ...committed.map(c => decodeStreamTime(c.metadata)))
      task.committedStreamTimeMs = task.streamTimeMs
    } catch (error) {
      await task.close()
      throw error
    }
    task.build()
    return task
  }

  /** The input partitions this task reads. */
  partitions(): TopicPartition[] {
    return [...this.sources.keys()].map(topic => ({ topic, partition: this.partition }))
  }

  /** The changelog partition of each of its stores. */
  changelogPartitions(): TopicPartition[] {
    return [...this.stores.values()].map(store => ({ topic: store.changelogTopic,
      partition: this.partition }))
  }

  storeNamed(name: string): TaskStore | undefined {
    return this.stores.get(name)
  }

  private build(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe()
    this.punctuators = []
    this.subjects = new Map([...this.sources.keys()].map(topic => [topic, new Subject()]))
    const pipeline = { subjects: this.subjects, built: new Map<StreamNode, never>() }
    this.subscriptions = withHost(this, () => this.config.sub.leaves.map(leaf =>
      leaf.build(pipeline).subscribe({ error: (error: unknown) => {
        this.errors.push({ error, context: peekRecord() })
        this.broken = true
      } })))
    this.broken = false
  }

  /**
   * Pushes one record through the pipelines.
   * @throws the error of a failed record when its handling is 'fail'
   */
  process(record: ConsumedRecord): void {
    assert(!this.closed, 'process on a closed task')
    if (this.broken) this.build()
    const source = this.sources.get(record.topic)
    assert(source !== undefined, 'record of a topic the task does not read')
    const input = { key: record.key, value: record.value }
    let key: unknown
    let value: unknown
    let timestamp = record.timestamp
    try {
      key = record.key === null ? null : source.keySerde.deserialize(record.key)
      value = record.value === null ? null : source.valueSerde.deserialize(record.value)
      if (source.timestampExtractor !== undefined) {
        timestamp = eventTime(source.timestampExtractor(value, key, record.timestamp), record)
      }
    } catch (error) {
      this.reportError('deserialization', error, { ...record, ...input })
      this.consumed.set(record.topic, record.offset + 1)
      return
    }
    this.streamTimeMs = Math.max(this.streamTimeMs, timestamp)
    if (value !== null || source.kind === 'table') {
      const context: RecordContext = { key, timestamp, topic: record.topic,
        partition: record.partition, offset: record.offset, input }
      withHost(this, () => withRecord(context, () => this.subjects.get(record.topic)!.next(value)))
    }
    this.consumed.set(record.topic, record.offset + 1)
    for (const store of this.stores.values()) store.sweep(this.streamTimeMs)
    this.punctuate('stream-time', this.streamTimeMs)
    this.handleErrors()
  }

  /** The last commit succeeded: what this task did since is final. */
  markCommitted(): void {
    this.committedStreamTimeMs = this.streamTimeMs
    for (const [topic, offset] of this.consumed) this.committed.set(topic, offset)
    this.consumed.clear()
    for (const store of this.stores.values()) store.committed()
  }

  /** Runs the punctuators of `type` that are due at `timeMs`. */
  punctuate(type: Punctuator['type'], timeMs: number): void {
    if (timeMs < 0) return
    for (const scheduled of [...this.punctuators]) {
      const { punctuator } = scheduled
      if (scheduled.cancelled || punctuator.type !== type) continue
      if (scheduled.nextMs === undefined) scheduled.nextMs = timeMs + punctuator.intervalMs
      if (timeMs < scheduled.nextMs) continue
      const behind = Math.floor((timeMs - scheduled.nextMs) / punctuator.intervalMs) + 1
      scheduled.nextMs += behind * punctuator.intervalMs
      withHost(this, () => {
        try {
          punctuator.callback(timeMs)
        } catch (error) {
          this.errors.push({ error, context: { key: undefined, timestamp: timeMs, topic: '',
            partition: this.partition, offset: -1 } })
        }
      })
    }
    this.handleErrors()
  }

  /** Waits for asynchronous steps (mapAsync) to finish, then handles their errors. */
  async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    this.handleErrors()
  }

  private reportError(stage: ErrorStage, error: unknown, record: FailedRecord): void {
    const handling = stage === 'deserialization' ? this.config.deserializationErrors
      : this.config.processingErrors
    const outcome = handleRecordError(handling, { stage, taskId: this.taskId, record, error },
      this.config.log)
    if (outcome.deadLetter !== undefined) this.outputs.push(outcome.deadLetter)
  }

  private handleErrors(): void {
    while (this.errors.length > 0) {
      const { error, context } = this.errors.shift()!
      this.reportError('processing', error, {
        topic: context?.topic ?? '', partition: context?.partition ?? this.partition,
        offset: context?.offset ?? -1, timestamp: context?.timestamp ?? -1,
        key: context?.input?.key ?? null, value: context?.input?.value ?? null,
      })
    }
  }

  /** Moves this interval's store writes into the stores' buffers; returns them for changelogs. */
  flushStores(): Array<{ store: TaskStore, writes: ChangelogWrite[] }> {
    return [...this.stores.values()].map(store => ({ store, writes: store.flush() }))
      .filter(flushed => flushed.writes.length > 0)
  }

  /** Forgets everything not committed: store writes, outputs, positions, queued errors. */
  discard(): void {
    this.streamTimeMs = this.committedStreamTimeMs
    for (const store of this.stores.values()) store.discard()
    this.outputs = []
    this.consumed.clear()
    this.errors = []
    this.build()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const subscription of this.subscriptions) subscription.unsubscribe()
    await Promise.allSettled([...this.stores.values()].map(store => store.kv.close()))
  }

  // OperatorHost

  store(name: string): TaskStore {
    const store = this.stores.get(name)
    assert(store !== undefined, `store ${name} is declared in the task's sub-topology`)
    return store
  }

  send(target: SinkTarget, key: unknown, value: unknown, timestamp: number): void {
    this.outputs.push({ topic: target.topic, message: { key: target.serializeKey(key),
      value: target.serializeValue(value), ...(timestamp >= 0 ? { timestamp } : {}) } })
  }

  schedule(punctuator: Punctuator): () => void {
    const scheduled: ScheduledPunctuator = { punctuator, cancelled: false,
      nextMs: punctuator.type === 'wall-clock'
        ? this.config.clock.nowMs() + punctuator.intervalMs : undefined }
    this.punctuators.push(scheduled)
    return () => {
      scheduled.cancelled = true
    }
  }

  recordLate(store: string): void {
    this.config.metrics.recordLate(store)
  }

  track(work: Promise<unknown>): void {
    const tracked = work.then(() => undefined, () => undefined)
      .finally(() => this.inflight.delete(tracked))
    this.inflight.add(tracked)
  }
}

/** An extracted event time, checked. @throws WEIR_ERR_STREAMS_TIMESTAMP */
function eventTime(extracted: number, record: ConsumedRecord): number {
  if (!Number.isSafeInteger(extracted) || extracted < 0) {
    throw new WeirError('WEIR_ERR_STREAMS_TIMESTAMP', `The timestampExtractor of ${record.topic} `
      + `returned ${String(extracted)} for offset ${record.offset} of partition `
      + `${record.partition}; event times are integers ≥ 0 (ms since the epoch).`)
  }
  return extracted
}
