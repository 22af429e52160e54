/**
 * The loop that runs an app instance's tasks (Kafka Streams' StreamThread): one consumer in the
 * app's group (assignor: task-assignor.ts), one producer, the tasks of the partitions it owns.
 *
 * Each batch of records goes through its task; the outputs go to the producer right away, the
 * store writes stay in the tasks. Every `commitIntervalMs` the thread commits:
 * - exactly-once: in one transaction (begun before the interval's first send) the outputs, the
 *   changelog records of every store write and the input offsets (sendOffsetsToTransaction with
 *   the consumer's group metadata, so a zombie of an older generation is fenced, KIP-447); then,
 *   only once the transaction has committed, the store writes are applied to classic-level with
 *   their changelog checkpoints. If anything fails the transaction is aborted, the tasks forget
 *   what they did since the last commit, and the consumer goes back to the committed offsets:
 *   the interval runs again, and nothing of the failed attempt is visible to read_committed.
 * - at-least-once: outputs and changelog records are acknowledged, store writes applied, then
 *   the offsets committed; a crash in between processes the records again, so outputs and state
 *   updates may repeat.
 *
 * New tasks restore their stores from their changelogs with their partitions paused, so the other
 * tasks keep running; revoked tasks are committed first, lost ones (membership gone) are not.
 * Everything that touches tasks, the producer or the transaction runs under one lock.
 *
 * Over 500 lines because the loop, the commit and the task lifecycle (assign, revoke, lose) share
 * that lock, the transaction state and the rewind bookkeeping; split apart they would have to
 * expose all three to each other.
 */
import type { TopicPartition } from '../../group/assignor.ts'
import type { Consumer } from '../../client/consumer.ts'
import type { ConsumerConfig } from '../../client/consumer-config.ts'
import type { ConsumerBatch } from '../../client/fetcher.ts'
import type { Message, Producer, RecordMetadata } from '../../client/producer.ts'
import type { ProducerConfig } from '../../client/producer-config.ts'
import type { Weir } from '../../client/weir.ts'
import type { RestoreProgress } from '../../state/restore.ts'
import type { Clock, Scheduler } from '../../util/clock.ts'
import { WeirError } from '../../errors.ts'
import type { SubTopology } from '../sub-topologies.ts'
import type { ErrorHandling, ErrorLogEntry } from './error-handling.ts'
import { StreamTask, taskId } from './stream-task.ts'
import type { StreamsMetrics } from './streams-metrics.ts'
import { encodeCommitMetadata } from './commit-metadata.ts'
import { taskAssignor } from './task-assignor.ts'
import type { TaskStore } from './task-store.ts'

export type ProcessingGuarantee = 'exactly-once' | 'at-least-once'

/** The points of processing a crash test can stop the instance at (`onStep`). */
export type ProcessingStep = 'after-process' | 'after-outputs' | 'after-changelog'
  | 'before-commit' | 'after-commit' | 'after-checkpoint'

function fencedOut(config: ThreadConfig, cause: unknown): WeirError {
  return new WeirError('PRODUCER_FENCED', `App ${config.appId} instance ${config.instanceId} `
    + 'was fenced: another instance started with the same instanceId and took over its '
    + 'transactions; this one stops. Give each running instance its own instanceId.',
  { cause })
}

/** A throw from `onStep`: the instance dies there, as a killed process would. */
class SimulatedCrash extends Error {
  constructor(readonly step: ProcessingStep, cause: unknown) {
    super(`simulated crash at ${step}`, { cause })
  }
}

export interface ThreadConfig {
  readonly appId: string
  readonly instanceId: string
  readonly processing: ProcessingGuarantee
  readonly commitIntervalMs: number
  readonly stateDir: string
  readonly processingErrors: ErrorHandling
  readonly deserializationErrors: ErrorHandling
  readonly log: (entry: ErrorLogEntry) => void
  readonly onRestore?: (progress: RestoreProgress & { taskId: string }) => void
  readonly consumer: Partial<ConsumerConfig>
  readonly producer: Partial<ProducerConfig>
  readonly onCommitFailed?: (error: unknown) => void
  /**
   * @internal For crash tests: called at each processing step; a throw makes the instance stop
   * right there without aborting, committing, flushing or closing its producer — what a killed
   * process leaves behind (its stores are closed so the same process can reopen them).
   */
  readonly onStep?: (step: ProcessingStep) => void
  /** Clean entries each store keeps cached (deserialized), per task. */
  readonly storeCacheEntriesMax: number
  readonly metrics: StreamsMetrics
  /** Failed commits in a row before the app gives up. */
  readonly commitAttemptsMax: number
  /** How long opening a task retries retriable failures (Kafka Streams' task.timeout.ms). */
  readonly taskTimeoutMs: number
}

/**
 * Records processed between hand-offs of outputs to the producer (a fetch brings thousands): the
 * outputs are written while the rest is processed instead of all waiting for the commit.
 */
const RECORDS_PER_CHUNK = 1000

/** Sends in flight before the thread waits for them (bounds the producer's buffer). */
const SENDS_IN_FLIGHT_MAX = 32
/** First and largest wait between two attempts to open a task after a retriable failure. */
const TASK_RETRY_BACKOFF_MS = 50
const TASK_RETRY_BACKOFF_MAX_MS = 1_000

export class StreamThread {
  private readonly tasks = new Map<string, StreamTask>()
  private readonly opening = new Map<string, Promise<StreamTask | undefined>>()
  private readonly subOfTopic: Map<string, SubTopology>
  private readonly consumer: Consumer
  private producer: Producer
  private lock: Promise<void> = Promise.resolve()
  private inTransaction = false
  private dirty = false
  private lastCommitMs: number
  private sends: Array<Promise<unknown>> = []
  private failedCommits = 0
  /** Tasks whose changelog partitions are in the open transaction. */
  private readonly changelogsAdded = new Set<string>()
  /** Times the tasks went back to their last commit (see processBatch). */
  private rewinds = 0
  private stopTimer: (() => void) | undefined
  private tickQueued = false
  private stopped = false
  private running: Promise<void> | undefined
  private settleDone!: { resolve: () => void, reject: (error: unknown) => void }
  /** Resolves when the thread is closed; rejects with the error that stopped it. */
  readonly done: Promise<void>
  /** The error that stopped (or is stopping) the thread. */
  failure: unknown

  constructor(
    private readonly weir: Weir,
    subs: readonly SubTopology[],
    private readonly config: ThreadConfig,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {
    this.subOfTopic = new Map(subs.flatMap(sub => sub.sources.map(source =>
      [source.topic, sub] as const)))
    this.done = new Promise((resolve, reject) => {
      this.settleDone = { resolve, reject }
    })
    this.done.catch(() => undefined)
    // emptyBatches: a partition that ends in aborted data or markers is committed past them,
    // or its lag would never reach 0 (caughtUp would wait forever).
    this.consumer = weir.consumer({ groupId: config.appId, autoCommit: false,
      autoOffsetReset: 'earliest', isolationLevel: 'read_committed', emptyBatches: true,
      assignors: [taskAssignor(new Map([...this.subOfTopic].map(([topic, sub]) =>
        [topic, sub.id])))],
      ...config.consumer })
    this.producer = this.createProducer()
    this.lastCommitMs = clock.nowMs()
  }

  private get exactlyOnce(): boolean {
    return this.config.processing === 'exactly-once'
  }

  private createProducer(): Producer {
    return this.weir.producer(this.exactlyOnce
      ? { transactionalId: `${this.config.appId}-${this.config.instanceId}`,
        transactionTimeoutMs: 10_000, ...this.config.producer }
      : this.config.producer)
  }

  async start(): Promise<void> {
    if (this.exactlyOnce) await this.producer.initTransactions()
    this.consumer.subscribe({
      topics: [...this.subOfTopic.keys()],
      onPartitionsAssigned: partitions => this.assigned(partitions),
      onPartitionsRevoked: partitions => this.revoked(partitions),
      onPartitionsLost: partitions => this.lost(partitions),
    })
    const tickMs = Math.max(1, Math.min(this.config.commitIntervalMs, 100))
    this.stopTimer = this.scheduler.every(tickMs, () => this.tick())
    this.running = this.run()
  }

  /** Local tasks by id (for interactive queries). */
  localTasks(): StreamTask[] {
    return [...this.tasks.values()]
  }

  /** Commits now, under the lock, and resolves once the commit (store writes too) is done. */
  commitNow(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.stopped) await this.commit()
    }).catch(error => this.fail(error))
  }

  /** Joined the group, and every assigned partition's task is restored and running. */
  assignmentSettled(): boolean {
    if (this.consumer.groupMetadata().generationId < 0 || this.opening.size > 0) return false
    return this.consumer.assignment().every(tp => {
      const sub = this.subOfTopic.get(tp.topic)
      return sub !== undefined && this.tasks.has(taskId(sub.id, tp.partition))
    })
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work)
    this.lock = run.then(() => undefined, () => undefined)
    return run
  }

  private async run(): Promise<void> {
    try {
      for await (const batch of this.consumer) {
        const rewinds = this.rewinds
        await this.exclusive(() => this.processBatch(batch, rewinds))
        if (this.stopped) break
      }
    } catch (error) {
      await this.fail(error)
    }
  }

  /**
   * Runs the wall-clock punctuators at the clock's time now and commits, under the lock (the
   * test kit's driver calls it after moving its virtual clock, instead of waiting for a tick).
   */
  punctuateNow(): Promise<void> {
    return this.exclusive(async () => {
      if (this.stopped) return
      const now = this.clock.nowMs()
      for (const task of this.tasks.values()) task.punctuate('wall-clock', now)
      this.sendOutputs()
      await this.commit()
    }).catch(error => this.fail(error))
  }

  private tick(): void {
    if (this.tickQueued || this.stopped) return
    this.tickQueued = true
    void this.exclusive(async () => {
      this.tickQueued = false
      if (this.stopped) return
      const now = this.clock.nowMs()
      for (const task of this.tasks.values()) task.punctuate('wall-clock', now)
      this.sendOutputs()
      await this.maybeCommit()
    }).catch(error => this.fail(error))
  }

  /**
   * @param rewinds the rewind count when the batch was taken: a rewind since (a failed commit
   *   while the batch was fetched or waited for the lock) moved the consumer back to the
   *   committed offsets, which re-fetches these records, so the batch is dropped.
   */
  private async processBatch(batch: ConsumerBatch, rewinds: number): Promise<void> {
    if (this.stopped || rewinds !== this.rewinds) return
    const sub = this.subOfTopic.get(batch.topic)
    const task = sub === undefined ? undefined : this.tasks.get(taskId(sub.id, batch.partition))
    if (task === undefined) {
      // Revoked while the batch was out (seek throws: nothing to do), or a task still restoring
      // (its partitions are paused, so this should not happen): give the records back. A batch
      // without records (only markers or aborted data passed) has nothing to give back.
      if (batch.records.length === 0) return
      try {
        this.consumer.seek({ topic: batch.topic, partition: batch.partition,
          offset: batch.records[0]!.offset })
      } catch {
        // not assigned any more
      }
      return
    }
    this.addChangelogs(task)
    const { records } = batch
    for (let start = 0; start < records.length; start += RECORDS_PER_CHUNK) {
      if (start > 0) {
        // Let the producer and the broker work on the outputs so far while we go on.
        this.sendOutputs()
        await new Promise(resolve => setImmediate(resolve))
      }
      const end = Math.min(records.length, start + RECORDS_PER_CHUNK)
      for (let i = start; i < end; i++) {
        const record = records[i]!
        if (record.offset >= (task.consumed.get(batch.topic) ?? 0)) task.process(record)
      }
    }
    task.consumed.set(batch.topic, batch.nextOffset)
    this.dirty = true
    this.step('after-process')
    this.sendOutputs()
    if (this.sends.length >= SENDS_IN_FLIGHT_MAX) await this.settleSends()
    await this.maybeCommit()
  }

  private step(step: ProcessingStep): void {
    try {
      this.config.onStep?.(step)
    } catch (error) {
      throw new SimulatedCrash(step, error)
    }
  }

  private beginIfNeeded(): void {
    if (!this.exactlyOnce || this.inTransaction) return
    this.producer.beginTransaction()
    this.inTransaction = true
    this.changelogsAdded.clear()
  }

  /**
   * Under exactly-once, adds a task's changelog partitions to the transaction when the task
   * first processes a record in it — while records are processed, rather than when the commit
   * sends the changelog. A failure dooms the transaction (its commit then aborts).
   */
  private addChangelogs(task: StreamTask): void {
    if (!this.exactlyOnce || this.changelogsAdded.has(task.taskId)) return
    this.beginIfNeeded()
    this.changelogsAdded.add(task.taskId)
    const changelogs = task.changelogPartitions()
    if (changelogs.length > 0) {
      this.producer.addPartitionsToTransaction(changelogs).catch(() => undefined)
    }
  }

  /** Hands every task's outputs to the producer. */
  private sendOutputs(): void {
    for (const task of this.tasks.values()) {
      if (task.outputs.length === 0) continue
      this.beginIfNeeded()
      const byTopic = new Map<string, Message[]>()
      for (const { topic, message } of task.outputs) {
        const messages = byTopic.get(topic)
        if (messages === undefined) byTopic.set(topic, [message])
        else messages.push(message)
      }
      task.outputs = []
      for (const [topic, messages] of byTopic) {
        const sent = this.producer.send({ topic, messages })
        sent.catch(() => undefined)
        this.sends.push(sent)
      }
      this.dirty = true
    }
  }

  /** Waits for the sends in flight; throws the first failure. */
  private async settleSends(): Promise<void> {
    const sends = this.sends
    this.sends = []
    const results = await Promise.allSettled(sends)
    const failed = results.find(result => result.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }

  private async maybeCommit(): Promise<void> {
    if (this.clock.nowMs() - this.lastCommitMs >= this.config.commitIntervalMs) await this.commit()
  }

  /** Commits what the tasks did since the last commit (see the header). */
  private async commit(): Promise<void> {
    this.lastCommitMs = this.clock.nowMs()
    for (const task of this.tasks.values()) await task.settle()
    this.sendOutputs()
    const flushed = [...this.tasks.values()].flatMap(task => task.flushStores()
      .map(entry => ({ ...entry, task })))
    if (!this.dirty && flushed.length === 0) return
    try {
      if (flushed.length > 0) this.beginIfNeeded()
      const checkpoints = flushed.map(({ store, writes, task }) => this.producer.send({
        topic: store.changelogTopic,
        messages: writes.map(write => ({ key: write.key, value: write.value,
          partition: task.partition })),
      }).then(sent => ({ store, checkpoint: nextOffset(sent) })))
      for (const checkpoint of checkpoints) checkpoint.catch(() => undefined)
      const offsets = [...this.tasks.values()].flatMap(task => [...task.consumed].map(
        ([topic, offset]) => ({ topic, partition: task.partition, offset,
          metadata: encodeCommitMetadata(task.streamTimeMs) })))
      // The offsets join the transaction while its records are still being written: the
      // transaction commits all or nothing, so the order inside it does not matter.
      if (this.exactlyOnce) this.beginIfNeeded()
      const offsetsSent = this.exactlyOnce && offsets.length > 0
        ? this.producer.sendOffsetsToTransaction(offsets, this.consumer.groupMetadata())
        : Promise.resolve()
      offsetsSent.catch(() => undefined)
      await this.settleSends()
      this.step('after-outputs')
      const stored = await Promise.all(checkpoints)
      this.step('after-changelog')
      await offsetsSent
      if (this.exactlyOnce) {
        this.step('before-commit')
        await this.producer.commitTransaction()
        this.inTransaction = false
        this.step('after-commit')
      }
      await applyCheckpoints(stored)
      this.step('after-checkpoint')
      if (!this.exactlyOnce && offsets.length > 0) {
        this.step('before-commit')
        await this.consumer.commit(offsets)
        this.step('after-commit')
      }
      for (const task of this.tasks.values()) task.markCommitted()
      this.dirty = false
      this.failedCommits = 0
    } catch (error) {
      await this.recover(error)
    }
  }

  /**
   * After a failed commit: abort, forget everything since the last commit, go back to the
   * committed offsets. Gives up (fails the app) after `commitAttemptsMax` failures in a row.
   */
  private async recover(error: unknown): Promise<void> {
    if (error instanceof SimulatedCrash) throw error
    this.failedCommits++
    if (this.failedCommits >= this.config.commitAttemptsMax) throw error
    this.config.onCommitFailed?.(error)
    await this.abandon()
  }

  /**
   * Aborts the transaction and takes every task back to its last commit. The rewind count moves
   * only once the consumer is back at the committed offsets: a batch the consumer hands out
   * while this runs (from the old position, past the records being discarded) then carries the
   * old count and is dropped. Counted earlier, such a batch was processed after the rewind, its
   * end offset became the task's, and the discarded records, fetched again, were skipped as
   * already consumed: lost.
   */
  private async abandon(): Promise<void> {
    await this.settleSends().catch(() => undefined)
    if (this.inTransaction) {
      try {
        await this.producer.abortTransaction()
      } catch (error) {
        // Fenced: a newer instance runs under this instance id. A fresh producer would fence it
        // back, and the two would take turns failing each other's commits; this one stops.
        if (WeirError.is(error, 'PRODUCER_FENCED')) throw fencedOut(this.config, error)
        await this.replaceProducer()
      }
      this.inTransaction = false
    }
    for (const task of this.tasks.values()) this.rewind(task)
    this.rewinds++
    this.dirty = false
  }

  private rewind(task: StreamTask): void {
    task.discard()
    for (const tp of task.partitions()) {
      const committed = task.committed.get(tp.topic)
      if (committed === undefined) continue
      try {
        this.consumer.seek({ ...tp, offset: committed })
      } catch {
        // no longer assigned: nothing to go back to
      }
    }
  }

  /** A producer that cannot abort (its state lost, not fenced) is replaced by a fresh one. */
  private async replaceProducer(): Promise<void> {
    await this.producer.close().catch(() => undefined)
    this.producer = this.createProducer()
    if (this.exactlyOnce) await this.producer.initTransactions()
  }

  private assigned(partitions: readonly TopicPartition[]): void {
    const byTask = new Map<string, { sub: SubTopology, partition: number }>()
    for (const tp of partitions) {
      const sub = this.subOfTopic.get(tp.topic)
      if (sub === undefined) continue
      byTask.set(taskId(sub.id, tp.partition), { sub, partition: tp.partition })
    }
    for (const [id, { sub, partition }] of byTask) {
      if (this.tasks.has(id) || this.opening.has(id)) continue
      const taskPartitions = sub.sources.map(source => ({ topic: source.topic, partition }))
      this.consumer.pause(taskPartitions)
      // Where the task starts: the committed offsets (no record of a partition is fetched before
      // its listener ran, and then it is paused until the task is restored). A failed commit
      // goes back here.
      const starts = taskPartitions.map(tp => ({ tp, position: this.consumer.position(tp) }))
      const open = (): Promise<StreamTask> => StreamTask.open({ appId: this.config.appId, sub,
        partition, stateDir: this.config.stateDir, processingErrors: this.config.processingErrors,
        deserializationErrors: this.config.deserializationErrors, log: this.config.log,
        clock: this.clock, storeCacheEntriesMax: this.config.storeCacheEntriesMax,
        metrics: this.config.metrics },
      this.weir.transport, this.config.onRestore)
      const opening: Promise<StreamTask | undefined> = this.retryingRetriable(open,
        () => this.opening.get(id) !== opening || this.stopped)
        .then(async task => {
          if (task === undefined) return undefined
          if (this.opening.get(id) !== opening || this.stopped) {
            await task.close()
            return undefined
          }
          for (const { tp, position } of starts) {
            if (position !== undefined) task.committed.set(tp.topic, position)
          }
          this.tasks.set(id, task)
          this.opening.delete(id)
          this.consumer.resume(taskPartitions)
          return task
        })
      opening.catch(error => this.fail(error))
      this.opening.set(id, opening)
    }
  }

  /**
   * Runs `attempt` again after retriable failures (a network that drops, a server restarting:
   * an opening task's restore is a series of requests), with a doubling backoff, until it
   * succeeds, `abandoned()` says the result is no longer wanted (undefined), or `taskTimeoutMs`
   * has passed (the last error).
   */
  private async retryingRetriable<T>(attempt: () => Promise<T>, abandoned: () => boolean):
  Promise<T | undefined> {
    const deadline = this.clock.nowMs() + this.config.taskTimeoutMs
    let backoffMs = TASK_RETRY_BACKOFF_MS
    for (;;) {
      try {
        return await attempt()
      } catch (error) {
        if (!WeirError.is(error) || !error.retriable
          || this.clock.nowMs() + backoffMs > deadline) throw error
        await new Promise<void>(resolve => this.scheduler.after(backoffMs, resolve))
        if (abandoned()) return undefined
        backoffMs = Math.min(backoffMs * 2, TASK_RETRY_BACKOFF_MAX_MS)
      }
    }
  }

  private async revoked(partitions: readonly TopicPartition[]): Promise<void> {
    const ids = this.taskIdsOf(partitions)
    await this.exclusive(async () => {
      if (this.stopped) return
      await this.commit()
      await this.closeTasks(ids)
    }).catch(error => this.fail(error))
  }

  private async lost(partitions: readonly TopicPartition[]): Promise<void> {
    const ids = this.taskIdsOf(partitions)
    await this.exclusive(async () => {
      if (this.stopped) return
      // The transaction holds every task's work; another member may own some of it now.
      await this.abandon()
      await this.closeTasks(ids)
    }).catch(error => this.fail(error))
  }

  private taskIdsOf(partitions: readonly TopicPartition[]): Set<string> {
    const ids = new Set<string>()
    for (const tp of partitions) {
      const sub = this.subOfTopic.get(tp.topic)
      if (sub !== undefined) ids.add(taskId(sub.id, tp.partition))
    }
    return ids
  }

  private async closeTasks(ids: ReadonlySet<string>): Promise<void> {
    for (const id of ids) {
      const opening = this.opening.get(id)
      this.opening.delete(id)
      await opening?.catch(() => undefined)
      await this.tasks.get(id)?.close()
      this.tasks.delete(id)
    }
  }

  private async fail(error: unknown): Promise<void> {
    if (this.stopped || this.failure !== undefined) return
    this.failure = error
    if (error instanceof SimulatedCrash) await this.crash()
    else await this.shutdown(false)
    this.settleDone.reject(error)
  }

  /** Stops dead (SimulatedCrash): no commit, no abort, no flush; the producer is abandoned. */
  private async crash(): Promise<void> {
    this.stopped = true
    this.stopTimer?.()
    await this.consumer.close().catch(() => undefined)
    await this.closeTasks(new Set([...this.tasks.keys(), ...this.opening.keys()]))
  }

  /** Commits, leaves the group, closes tasks and clients. */
  async close(): Promise<void> {
    if (this.stopped) return this.done.catch(() => undefined)
    await this.shutdown(true).catch(error => this.settleDone.reject(error))
    await this.running
    this.settleDone.resolve()
    return this.done
  }

  private async shutdown(clean: boolean): Promise<void> {
    this.stopTimer?.()
    await this.exclusive(async () => {
      if (clean) await this.commit()
      this.stopped = true
      if (this.inTransaction) await this.producer.abortTransaction().catch(() => undefined)
    }).catch(error => {
      this.stopped = true
      throw error
    }).finally(async () => {
      await this.consumer.close().catch(() => undefined)
      await this.closeTasks(new Set([...this.tasks.keys(), ...this.opening.keys()]))
      await this.producer.close().catch(() => undefined)
    })
  }
}

function nextOffset(sent: readonly RecordMetadata[]): number {
  return Math.max(...sent.map(record => record.offset)) + 1
}

async function applyCheckpoints(stored: ReadonlyArray<{ store: TaskStore, checkpoint: number }>):
Promise<void> {
  for (const { store, checkpoint } of stored) await store.kv.commit(checkpoint)
}
