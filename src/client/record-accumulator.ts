/**
 * Collects records per partition into batches (Kafka's RecordAccumulator). A batch is sealed when
 * its records reach `batchBytes` or `lingerMs` after its first record (with `lingerMs: 0`, at the
 * end of the current synchronous run, so records sent together travel together). Sealed batches
 * go to the partition's sender.
 *
 * Each caller's records form a `part` of a batch; the part learns its offsets (base offset + its
 * index in the batch) when the batch is acknowledged.
 */
import type { ProduceResult } from '../broker/partition.ts'
import type { CancelTimer, Clock, Scheduler } from '../util/clock.ts'
import type { RecordInput } from '../log/record-batch.ts'
import type { SealedBatch } from './partition-sender.ts'

export interface BatchPart {
  readonly startIndex: number
  readonly count: number
  readonly done: (result: ProduceResult | undefined, error?: unknown) => void
}

interface OpenBatch {
  readonly key: string
  readonly topic: string
  readonly partition: number
  readonly records: RecordInput[]
  readonly parts: BatchPart[]
  readonly createdMs: number
  bytes: number
  cancelLinger: CancelTimer | undefined
}

export type BatchSink = (topic: string, partition: number, batch: SealedBatch,
  parts: readonly BatchPart[]) => void

/** Rough encoded size of a record, for batch sizing only (framing is ~20 bytes). */
export function recordSizeEstimate(record: RecordInput): number {
  let bytes = 20 + (record.key?.length ?? 0) + (record.value?.length ?? 0)
  for (const header of record.headers ?? []) bytes += header.key.length + (header.value?.length
    ?? 0) + 4
  return bytes
}

export class RecordAccumulator {
  private readonly open = new Map<string, OpenBatch>()

  constructor(
    private readonly options: { lingerMs: number, batchBytes: number },
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
    private readonly sink: BatchSink,
  ) {}

  /** Adds records (all for one partition) as one part; `done` is called once for the part. */
  append(topic: string, partition: number, records: readonly RecordInput[],
    done: BatchPart['done']): void {
    const key = `${topic}\u0000${partition}`
    let batch = this.open.get(key)
    if (batch === undefined) batch = this.create(key, topic, partition)
    batch.parts.push({ startIndex: batch.records.length, count: records.length, done })
    for (const record of records) {
      batch.records.push(record)
      batch.bytes += recordSizeEstimate(record)
    }
    if (batch.bytes >= this.options.batchBytes) this.seal(batch)
  }

  private create(key: string, topic: string, partition: number): OpenBatch {
    const batch: OpenBatch = { key, topic, partition, records: [], parts: [], bytes: 0,
      createdMs: this.clock.nowMs(), cancelLinger: undefined }
    this.open.set(key, batch)
    if (this.options.lingerMs === 0) {
      queueMicrotask(() => this.seal(batch))
    } else {
      batch.cancelLinger = this.scheduler.after(this.options.lingerMs, () => this.seal(batch))
    }
    return batch
  }

  private seal(batch: OpenBatch): void {
    if (this.open.get(batch.key) !== batch) return // already sealed
    this.open.delete(batch.key)
    batch.cancelLinger?.()
    const parts = batch.parts
    const sealed: SealedBatch = {
      records: batch.records, timestamp: this.clock.nowMs(), createdMs: batch.createdMs,
      resolve: result => {
        for (const part of parts) {
          // Each part learns its own first offset (-1 stays -1: acks 0 has no offsets).
          const shift = result.baseOffset < 0 ? 0 : part.startIndex
          part.done({ ...result, baseOffset: result.baseOffset + shift })
        }
      },
      reject: error => { for (const part of parts) part.done(undefined, error) },
    }
    this.sink(batch.topic, batch.partition, sealed, parts)
  }

  /** Seals every open batch now (flush, close). */
  sealAll(): void {
    for (const batch of [...this.open.values()]) this.seal(batch)
  }
}
