/**
 * A partition log: a directory of segments with one writer, group commit, reads by offset and by
 * timestamp, retention and (through log-cleaner.ts) compaction. This is the storage engine every
 * later layer stands on; it knows nothing of topics, producers or transactions.
 *
 * Appends are assigned offsets synchronously, in call order, then queued for the single writer.
 * The writer takes every queued batch (group commit), writes them with one vectored write, and
 * under `flush: 'always'` one fdatasync covers them all before their promises resolve.
 *
 * Visibility: readers see batches up to the high watermark. Under `'always'` that is the synced
 * end, so no reader ever sees a record a power failure could take back (which would let offsets be
 * reused for different records). Under `'never'` and `{ intervalMs }` it is the written end.
 *
 * Any I/O failure takes the log offline (WEIR_ERR_LOG_OFFLINE): offsets were already handed out,
 * so the only safe continuation is to reopen and let recovery decide what is on disk.
 *
 * Over 500 lines: the writer, the readers and maintenance all guard the same segment list and
 * offsets (assigned, written, synced); split apart they would have to expose that state.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import { type CancelTimer, type Clock, type Scheduler, systemClock, systemScheduler } from
  '../util/clock.ts'
import type { FileSystem } from '../util/file-system.ts'
import { NodeFileSystem } from '../util/node-file-system.ts'
import { type CompactionResult, compactLog } from './log-cleaner.ts'
import { type ControlMarker, encodeControlBatch } from './control-record.ts'
import { type LogConfig, resolveLogConfig } from './log-config.ts'
import { recoverLog } from './log-recovery.ts'
import { type BatchInfo, LogSegment } from './log-segment.ts'
import { TailCache } from './tail-cache.ts'
import { validateBatch } from './log-validator.ts'
import {
  type BatchHeader, decodeRecords, type EncodeBatchOptions, encodeBatch, forEachBatch,
  type LogRecord, readBatchHeader, recordBodyBytes, type RecordInput, setBaseOffset,
} from './record-batch.ts'
import { writeRecoveryPoint } from './recovery-point-checkpoint.ts'
import { segmentsToDelete } from './retention.ts'
import { INDEX_SUFFIX, LOG_SUFFIX, segmentPath, TIME_INDEX_SUFFIX } from './segment-files.ts'
import { readSegment } from './segment-reader.ts'

export interface PartitionLogOptions {
  readonly directory: string
  readonly config?: Partial<LogConfig>
  readonly fs?: FileSystem
  readonly clock?: Clock
  readonly scheduler?: Scheduler
}

export interface AppendResult {
  readonly baseOffset: number
  readonly lastOffset: number
}

export interface ReadOptions {
  /** Upper bound on bytes returned; the first batch is returned whole even if larger. */
  readonly maxBytes?: number
  /** Exclusive upper bound on batch base offsets (defaults to the high watermark). */
  readonly maxOffset?: number
}

export interface ReadResult {
  /** Whole record batches as stored, back to back; decode with `decodeRecords`/`forEachBatch`. */
  readonly bytes: Buffer
  /** Offset to read from next. */
  readonly nextOffset: number
  readonly highWatermark: number
  readonly logStartOffset: number
}

interface PendingAppend {
  readonly buffer: Buffer
  readonly info: BatchInfo
  readonly resolve: (result: AppendResult) => void
  readonly reject: (error: unknown) => void
}

export class PartitionLog {
  readonly config: LogConfig
  private segments: LogSegment[]
  private pending: PendingAppend[] = []
  private writing = false
  private syncWaiters: Array<{ resolve: () => void, reject: (error: unknown) => void }> = []
  private assignedNextOffset: number
  private writtenNextOffset: number
  private syncedNextOffset: number
  private checkpointedOffset: number
  private failure: WeirError | undefined
  private closing = false
  private rollRequested = false
  private readonly timers: CancelTimer[] = []
  private maintenance: Promise<unknown> = Promise.resolve()
  /** The newest batches of the active segment, for readers at the log end. */
  private readonly tail: TailCache

  private constructor(
    readonly directory: string,
    readonly fs: FileSystem,
    readonly clock: Clock,
    config: LogConfig,
    segments: LogSegment[],
  ) {
    this.config = config
    this.segments = segments
    this.tail = new TailCache(config.tailCacheBytes)
    const end = this.activeSegment.nextOffset
    this.assignedNextOffset = end
    this.writtenNextOffset = end
    this.syncedNextOffset = end
    this.checkpointedOffset = end
  }

  /** Opens (or creates) the log in `directory`, recovering from any crash. */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    const config = resolveLogConfig(options.config)
    const fs = options.fs ?? new NodeFileSystem()
    const clock = options.clock ?? systemClock
    const { segments } = await recoverLog(fs, options.directory, config, clock.nowMs())
    const log = new PartitionLog(options.directory, fs, clock, config, segments)
    log.startTimers(options.scheduler ?? systemScheduler)
    return log
  }

  get logStartOffset(): number {
    return this.segments[0]!.baseOffset
  }

  /** Offset the next append will get. */
  get logEndOffset(): number {
    return this.assignedNextOffset
  }

  /** Everything below this offset is fsynced. */
  get recoveryPoint(): number {
    return this.syncedNextOffset
  }

  /** Readers see batches below this offset (see the file comment). */
  get highWatermark(): number {
    return this.config.flush === 'always' ? this.syncedNextOffset : this.writtenNextOffset
  }

  get segmentCount(): number {
    return this.segments.length
  }

  get sizeBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0)
  }

  get activeBaseOffset(): number {
    return this.activeSegment.baseOffset
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!
  }

  /**
   * Appends one record batch from a producer after validating it (log-validator.ts); the log
   * assigns its offsets. Resolves when the batch is as durable as the flush policy promises.
   * @throws RECORD_LIST_TOO_LARGE, MESSAGE_TOO_LARGE, CORRUPT_MESSAGE, INVALID_RECORD,
   *   UNSUPPORTED_COMPRESSION_TYPE (nothing written), WEIR_ERR_LOG_OFFLINE, WEIR_ERR_LOG_CLOSED
   */
  append(batch: Buffer): Promise<AppendResult> {
    try {
      this.checkWritable()
      return this.enqueue(batch, validateBatch(batch, this.config))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Encodes `records` into one batch and appends it (the embedded producer's path). */
  appendRecords(records: readonly RecordInput[],
    options: Omit<EncodeBatchOptions, 'timestamp' | 'baseOffset' | 'offsetDeltas'>
    & { timestamp?: number } = {}): Promise<AppendResult> {
    try {
      this.checkWritable()
      if (records.length === 0) {
        throw new WeirError('INVALID_RECORD', 'An append needs at least one record.')
      }
      const timestamp = options.timestamp ?? this.clock.nowMs()
      const batch = encodeBatch(records, { ...options, timestamp })
      // Our own encoder produced it: only the limits need checking, not the framing.
      this.checkLimits(batch, records, timestamp)
      return this.enqueue(batch, readBatchHeader(batch, 0))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Appends a transaction marker (a control batch, control-record.ts) for `producerId`. Only the
   * transaction coordinator writes these; `append` refuses control batches from producers.
   */
  appendMarker(marker: ControlMarker, producer: { producerId: number, producerEpoch: number }):
  Promise<AppendResult> {
    try {
      this.checkWritable()
      const batch = encodeControlBatch(marker, { ...producer, timestamp: this.clock.nowMs() })
      return this.enqueue(batch, readBatchHeader(batch, 0))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  private checkLimits(batch: Buffer, records: readonly RecordInput[], timestamp: number): void {
    if (batch.length > this.config.batchBytesMax) {
      throw new WeirError('RECORD_LIST_TOO_LARGE', `A batch of ${batch.length} bytes exceeds `
        + `batchBytesMax (${this.config.batchBytesMax}); append fewer records at a time.`)
    }
    const max = this.config.recordBytesMax
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!
      // Cheap bound first: a body adds at most 31 bytes of framing plus 10 per header.
      let payload = (record.key?.length ?? 0) + (record.value?.length ?? 0) + 31
      const headers = record.headers
      if (headers !== undefined) {
        for (const h of headers) payload += h.key.length * 3 + (h.value?.length ?? 0) + 10
      }
      if (payload <= max) continue
      const bytes = recordBodyBytes(record, { offsetDelta: i,
        timestampDelta: (record.timestamp ?? timestamp) - readBatchHeader(batch, 0).baseTimestamp })
      if (bytes > max) {
        throw new WeirError('MESSAGE_TOO_LARGE', `A record of ${bytes} bytes exceeds `
          + `recordBytesMax (${this.config.recordBytesMax}); make it smaller or raise the limit.`)
      }
    }
  }

  private enqueue(batch: Buffer, header: BatchHeader): Promise<AppendResult> {
    const baseOffset = this.assignedNextOffset
    const lastOffset = baseOffset + header.lastOffsetDelta
    setBaseOffset(batch, 0, baseOffset)
    this.assignedNextOffset = lastOffset + 1
    const info = { baseOffset, lastOffset, maxTimestamp: header.maxTimestamp,
      sizeBytes: batch.length }
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ buffer: batch, info, resolve, reject })
      this.kickWriter()
    })
  }

  private checkWritable(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.closing) {
      throw new WeirError('WEIR_ERR_LOG_CLOSED', `Log ${this.directory} is closed; reopen it.`)
    }
  }

  private kickWriter(): void {
    if (this.writing) return
    this.writing = true
    void this.drain().finally(() => {
      this.writing = false
      if (this.pending.length > 0 || this.syncWaiters.length > 0) this.kickWriter()
    })
  }

  /** The single writer: write queued batches, roll when needed, sync, acknowledge. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 || this.syncWaiters.length > 0) {
      const group = this.pending.splice(0, this.config.groupCommitBatchesMax)
      const waiters = this.syncWaiters.splice(0)
      try {
        await this.writeGroup(group)
        if (this.rollRequested && this.activeSegment.sizeBytes > 0) await this.rollSegment()
        this.rollRequested = false
        if (this.config.flush === 'always' || waiters.length > 0) await this.syncActive()
      } catch (error) {
        this.goOffline(error, [...group, ...this.pending.splice(0)], waiters)
        return
      }
      for (const append of group) {
        append.resolve({ baseOffset: append.info.baseOffset, lastOffset: append.info.lastOffset })
      }
      for (const waiter of waiters) waiter.resolve()
    }
  }

  private async writeGroup(group: readonly PendingAppend[]): Promise<void> {
    let start = 0
    while (start < group.length) {
      let end = start
      if (this.shouldRoll(group[start]!.info.sizeBytes)) await this.rollSegment()
      // segmentMs counts from a segment's first append, not from its creation: an empty segment
      // made by roll() or open may wait a long time for that append (Kafka: segment.ms).
      if (this.activeSegment.sizeBytes === 0) this.activeSegment.rollStartMs = this.clock.nowMs()
      let bytes = this.activeSegment.sizeBytes
      while (end < group.length && bytes + group[end]!.info.sizeBytes
        <= this.config.segmentBytesMax) {
        bytes += group[end]!.info.sizeBytes
        end++
      }
      assert(end > start, 'a fresh segment holds at least one batch')
      const run = group.slice(start, end)
      await this.activeSegment.append(run.map(p => p.buffer), run.map(p => p.info),
        this.config.indexIntervalBytes)
      this.writtenNextOffset = run[run.length - 1]!.info.lastOffset + 1
      for (const { buffer, info } of run) this.tail.add(buffer, info.baseOffset, info.lastOffset)
      start = end
    }
  }

  private shouldRoll(nextBatchBytes: number): boolean {
    const active = this.activeSegment
    if (active.sizeBytes === 0) return false
    if (active.sizeBytes + nextBatchBytes > this.config.segmentBytesMax) return true
    return this.clock.nowMs() - active.rollStartMs >= this.config.segmentMs
  }

  /**
   * Closes the active segment and starts a new one at the log end. The old segment is synced and
   * its indexes written before the new file exists, so the existence of a newer segment proves
   * every older one is whole on disk (recovery relies on this).
   */
  private async rollSegment(): Promise<void> {
    const old = this.activeSegment
    await old.datasync()
    this.syncedNextOffset = this.writtenNextOffset
    await old.writeIndexFiles()
    const next = await LogSegment.create(this.fs, this.directory, this.writtenNextOffset,
      this.clock.nowMs())
    await this.fs.syncDirectory(this.directory)
    this.segments = [...this.segments, next]
    this.tail.clear()
  }

  private async syncActive(): Promise<void> {
    const target = this.writtenNextOffset
    await this.activeSegment.datasync()
    this.syncedNextOffset = target
  }

  private goOffline(error: unknown, appends: readonly PendingAppend[],
    waiters: ReadonlyArray<{ reject: (error: unknown) => void }>): void {
    this.failure = WeirError.is(error) ? error : new WeirError('WEIR_ERR_LOG_OFFLINE',
      `Log ${this.directory} went offline after an I/O error; reopen it to recover.`,
      { cause: error })
    for (const append of appends) append.reject(this.failure)
    for (const waiter of waiters) waiter.reject(this.failure)
  }

  /** Resolves once everything appended so far is fsynced, whatever the flush policy. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.syncWaiters.push({ resolve, reject })
      this.kickWriter()
    })
  }

  /** Forces the active segment to roll (after writing what is queued). */
  roll(): Promise<void> {
    this.rollRequested = true
    return this.flush()
  }

  /**
   * Reads whole batches starting with the one that holds `offset`.
   * @throws OFFSET_OUT_OF_RANGE below the log start or above the log end;
   *   WEIR_ERR_LOG_CORRUPT when a stored batch fails its CRC (it is never returned).
   */
  async read(offset: number, options: ReadOptions = {}): Promise<ReadResult> {
    if (this.failure !== undefined) throw this.failure
    const highWatermark = this.highWatermark
    const logStartOffset = this.logStartOffset
    if (!Number.isSafeInteger(offset) || offset < logStartOffset
      || offset > this.assignedNextOffset) {
      throw new WeirError('OFFSET_OUT_OF_RANGE', `Offset ${offset} is outside the log `
        + `[${logStartOffset}, ${this.assignedNextOffset}]; seek to the log start or end.`)
    }
    const maxOffset = Math.min(options.maxOffset ?? highWatermark, highWatermark)
    const maxBytes = Math.min(options.maxBytes ?? 1024 * 1024, this.config.readBytesMax)
    const cached = this.tail.read(offset, maxOffset, maxBytes)
    if (cached !== undefined) return { ...cached, highWatermark, logStartOffset }
    const segments = this.segments
    let index = this.segmentIndexFor(offset, segments)
    let from = offset
    while (index < segments.length && from < maxOffset) {
      const segment = segments[index]!
      segment.acquire()
      const result = await readSegment(segment, { offset: from, maxBytes, maxOffset,
        indexIntervalBytes: this.config.indexIntervalBytes }).finally(() => segment.release())
      if (result.bytes.length > 0) {
        return { bytes: result.bytes, nextOffset: result.nextOffset, highWatermark,
          logStartOffset }
      }
      // Nothing left here (compaction can leave a segment's tail empty): go on to the next one.
      index++
      from = Math.max(from, segments[index]?.baseOffset ?? from)
    }
    return { bytes: Buffer.alloc(0), nextOffset: Math.max(offset, Math.min(from, maxOffset)),
      highWatermark, logStartOffset }
  }

  /** Reads and decodes records from `offset` (skipping earlier records of the first batch). */
  async readRecords(offset: number, options: ReadOptions = {}):
  Promise<{ records: LogRecord[], nextOffset: number }> {
    const result = await this.read(offset, options)
    let records: LogRecord[] = []
    forEachBatch(result.bytes, position => {
      const decoded = decodeRecords(result.bytes, position)
      if (records.length === 0 && (decoded[0]?.offset ?? offset) >= offset) records = decoded
      else for (const record of decoded) if (record.offset >= offset) records.push(record)
    })
    return { records, nextOffset: result.nextOffset }
  }

  /**
   * The offset of the first record whose timestamp is ≥ `timestamp` (Kafka's ListOffsets by
   * time), or undefined when no record is that recent.
   */
  async offsetForTimestamp(timestamp: number): Promise<number | undefined> {
    for (const segment of this.segments) {
      if (segment.maxTimestamp < timestamp) continue
      let offset = Math.max(segment.timeIndex.scanStart(timestamp), this.logStartOffset)
      while (offset < Math.min(segment.nextOffset, this.highWatermark)) {
        const { records, nextOffset } = await this.readRecords(offset)
        const found = records.find(record => record.timestamp >= timestamp)
        if (found !== undefined) return found.offset
        if (nextOffset <= offset) break
        offset = nextOffset
      }
    }
    return undefined
  }

  private segmentIndexFor(offset: number, segments: readonly LogSegment[]): number {
    let low = 0
    let high = segments.length - 1
    while (low < high) {
      const middle = (low + high + 1) >>> 1
      if (segments[middle]!.baseOffset <= offset) low = middle
      else high = middle - 1
    }
    return low
  }

  /**
   * Applies retention: deletes the oldest closed segments past `retentionMs` or beyond
   * `retentionBytes`, moving the log start offset forward. Returns how many were deleted.
   */
  deleteOldSegments(): Promise<number> {
    // Compacted logs are cleaned, not deleted by age or size (Kafka's 'compact' without 'delete').
    if (this.config.cleanupPolicy === 'compact') return Promise.resolve(0)
    return this.exclusive(async () => {
      const count = segmentsToDelete(this.segments, this.config, this.clock.nowMs())
      if (count === 0) return 0
      const doomed = this.segments.slice(0, count)
      this.segments = this.segments.slice(count)
      await this.deleteSegmentFiles(doomed)
      return count
    })
  }

  /**
   * Unlinks the files of segments already removed from the segment list, oldest first, syncing
   * the directory after each: unsynced unlinks may persist in any order, and an older segment
   * surviving a newer one's deletion would leave a hole in the log after a power failure.
   */
  async deleteSegmentFiles(doomed: readonly LogSegment[]): Promise<void> {
    for (const segment of doomed) {
      await segment.retire()
      for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
        await this.fs.unlink(segmentPath(this.directory, segment.baseOffset, suffix))
      }
      await this.fs.syncDirectory(this.directory)
    }
  }

  /** @internal Closed segments, oldest first, for the cleaner. */
  closedSegments(): readonly LogSegment[] {
    return this.segments.slice(0, -1)
  }

  /** @internal Replaces a run of closed segments by one (compaction's swap). */
  replaceSegments(replaced: readonly LogSegment[], replacement: LogSegment): void {
    const first = this.segments.indexOf(replaced[0]!)
    assert(first >= 0, 'replaced segments must be in the log')
    replaced.forEach((segment, i) => assert(this.segments[first + i] === segment,
      'replaced segments must be a contiguous run'))
    assert(first + replaced.length < this.segments.length, 'the active segment is never replaced')
    this.segments = [...this.segments.slice(0, first), replacement,
      ...this.segments.slice(first + replaced.length)]
  }

  /** Runs maintenance (retention, compaction, roll) one at a time. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(task)
    this.maintenance = run.catch(() => undefined)
    return run
  }

  /**
   * One compaction pass (log-cleaner.ts) for `cleanupPolicy: 'compact'` logs. Appends and reads
   * go on meanwhile; only other maintenance waits.
   */
  compact(): Promise<CompactionResult> {
    if (this.config.cleanupPolicy !== 'compact') {
      return Promise.reject(new WeirError('INVALID_CONFIG',
        `Log ${this.directory} has cleanupPolicy 'delete'; set 'compact' to compact it.`))
    }
    return this.exclusive(() => compactLog(this, this.clock.nowMs()))
  }

  /** Writes the recovery-point checkpoint if the synced end moved since the last one. */
  async checkpointRecoveryPoint(): Promise<void> {
    const offset = this.syncedNextOffset
    if (offset === this.checkpointedOffset) return
    await this.exclusive(() => writeRecoveryPoint(this.fs, this.directory, offset))
    this.checkpointedOffset = Math.max(this.checkpointedOffset, offset)
  }

  private startTimers(scheduler: Scheduler): void {
    const flush = this.config.flush
    const swallow = (): void => undefined // failures surface on the next append or read
    if (typeof flush === 'object') {
      this.timers.push(scheduler.every(flush.intervalMs, () => {
        if (this.writtenNextOffset > this.syncedNextOffset) this.flush().catch(swallow)
      }))
    }
    const whileOpen = (task: () => Promise<unknown>) => () => {
      if (this.failure === undefined && !this.closing) task().catch(swallow)
    }
    this.timers.push(scheduler.every(this.config.recoveryPointCheckpointIntervalMs,
      whileOpen(() => this.checkpointRecoveryPoint())))
    this.timers.push(scheduler.every(this.config.retentionCheckIntervalMs,
      whileOpen(() => this.deleteOldSegments())))
    if (this.config.cleanupPolicy === 'compact') {
      this.timers.push(scheduler.every(this.config.compactionIntervalMs,
        whileOpen(() => this.compact())))
    }
  }

  /** Writes what is queued, syncs, writes indexes and the checkpoint, closes the files. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    for (const cancel of this.timers) cancel()
    if (this.failure === undefined) {
      await this.flush()
      await this.maintenance
      await this.activeSegment.writeIndexFiles()
      await writeRecoveryPoint(this.fs, this.directory, this.syncedNextOffset)
    }
    await Promise.all(this.segments.map(segment => segment.close()))
  }
}
