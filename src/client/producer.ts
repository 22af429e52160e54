/**
 * The producer (KafkaJS-shaped API over Kafka's producer semantics): `send` partitions records
 * (explicit partition, else the partitioner: murmur2 of the key, sticky for null keys), batches
 * them per partition (record-accumulator.ts) and hands sealed batches to one sender per partition
 * (partition-sender.ts), which keeps at most 5 in flight and retries with the same sequences.
 *
 * Idempotence is on by default: the producer gets a producer id from the broker before its first
 * batch. `acks: 0` resolves `send` as soon as the batch is handed to the transport, with offset
 * -1 (Kafka's "no response"); errors are then not reported.
 */
import { WeirError } from '../errors.ts'
import type { ProduceResult } from '../broker/partition.ts'
import { type BatchAwarePartitioner, defaultPartitioner, type Partitioner } from
  '../broker/partitioner.ts'
import { assert } from '../util/assert.ts'
import type { Clock, Scheduler } from '../util/clock.ts'
import type { RecordHeader, RecordInput } from '../log/record-batch.ts'
import { type PartitionSender as Sender, PartitionSender, type ProducerIdentity } from
  './partition-sender.ts'
import { type ProducerConfig, resolveProducerConfig } from './producer-config.ts'
import { RecordAccumulator, recordSizeEstimate } from './record-accumulator.ts'
import type { Transport } from './transport/transport.ts'
import type { OffsetCommitEntry } from '../group/group-requests.ts'
import type { TopicPartition } from '../group/assignor.ts'
import { type TransactionGroupMetadata, TransactionManager } from './transaction-manager.ts'
import { TopicMetadataCache } from './topic-metadata-cache.ts'

export type Bytes = Buffer | string

export interface Message {
  readonly key?: Bytes | null
  readonly value: Bytes | null
  readonly headers?: Readonly<Record<string, Bytes | null>>
  /** Explicit partition; otherwise the partitioner chooses. */
  readonly partition?: number
  /** CreateTime in ms since the epoch; defaults to the time the batch is sealed. */
  readonly timestamp?: number
}

export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  /** The record's offset, or -1 with `acks: 0`. */
  readonly offset: number
}

/** What `transaction(work)` hands to `work`. */
export interface Transaction {
  send(record: ProducerRecord): Promise<RecordMetadata[]>
  sendOffsets(offsets: readonly OffsetCommitEntry[], group: TransactionGroupMetadata):
  Promise<void>
}

export interface ProducerRecord {
  readonly topic: string
  readonly messages: readonly Message[]
}

function toBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes) : bytes
}

export function toRecordInput(message: Message): RecordInput {
  const key = message.key === undefined || message.key === null ? null : toBuffer(message.key)
  const value = message.value === null ? null : toBuffer(message.value)
  // The common record has no headers and no timestamp: allocate nothing for them (GC pauses
  // are most of the latency tail at moderate rates).
  if (message.headers === undefined && message.timestamp === undefined) return { key, value }
  const headers: RecordHeader[] = []
  for (const [name, header] of Object.entries(message.headers ?? {})) {
    headers.push({ key: name, value: header === null ? null : toBuffer(header) })
  }
  return message.timestamp === undefined ? { key, value, headers }
    : { key, value, headers, timestamp: message.timestamp }
}

/** A send's messages with their partitions (message indexes per partition). */
interface Prepared {
  readonly inputs: readonly RecordInput[]
  readonly byPartition: ReadonlyMap<number, readonly number[]>
  readonly bytes: number
}

/** A send's records in the accumulator: what `appendAndWait` waits for and answers with. */
interface Appended extends Prepared {
  readonly parts: ReadonlyArray<Promise<void>>
  readonly offsets: number[]
}

export class Producer {
  readonly config: ProducerConfig
  private readonly accumulator: RecordAccumulator
  private readonly senders = new Map<string, Sender>()
  private readonly partitioner: Partitioner | BatchAwarePartitioner
  private readonly metadata: TopicMetadataCache
  private identity: ProducerIdentity | undefined
  private identityReady: Promise<void> | undefined
  private bufferedBytes = 0
  private outstanding = new Set<Promise<unknown>>()
  /** Sends are numbered in call order; `appendTurn` is the number allowed to append next. */
  private sendTickets = 0
  private appendTurn = 0
  /** Sends ready before their turn, woken when it comes (see appendAndWait). */
  private readonly waitingTurn = new Map<number, () => void>()
  /** Sends that failed before their turn: their turn passes by itself. */
  private readonly skippedTurns = new Set<number>()
  private flushesInProgress = 0
  private closed = false
  private readonly txn: TransactionManager | undefined

  constructor(
    private readonly transport: Transport,
    config: Partial<ProducerConfig>,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {
    this.config = resolveProducerConfig(config)
    this.txn = this.config.transactionalId === undefined ? undefined
      : new TransactionManager(transport, this.config.transactionalId, this.config, scheduler)
    this.partitioner = this.config.partitioner ?? defaultPartitioner()
    this.metadata = new TopicMetadataCache(transport)
    this.accumulator = new RecordAccumulator(this.config, clock, scheduler,
      (topic, partition, batch) => {
        if ('onBatchSealed' in this.partitioner) this.partitioner.onBatchSealed(topic, partition)
        if (this.config.acks === 0) {
          // Kafka's acks=0: nobody waits for the broker, so there are no offsets and no errors.
          batch.resolve({ baseOffset: -1, lastOffset: -1, duplicate: false })
          const ignore = (): void => undefined
          this.sender(topic, partition).enqueue({ ...batch, resolve: ignore, reject: ignore })
          return
        }
        this.sender(topic, partition).enqueue(batch)
      })
  }

  /** The producer id in use (-1 before the first send or without idempotence). */
  get producerId(): number {
    return this.identity?.producerId ?? -1
  }

  private sender(topic: string, partition: number): Sender {
    const key = `${topic}\u0000${partition}`
    let sender = this.senders.get(key)
    if (sender === undefined) {
      sender = new PartitionSender(topic, partition, this.transport, this.config, this.identity,
        this.clock, this.scheduler)
      this.senders.set(key, sender)
    }
    return sender
  }

  private ensureIdentity(): Promise<void> {
    if (!this.config.idempotent) return Promise.resolve()
    const transaction = this.txn
    if (transaction !== undefined) {
      // The transaction manager owns the id and epoch; senders read them at each batch.
      this.identity ??= {
        get producerId() { return transaction.producerId },
        get producerEpoch() { return transaction.producerEpoch },
        transactional: true,
        // A batch of unknown outcome dooms the transaction (it failed the send, so the
        // transaction can only abort), and the abort moves the epoch on: nothing to renew.
        renew: async () => undefined,
      }
      return Promise.resolve()
    }
    this.identityReady ??= this.transport.initProducerId().then(first => {
      const transport = this.transport
      const current = { ...first }
      this.identity = {
        get producerId() { return current.producerId },
        get producerEpoch() { return current.producerEpoch },
        transactional: false,
        async renew() {
          Object.assign(current, await transport.initProducerId())
        },
      }
    }).catch((error: unknown) => {
      this.identityReady = undefined
      throw error
    })
    return this.identityReady
  }

  /**
   * Sends records to one topic; resolves with each record's offset, in order, once acknowledged.
   * @throws UNKNOWN_TOPIC, UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE, REQUEST_TIMED_OUT,
   *   WEIR_ERR_PRODUCER_BUFFER_FULL, WEIR_ERR_CLIENT_CLOSED, and any broker error of the batch
   */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.closed) throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The producer is closed.')
    this.txn?.checkCanSend()
    // Tracked from the start, so flush() and close() also wait for a send that is still getting
    // its producer id or partition count (Kafka's close waits for every record sent before it).
    const transaction = this.txn
    const sending = transaction === undefined ? this.appendAndWait(record)
      : this.appendAndWait(record).catch((error: unknown) => {
        transaction.fail(error) // the transaction can no longer commit
        throw error
      })
    this.outstanding.add(sending)
    void sending.catch(() => undefined).finally(() => this.outstanding.delete(sending))
    return sending
  }

  private async appendAndWait(record: ProducerRecord): Promise<RecordMetadata[]> {
    // Sends append in the order they were called (Kafka's per-partition ordering promise): each
    // prepares at once (producer id, partition count, AddPartitionsToTxn — concurrent sends
    // share one request), then appends only after the send before it has. Without this, a send
    // whose partition was already in the transaction overtook an earlier one still adding it
    // (found by the test kit).
    // The common case costs nothing: a send ready in its turn appends at once.
    const ticket = this.sendTickets++
    let append: Appended
    try {
      const prepared = await this.prepare(record)
      if (ticket !== this.appendTurn) {
        await new Promise<void>(resolve => this.waitingTurn.set(ticket, resolve))
      }
      append = this.append(record.topic, prepared)
    } finally {
      this.passTurn(ticket)
    }
    await Promise.all(append.parts).finally(() => {
      this.bufferedBytes -= append.bytes
    })
    const { inputs, byPartition, offsets } = append
    const partitions = new Array<number>(inputs.length)
    for (const [partition, indexes] of byPartition) {
      for (const i of indexes) partitions[i] = partition
    }
    return inputs.map((_, i) => ({ topic: record.topic, partition: partitions[i]!,
      offset: offsets[i]! }))
  }

  /** Ends `ticket`'s turn (appended, or failed) and wakes the next send if it is waiting. */
  private passTurn(ticket: number): void {
    if (ticket !== this.appendTurn) {
      this.skippedTurns.add(ticket) // failed before its turn: passes when the turn comes
      return
    }
    this.appendTurn++
    while (this.skippedTurns.delete(this.appendTurn)) this.appendTurn++
    const next = this.waitingTurn.get(this.appendTurn)
    if (next !== undefined) {
      this.waitingTurn.delete(this.appendTurn)
      next()
    }
  }

  /** Where each message goes, with the partitions added to the transaction first. */
  private async prepare(record: ProducerRecord): Promise<Prepared> {
    await this.ensureIdentity()
    const partitionCount = await this.metadata.partitionCount(record.topic)
    const byPartition = new Map<number, number[]>()
    const inputs = record.messages.map(toRecordInput)
    let bytes = 0
    record.messages.forEach((message, i) => {
      const partition = this.choosePartition(record.topic, message, inputs[i]!, partitionCount)
      let indexes = byPartition.get(partition)
      if (indexes === undefined) byPartition.set(partition, indexes = [])
      indexes.push(i)
      bytes += recordSizeEstimate(inputs[i]!)
    })
    if (this.txn !== undefined) {
      await this.txn.addPartitions(record.topic, byPartition.keys())
    }
    return { inputs, byPartition, bytes }
  }

  /** Puts prepared messages into the accumulator; `parts` settle as they are acknowledged. */
  private append(topic: string, { inputs, byPartition, bytes }: Prepared): Appended {
    this.reserveBuffer(bytes)
    const offsets = new Array<number>(inputs.length)
    const parts: Array<Promise<void>> = []
    for (const [partition, indexes] of byPartition) {
      parts.push(...this.appendChunks(topic, partition, indexes, inputs, offsets))
    }
    // A flush is waiting for this send: don't let its batch linger (Kafka's flushInProgress).
    if (this.flushesInProgress > 0) this.accumulator.sealAll()
    return { parts, bytes, inputs, byPartition, offsets }
  }

  private choosePartition(topic: string, message: Message, input: RecordInput,
    partitionCount: number): number {
    const partition = message.partition ?? this.partitioner({ topic, key: input.key ?? null,
      partitionCount })
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
      throw new WeirError('UNKNOWN_TOPIC_OR_PARTITION', `Topic '${topic}' has no partition `
        + `${partition}; it has ${partitionCount}.`)
    }
    return partition
  }

  private reserveBuffer(bytes: number): void {
    if (this.bufferedBytes + bytes > this.config.bufferBytesMax && this.bufferedBytes > 0) {
      throw new WeirError('WEIR_ERR_PRODUCER_BUFFER_FULL', `The producer holds `
        + `${this.bufferedBytes} unacknowledged bytes; adding ${bytes} would pass bufferBytesMax `
        + `(${this.config.bufferBytesMax}). Await earlier sends first.`)
    }
    this.bufferedBytes += bytes
  }

  /** Appends one partition's records in chunks of at most `batchBytes`. */
  private appendChunks(topic: string, partition: number, indexes: readonly number[],
    inputs: readonly RecordInput[], offsets: number[]): Array<Promise<void>> {
    const promises: Array<Promise<void>> = []
    let start = 0
    while (start < indexes.length) {
      let end = start
      let bytes = 0
      do {
        bytes += recordSizeEstimate(inputs[indexes[end]!]!)
        end++
      } while (end < indexes.length && bytes < this.config.batchBytes)
      const chunk = indexes.slice(start, end)
      promises.push(new Promise<void>((resolve, reject) => {
        this.accumulator.append(topic, partition, chunk.map(i => inputs[i]!),
          (result: ProduceResult | undefined, error?: unknown) => {
            if (result === undefined) return reject(error)
            for (let k = 0; k < chunk.length; k++) {
              offsets[chunk[k]!] = result.baseOffset < 0 ? -1 : result.baseOffset + k
            }
            resolve()
          })
      }))
      start = end
    }
    assert(promises.length >= 1, 'every partition with records gets a batch')
    return promises
  }

  /** Sends every open batch now and waits for all outstanding sends. */
  async flush(): Promise<void> {
    this.flushesInProgress++
    try {
      this.accumulator.sealAll()
      await Promise.allSettled([...this.outstanding])
    } finally {
      this.flushesInProgress--
    }
  }

  /**
   * Registers the transactional id with the broker: gets its producer id and a new epoch, which
   * fences every older producer with the same id, after the broker has aborted (or finished
   * committing) whatever such a producer left open. Call once, before the first transaction.
   * @throws INVALID_TXN_STATE without a `transactionalId`
   */
  async initTransactions(): Promise<void> {
    await this.requireTransactional().initTransactions()
  }

  /** Starts a transaction: every send until commit or abort belongs to it. */
  beginTransaction(): void {
    this.requireTransactional().beginTransaction()
  }

  /**
   * Adds partitions to the current transaction before anything is sent to them, in one
   * AddPartitionsToTxn, so that sends to them later do not wait for it (Kafka's producer adds a
   * partition at its first send; a caller that knows its partitions early can start sooner).
   * It need not be awaited: a commit or abort waits for it before it ends the transaction.
   * @throws INVALID_TXN_STATE outside a transaction
   */
  async addPartitionsToTransaction(partitions: readonly TopicPartition[]): Promise<void> {
    const txn = this.requireTransactional()
    txn.checkCanSend()
    await txn.addTopicPartitions(partitions)
  }

  /**
   * Makes consumed offsets (the next offset to read, per partition) part of the transaction:
   * the group's committed offsets move only if the transaction commits. Pass the consumer's
   * `groupMetadata()` so that a consumer of an older generation (a zombie) cannot commit.
   */
  async sendOffsetsToTransaction(offsets: readonly OffsetCommitEntry[],
    group: TransactionGroupMetadata): Promise<void> {
    await this.requireTransactional().sendOffsets(offsets, group)
  }

  /**
   * Sends what is buffered, then commits: resolves once the commit decision is durable (the
   * records and offsets become visible to read_committed readers as the markers land).
   * @throws WEIR_ERR_TRANSACTION_ABORTABLE when a send of the transaction failed (abort),
   *   TRANSACTION_TIMED_OUT (abort), PRODUCER_FENCED (close)
   */
  async commitTransaction(): Promise<void> {
    await this.requireTransactional().end(true, () => this.flush())
  }

  /** Waits for outstanding sends, then aborts: none of the transaction's writes will be read. */
  async abortTransaction(): Promise<void> {
    await this.requireTransactional().end(false, () => this.flush())
  }

  /**
   * Runs `work` in a transaction: commits when it resolves, aborts when it (or the commit)
   * throws, and rethrows. A fenced producer is not aborted (it cannot be): the error is rethrown.
   */
  async transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const manager = this.requireTransactional()
    manager.beginTransaction()
    let result: T
    try {
      result = await work({
        send: record => this.send(record),
        sendOffsets: (offsets, group) => this.sendOffsetsToTransaction(offsets, group),
      })
      await this.commitTransaction()
    } catch (error) {
      if (manager.state !== 'fenced' && manager.state !== 'ready') {
        await this.abortTransaction().catch(() => undefined) // the first error is the story
      }
      throw error
    }
    return result
  }

  private requireTransactional(): TransactionManager {
    if (this.closed) throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The producer is closed.')
    if (this.txn === undefined) {
      throw new WeirError('INVALID_TXN_STATE', 'This producer has no transactionalId; create it '
        + 'with producer({ transactionalId }) to use transactions.')
    }
    return this.txn
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.flush()
    this.closed = true
  }
}
