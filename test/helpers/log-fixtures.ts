/**
 * Fixtures shared by the partition log tests: a scheduler that never fires, small log limits,
 * records as plain comparable values, temp directories and whole-log reads.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LogConfig } from '../../src/log/log-config.ts'
import type { PartitionLog } from '../../src/log/partition-log.ts'
import {
  batchDefect, decodeRecords, forEachBatch, type LogRecord, readBatchHeader,
} from '../../src/log/record-batch.ts'
import { expect } from 'vitest'
import type { Scheduler } from '../../src/util/clock.ts'
import type { FileHandle, FileSystem } from '../../src/util/file-system.ts'
import type { fc } from '@fast-check/vitest'

/** A scheduler that never fires, so no background flush or checkpoint runs. */
export const noTimers: Scheduler = { every: () => () => undefined, after: () => () => undefined }

/** Small limits so a handful of appends fills a segment and the index is not trivial. */
export const smallLogConfig: Partial<LogConfig> = {
  segmentBytesMax: 4096, batchBytesMax: 2048, recordBytesMax: 1024, indexIntervalBytes: 256,
}

/** A record as a model keeps it: comparable with `toEqual`. */
export interface PlainRecord {
  readonly offset: number
  readonly timestamp: number
  readonly key: string | null
  readonly value: string | null
  readonly headers: ReadonlyArray<{ key: string, value: string | null }>
}

export const hex = (bytes: Buffer | null | undefined): string | null =>
  bytes === null || bytes === undefined ? null : bytes.toString('hex')

export function plain(record: LogRecord): PlainRecord {
  return {
    offset: record.offset, timestamp: record.timestamp, key: hex(record.key),
    value: hex(record.value),
    headers: record.headers.map(header => ({ key: header.key, value: hex(header.value) })),
  }
}

/** Runs `run` in a fresh directory under the OS temp directory, removed afterwards. */
export async function withTempDir<T>(prefix: string,
  run: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), prefix))
  try {
    return await run(directory)
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

/** Every record from `from` to the high watermark, read batch by batch. */
export async function readAllRecords(log: PartitionLog, from = log.logStartOffset):
Promise<LogRecord[]> {
  const records: LogRecord[] = []
  let offset = from
  while (offset < log.highWatermark) {
    const result = await log.readRecords(offset)
    if (result.nextOffset <= offset) {
      throw new Error(`readRecords(${offset}) did not advance: nextOffset ${result.nextOffset}`)
    }
    records.push(...result.records)
    offset = result.nextOffset
  }
  return records
}

/**
 * A file system whose every operation first waits for its turn from a fast-check scheduler, so a
 * property explores the interleavings of concurrent log work (appends, rolls, compaction) at the
 * granularity of file operations, reproducibly from the seed.
 */
export function scheduledFileSystem(inner: FileSystem, scheduler: fc.Scheduler): FileSystem {
  const turn = (label: string): Promise<void> => scheduler.schedule(Promise.resolve(), label)
  const wrapHandle = (handle: FileHandle): FileHandle => ({
    path: handle.path,
    write: async (data, position) => { await turn('write'); return handle.write(data, position) },
    writev: async (buffers, position) => {
      await turn('writev')
      return handle.writev(buffers, position)
    },
    read: async (target, targetOffset, length, position) => {
      await turn('read')
      return handle.read(target, targetOffset, length, position)
    },
    datasync: async () => { await turn('datasync'); return handle.datasync() },
    truncate: async length => { await turn('truncate'); return handle.truncate(length) },
    size: () => handle.size(),
    close: () => handle.close(),
  })
  return {
    open: async (path, mode) => {
      await turn(`open ${mode}`)
      return wrapHandle(await inner.open(path, mode))
    },
    list: directory => inner.list(directory),
    mkdir: directory => inner.mkdir(directory),
    rename: async (from, to) => { await turn('rename'); return inner.rename(from, to) },
    unlink: async path => { await turn('unlink'); return inner.unlink(path) },
    syncDirectory: async directory => {
      await turn('syncDirectory')
      return inner.syncDirectory(directory)
    },
    exists: path => inner.exists(path),
  }
}

/** One stored batch as a test sees it: its offset range and its records. */
export interface StoredBatchView<R> {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly records: R[]
}

/**
 * Splits a read result into its batches, asserting each is whole and passes its CRC, and maps
 * every record through `project` (e.g. `plain`).
 */
export function batchesOf<R>(buffer: Buffer, project: (record: LogRecord) => R):
StoredBatchView<R>[] {
  const batches: StoredBatchView<R>[] = []
  forEachBatch(buffer, (position, size) => {
    expect(batchDefect(buffer, position, position + size)).toBeUndefined()
    const header = readBatchHeader(buffer, position)
    batches.push({ baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + header.lastOffsetDelta,
      records: decodeRecords(buffer, position).map(project) })
  })
  return batches
}
