/**
 * One segment of a partition log: a `.log` file of record batches plus its sparse offset and time
 * indexes, kept in memory and written to `.index`/`.timeindex` when the segment rolls or the log
 * closes. The segment knows byte positions and offsets; it does not decide durability or roll
 * policy (partition-log.ts does) and does not validate recovery (log-recovery.ts does).
 *
 * Invariant: batches in the file are whole, back to back, with strictly increasing offsets, and
 * `sizeBytes` is the end of the last whole batch.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { FileHandle, FileSystem } from '../util/file-system.ts'
import { decodeIndexFile, encodeIndexFile } from './index-file.ts'
import { OFFSET_INDEX_ENTRY_BYTES, OffsetIndex } from './offset-index.ts'
import { BATCH_HEADER_BYTES, batchDefect, batchSizeAt } from './record-batch.ts'
import { INDEX_SUFFIX, LOG_SUFFIX, segmentPath, TIME_INDEX_SUFFIX } from './segment-files.ts'
import { TIME_INDEX_ENTRY_BYTES, TimeIndex } from './time-index.ts'
import { readInt64 } from '../util/varint.ts'

/**
 * Writes up to this size go to the page cache on the calling thread (FileHandle.writevSync): a
 * few µs, against a worker-thread round trip that costs tens of µs of CPU and as much latency on
 * a small VM (bench/README.md). Larger ones stay off the event loop.
 */
const SYNC_WRITE_BYTES_MAX = 64 * 1024

/** What the segment needs to know about a batch it stores. */
export interface BatchInfo {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly maxTimestamp: number
  readonly sizeBytes: number
}

/** How far a forward scan got and why it stopped early, if it did. */
export interface ScanResult {
  /** Byte position after the last whole valid batch. */
  readonly validBytes: number
  readonly nextOffset: number
  readonly defect: string | undefined
}

const SCAN_CHUNK_BYTES = 1024 * 1024

export class LogSegment {
  offsetIndex: OffsetIndex
  timeIndex: TimeIndex
  sizeBytes = 0
  nextOffset: number
  maxTimestamp = -1
  /** Clock time the segment started taking appends in this process (roll by age). */
  rollStartMs: number
  private bytesSinceIndexEntry = 0
  private closed = false
  private retired = false
  private readers = 0

  private constructor(
    readonly fs: FileSystem,
    readonly directory: string,
    readonly baseOffset: number,
    readonly file: FileHandle,
    nowMs: number,
  ) {
    this.offsetIndex = new OffsetIndex(baseOffset)
    this.timeIndex = new TimeIndex(baseOffset)
    this.nextOffset = baseOffset
    this.rollStartMs = nowMs
  }

  get path(): string {
    return segmentPath(this.directory, this.baseOffset, LOG_SUFFIX)
  }

  /** Creates an empty segment file. The caller syncs the directory to make it durable. */
  static async create(fs: FileSystem, directory: string, baseOffset: number, nowMs: number):
  Promise<LogSegment> {
    const path = segmentPath(directory, baseOffset, LOG_SUFFIX)
    const file = await fs.open(path, 'create')
    await file.truncate(0)
    return new LogSegment(fs, directory, baseOffset, file, nowMs)
  }

  /** Opens an existing segment without reading it; call `loadIndexes` or `rebuild` next. */
  static async open(fs: FileSystem, directory: string, baseOffset: number, nowMs: number):
  Promise<LogSegment> {
    const file = await fs.open(segmentPath(directory, baseOffset, LOG_SUFFIX), 'readWrite')
    const segment = new LogSegment(fs, directory, baseOffset, file, nowMs)
    segment.sizeBytes = await file.size()
    return segment
  }

  /**
   * Records a batch now stored at byte `position`: an index entry for the first batch and then
   * one per `indexIntervalBytes` of log, and the segment's end, next offset and max timestamp.
   */
  track(batch: BatchInfo, position: number, indexIntervalBytes: number): void {
    assert(batch.baseOffset >= this.nextOffset, 'segment offsets must increase')
    assert(position === this.sizeBytes, 'batches are tracked in file order')
    if (position === 0 || this.bytesSinceIndexEntry >= indexIntervalBytes) {
      if (position > 0) this.offsetIndex.append(batch.baseOffset, position)
      this.timeIndex.maybeAppend(Math.max(this.maxTimestamp, batch.maxTimestamp),
        batch.baseOffset)
      this.bytesSinceIndexEntry = 0
    }
    this.bytesSinceIndexEntry += batch.sizeBytes
    this.sizeBytes = position + batch.sizeBytes
    this.nextOffset = batch.lastOffset + 1
    if (batch.maxTimestamp > this.maxTimestamp) this.maxTimestamp = batch.maxTimestamp
  }

  /** Writes whole batches at the end of the file and indexes them. */
  async append(buffers: readonly Buffer[], batches: readonly BatchInfo[],
    indexIntervalBytes: number): Promise<void> {
    this.checkOpen()
    const position = this.sizeBytes
    const file = this.file
    if (file.writevSync !== undefined
      && batches.reduce((sum, batch) => sum + batch.sizeBytes, 0) <= SYNC_WRITE_BYTES_MAX) {
      file.writevSync(buffers, position)
    } else if (buffers.length === 1) {
      await file.write(buffers[0]!, position)
    } else {
      await file.writev(buffers, position)
    }
    let at = position
    for (const batch of batches) {
      this.track(batch, at, indexIntervalBytes)
      at += batch.sizeBytes
    }
  }

  datasync(): Promise<void> {
    this.checkOpen()
    return this.file.datasync()
  }

  async readBytes(position: number, length: number): Promise<Buffer> {
    this.checkOpen()
    const buffer = Buffer.allocUnsafe(length)
    const read = await this.file.read(buffer, 0, length, position)
    return read === length ? buffer : buffer.subarray(0, read)
  }

  /**
   * Scans batches from byte `from` to `end`, validating each (length, magic, CRC, increasing
   * offsets) and calling `visit` for it. Stops at the first defect and reports it. Batches larger
   * than `batchBytesMax` are defects: a length field beyond any limit is damage, and refusing it
   * keeps a corrupt length from making the scan allocate without bound.
   */
  async scan(range: { from: number, fromOffset: number, end: number, batchBytesMax: number,
    dense?: boolean },
    visit: (buffer: Buffer, at: number, position: number) => void): Promise<ScanResult> {
    const { end, batchBytesMax } = range
    let position = range.from
    let nextOffset = range.fromOffset
    let chunkBytes = SCAN_CHUNK_BYTES
    while (position < end) {
      const chunk = await this.readBytes(position, Math.min(chunkBytes, end - position))
      chunkBytes = SCAN_CHUNK_BYTES
      let at = 0
      while (chunk.length - at >= BATCH_HEADER_BYTES) {
        const size = batchSizeAt(chunk, at)
        if (size < BATCH_HEADER_BYTES || size > batchBytesMax) {
          return { validBytes: position + at, nextOffset, defect: `bad length ${size}` }
        }
        if (at + size > chunk.length) break
        const defect = batchDefect(chunk, at)
        if (defect !== undefined) return { validBytes: position + at, nextOffset, defect }
        const baseOffset = readInt64(chunk, at)
        if (baseOffset < nextOffset) {
          return { validBytes: position + at, nextOffset, defect: 'offsets go backwards' }
        }
        // Only compaction leaves gaps, so in a segment it never touched (`dense`) a gap is a
        // damaged base offset, which the CRC does not cover.
        if (range.dense === true && baseOffset !== nextOffset) {
          return { validBytes: position + at, nextOffset, defect: `offset gap at ${baseOffset}` }
        }
        // Indexes store offsets relative to the segment as int32: beyond that is damage too.
        if (baseOffset + chunk.readInt32BE(at + 23) - this.baseOffset >= 2 ** 31) {
          const defect = `offset ${baseOffset} out of range`
          return { validBytes: position + at, nextOffset, defect }
        }
        visit(chunk, at, position + at)
        nextOffset = baseOffset + chunk.readInt32BE(at + 23) + 1
        at += size
      }
      if (at === 0) {
        // The batch at `position` did not fit in the chunk: the file ends inside it (a torn
        // tail), or it is larger than a chunk and needs one read of its own.
        if (chunk.length < BATCH_HEADER_BYTES) {
          return { validBytes: position, nextOffset, defect: 'short header' }
        }
        const size = batchSizeAt(chunk, 0)
        if (position + size > end) {
          return { validBytes: position, nextOffset, defect: 'short batch' }
        }
        chunkBytes = size
      }
      position += at
    }
    return { validBytes: position, nextOffset, defect: undefined }
  }

  /** Resets the indexes and counters to describe bytes [0, position) with offsets below next. */
  resetTo(position: number, nextOffset: number, maxTimestamp: number): void {
    this.offsetIndex.truncateToPosition(position)
    this.timeIndex.truncateToOffset(nextOffset)
    this.sizeBytes = position
    this.nextOffset = nextOffset
    this.maxTimestamp = maxTimestamp
    this.bytesSinceIndexEntry = Number.MAX_SAFE_INTEGER
  }

  /** Cuts the file at `position` (a batch boundary); durable after `datasync`. */
  async truncate(position: number, nextOffset: number): Promise<void> {
    this.checkOpen()
    await this.file.truncate(position)
    this.resetTo(position, nextOffset, this.maxTimestamp)
  }

  /** Writes both index files whole (they are rebuilt from the log if this write is torn). */
  async writeIndexFiles(): Promise<void> {
    this.checkOpen()
    const summary = {
      logBytes: this.sizeBytes, nextOffset: this.nextOffset, maxTimestamp: this.maxTimestamp,
    }
    const files = [
      [INDEX_SUFFIX, encodeIndexFile(this.offsetIndex.encodeEntries(), OFFSET_INDEX_ENTRY_BYTES,
        summary)],
      [TIME_INDEX_SUFFIX, encodeIndexFile(this.timeIndex.encodeEntries(), TIME_INDEX_ENTRY_BYTES,
        summary)],
    ] as const
    for (const [suffix, bytes] of files) {
      const handle = await this.fs.open(segmentPath(this.directory, this.baseOffset, suffix),
        'create')
      try {
        await handle.truncate(0)
        await handle.write(bytes, 0)
        await handle.datasync()
      } finally {
        await handle.close()
      }
    }
  }

  /**
   * Loads both index files if they are intact and describe at most the first `trustedBytes` of
   * the log; returns false (indexes left empty) when either is missing or damaged.
   */
  async loadIndexes(trustedBytes: number): Promise<boolean> {
    const offsets = await this.readIndexFile(INDEX_SUFFIX, OFFSET_INDEX_ENTRY_BYTES)
    const times = await this.readIndexFile(TIME_INDEX_SUFFIX, TIME_INDEX_ENTRY_BYTES)
    if (offsets === undefined || times === undefined) return false
    const summary = offsets.summary
    if (summary.logBytes > trustedBytes || summary.logBytes !== times.summary.logBytes
      || summary.nextOffset !== times.summary.nextOffset) return false
    const offsetIndex = OffsetIndex.fromEntries(this.baseOffset, offsets.entries, summary.logBytes)
    const timeIndex = TimeIndex.fromEntries(this.baseOffset, times.entries, summary.nextOffset)
    if (offsetIndex === undefined || timeIndex === undefined) return false
    this.offsetIndex = offsetIndex
    this.timeIndex = timeIndex
    this.sizeBytes = summary.logBytes
    this.nextOffset = summary.nextOffset
    this.maxTimestamp = summary.maxTimestamp
    this.bytesSinceIndexEntry = Number.MAX_SAFE_INTEGER
    return true
  }

  private async readIndexFile(suffix: string, entryBytes: number):
  Promise<ReturnType<typeof decodeIndexFile>> {
    const path = segmentPath(this.directory, this.baseOffset, suffix)
    if (!await this.fs.exists(path)) return undefined
    const handle = await this.fs.open(path, 'read')
    try {
      const size = await handle.size()
      const bytes = Buffer.allocUnsafe(size)
      await handle.read(bytes, 0, size, 0)
      return decodeIndexFile(bytes, entryBytes)
    } finally {
      await handle.close()
    }
  }

  /** A read holds the segment open while it runs, even if retention or compaction retires it. */
  acquire(): void {
    this.checkOpen()
    this.readers++
  }

  release(): void {
    assert(this.readers > 0, 'release without acquire')
    this.readers--
    if (this.readers === 0 && this.retired) void this.close()
  }

  /** Closes the file now if no read holds it, else when the last read releases it. */
  async retire(): Promise<void> {
    this.retired = true
    if (this.readers === 0) await this.close()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.file.close()
  }

  get isClosed(): boolean {
    return this.closed
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new WeirError('WEIR_ERR_LOG_CLOSED', `Segment ${this.path} is closed; reopen the log.`)
    }
  }
}
