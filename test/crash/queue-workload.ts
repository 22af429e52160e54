/**
 * A Jepsen queue workload (jepsen.tests.kafka; reliability.md R1) run against a Weir server over
 * HTTP, recorded with the kit's `HistoryRecorder` for `checkQueueHistory`.
 *
 * Each worker is a client that runs random operations one at a time:
 * - `send`: one unique value to a chosen partition, through an idempotent producer;
 * - `poll`: one batch from a read_committed consumer assigned both partitions (Jepsen's
 *   `assign` mode: a consumer's reads must not skip);
 * - `txn`: 1–3 sends and sometimes a poll in one transaction of a transactional producer,
 *   committed; or aborted on purpose (one in five), or left open by a client that dies and is
 *   replaced by one with the same transactional id (one in ten).
 *
 * Keys of the history are partitions (`<topic>/<n>`), values unique integers, as Jepsen's are.
 * After an operation that is not `ok` the worker goes on as a new process (Jepsen's rule: its
 * client's state is unknown) and, when the consumer may have moved (a poll that failed, a
 * transaction that read and aborted), says so with an `assign` marker; after an unknown outcome
 * it also replaces the client. `finalPolls` then reads every partition to its end with fresh
 * consumers (Jepsen's healed final-poll phase), so a committed write nobody read is `unseen`.
 *
 * A poll waits at most `pollWaitMs`: the consumer's next() keeps waiting while the server is
 * down, so a poll that times out is recorded `ok` with nothing read, and the next poll of the
 * process takes the batch that next() later hands out — none is dropped between two polls.
 */
import type { ConsumerBatch } from '../../src/client/fetcher.ts'
import type { Consumer } from '../../src/client/consumer.ts'
import type { Producer } from '../../src/client/producer.ts'
import type { Weir } from '../../src/client/weir.ts'
import {
  HistoryRecorder, type PolledKey, type TxnMicroResult,
} from '../../src/testing/history.ts'
import { CrashRandom } from './crash-child.ts'

export interface QueueWorkloadOptions {
  readonly topic: string
  readonly partitions: number
  readonly workers: number
  readonly opsPerWorker: number
  readonly seed: number
  /** The longest a poll waits for a batch (default 100 ms). */
  readonly pollWaitMs?: number
  /** Called after each operation, with the number done by all workers. */
  readonly onOperation?: (done: number) => void
}

type Recorder = HistoryRecorder<string, number>
type Drawn = { readonly key: string, readonly partition: number, readonly value: number }
type TxnOp = { readonly f: 'send', readonly key: string, readonly value: number }
  | { readonly f: 'poll' }
type TxnEnd = 'commit' | 'abort' | 'crash'
type TxnOutcome = { readonly type: 'ok', readonly results: TxnMicroResult<string, number>[] }
  | { readonly type: 'fail' | 'info', readonly error: unknown }
type Next = Promise<IteratorResult<ConsumerBatch, undefined>>

/** A consumer with the batch it was asked for and has not handed out yet. */
interface Reader {
  readonly consumer: Consumer
  pending: Next | undefined
}

export async function runQueueWorkload(weir: Weir, recorder: Recorder,
  options: QueueWorkloadOptions): Promise<void> {
  let done = 0
  const counter = { next: 0 }
  await Promise.all(Array.from({ length: options.workers }, (_, worker) =>
    new Worker(weir, recorder, options, worker, counter).run(() => {
      options.onOperation?.(++done)
    })))
}

/**
 * Reads every partition with a fresh read_committed consumer up to the high watermark it has
 * when the workload is over. Not to the last stable offset: markers of the last transactions
 * may still be on their way (a commit returns once its decision is durable), and a read that
 * stopped below them would leave committed writes unread. The read_committed position passes
 * the high watermark only once everything below it is decided.
 */
export async function finalPolls(weir: Weir, recorder: Recorder, topic: string,
  partitions: number, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  for (let partition = 0; partition < partitions; partition++) {
    const [end] = await weir.transport.listOffsets([{ topic, partition, spec: 'latest',
      isolationLevel: 'read_uncommitted' }])
    const reader = await newReader(weir, topic, [partition])
    const process = `final-${partition}`
    recorder.invoke(process, { f: 'assign', keys: [`${topic}/${partition}`] }).ok()
    try {
      while ((reader.consumer.position({ topic, partition }) ?? 0) < end!.offset) {
        if (Date.now() > deadline) throw new Error(`final poll of ${topic}/${partition} stuck`)
        const poll = recorder.invoke(process, { f: 'poll' })
        poll.ok(await pollOnce(reader, topic, 300))
      }
    } finally {
      await reader.consumer.close()
    }
  }
}

class Worker {
  private generation = 0
  private readonly random: CrashRandom
  private producer: Producer
  private txnProducer: Producer | undefined
  private reader: Reader | undefined

  constructor(private readonly weir: Weir, private readonly recorder: Recorder,
    private readonly options: QueueWorkloadOptions, private readonly id: number,
    private readonly counter: { next: number }) {
    this.random = new CrashRandom(options.seed + id)
    this.producer = weir.producer({ idempotent: true, acks: 'all', retries: 100,
      retryBackoffMs: 20, lingerMs: 0 })
  }

  private get process(): string {
    return `${this.id}.${this.generation}`
  }

  async run(onOperation: () => void): Promise<void> {
    try {
      this.reader = await newReader(this.weir, this.options.topic, this.allPartitions())
      for (let op = 0; op < this.options.opsPerWorker; op++) {
        const roll = this.random.below(10)
        if (roll < 4) await this.send()
        else if (roll < 7) await this.poll()
        else await this.txn()
        onOperation()
      }
    } finally {
      await this.producer.close().catch(() => undefined)
      await this.reader?.consumer.close().catch(() => undefined)
      await this.replaceTransactional()
    }
    // A transaction whose end was unknown may still be open; a last initTransactions aborts
    // it, or the final polls would stop at its first offset (the last stable offset).
    const closer = await this.transactional()
    await closer.close()
  }

  private async send(): Promise<void> {
    const { key, partition, value } = this.draw()
    const pending = this.recorder.invoke(this.process, { f: 'send', key, value })
    try {
      const [sent] = await this.producer.send({ topic: this.options.topic,
        messages: [{ partition, value: String(value) }] })
      pending.ok({ offset: sent!.offset })
    } catch (error) {
      pending.error(error)
      this.generation++
    }
  }

  private async poll(): Promise<void> {
    const reader = this.reader!
    const pending = this.recorder.invoke(this.process, { f: 'poll' })
    try {
      pending.ok(await pollOnce(reader, this.options.topic, this.options.pollWaitMs ?? 100))
    } catch (error) {
      pending.error(error)
      await this.replaceReader()
    }
  }

  private async txn(): Promise<void> {
    const sends = Array.from({ length: this.random.between(1, 3) }, () => this.draw())
    const pollAt = this.random.below(2) === 0 ? this.random.below(sends.length + 1) : -1
    // Some are aborted, or left open by a client that dies: read_committed consumers must
    // never see their values.
    const roll = this.random.below(10)
    const end: TxnEnd = roll < 2 ? 'abort' : roll < 3 ? 'crash' : 'commit'
    const ops: TxnOp[] = sends.map(({ key, value }) => ({ f: 'send', key, value }))
    if (pollAt >= 0) ops.splice(pollAt, 0, { f: 'poll' })
    const pending = this.recorder.invoke(this.process, { f: 'txn', ops })
    const outcome = await this.attemptTxn(ops, sends, end)
      .catch((error: unknown) => this.abandonTxn(error))
    if (outcome.type === 'ok') return pending.ok(outcome.results)
    if (outcome.type === 'fail') pending.fail(outcome.error)
    else pending.info(outcome.error)
    if (outcome.type === 'info') await this.replaceTransactional()
    // A poll inside it moved the consumer past records no ok poll will have read.
    if (pollAt >= 0 || outcome.type === 'info') await this.replaceReader()
    else this.generation++
  }

  private async attemptTxn(ops: readonly TxnOp[], sends: readonly Drawn[], end: TxnEnd):
  Promise<TxnOutcome> {
    const producer = await this.transactional()
    producer.beginTransaction()
    const results: TxnMicroResult<string, number>[] = []
    for (const op of ops) {
      if (op.f === 'poll') {
        results.push(await pollOnce(this.reader!, this.options.topic, 50))
        continue
      }
      const { partition } = sends.find(send => send.value === op.value)!
      const [sent] = await producer.send({ topic: this.options.topic,
        messages: [{ partition, value: String(op.value) }] })
      results.push({ offset: sent!.offset })
    }
    if (end === 'abort') {
      await producer.abortTransaction()
      return { type: 'fail', error: undefined }
    }
    if (end === 'crash') {
      // The client dies with its transaction open (Jepsen's crashed clients): its successor's
      // initTransactions fences it and aborts what it left, so once that returns the
      // transaction is definitely not applied.
      this.txnProducer = undefined
      await this.transactional()
      return { type: 'fail', error: new Error('client crashed before commit') }
    }
    await producer.commitTransaction()
    return { type: 'ok', results }
  }

  /** Aborted means definitely not applied; if even the abort fails, nobody knows. */
  private async abandonTxn(error: unknown): Promise<TxnOutcome> {
    const aborted = await this.txnProducer?.abortTransaction().then(() => true, () => false)
    return { type: aborted === true ? 'fail' : 'info', error }
  }

  /** A fresh value for a random partition. */
  private draw(): Drawn {
    const partition = this.random.below(this.options.partitions)
    return { key: `${this.options.topic}/${partition}`, partition, value: this.counter.next++ }
  }

  private allPartitions(): number[] {
    return Array.from({ length: this.options.partitions }, (_, partition) => partition)
  }

  private async transactional(): Promise<Producer> {
    if (this.txnProducer !== undefined) return this.txnProducer
    const producer = this.weir.producer({ transactionalId: `queue-worker-${this.id}`,
      acks: 'all', retries: 100, retryBackoffMs: 20, lingerMs: 0 })
    this.txnProducer = producer
    await producer.initTransactions()
    return producer
  }

  private async replaceTransactional(): Promise<void> {
    await this.txnProducer?.close().catch(() => undefined)
    this.txnProducer = undefined
  }

  /** A new process with a new consumer, whose position starts over (an `assign` marker). */
  private async replaceReader(): Promise<void> {
    await this.reader?.consumer.close().catch(() => undefined)
    this.generation++
    this.reader = await newReader(this.weir, this.options.topic, this.allPartitions())
    this.recorder.invoke(this.process, { f: 'assign',
      keys: this.allPartitions().map(partition => `${this.options.topic}/${partition}`) }).ok()
  }
}

/**
 * A read_committed consumer of `partitions` from their start. Assigning looks the start offsets
 * up, which fails while the server is down: it is tried again until `deadlineMs` passes.
 */
async function newReader(weir: Weir, topic: string, partitions: readonly number[],
  deadlineMs = 30_000): Promise<Reader> {
  const consumer = weir.consumer({ autoOffsetReset: 'earliest',
    isolationLevel: 'read_committed', maxWaitMs: 50 })
  const deadline = Date.now() + deadlineMs
  for (;;) {
    try {
      await consumer.assign(partitions.map(partition => ({ topic, partition })))
      return { consumer, pending: undefined }
    } catch (error) {
      if (Date.now() > deadline) {
        await consumer.close().catch(() => undefined)
        throw error
      }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}

/** One batch, or nothing if none comes within `waitMs` (the request stays out for next time). */
async function pollOnce(reader: Reader, topic: string, waitMs: number):
Promise<PolledKey<string, number>[]> {
  const next = reader.pending ??= reader.consumer.next()
  next.catch(() => undefined) // rejected after a timeout: the next poll awaits it and reports it
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>(resolve => {
    timer = setTimeout(() => resolve(undefined), waitMs)
  })
  const result = await Promise.race([next, timeout]).finally(() => clearTimeout(timer))
  if (result === undefined) return []
  reader.pending = undefined
  if (result.done === true) return []
  const batch = result.value
  return [{ key: `${topic}/${batch.partition}`, records: batch.records.map(record =>
    ({ offset: record.offset, value: Number(record.value!.toString()) })) }]
}
