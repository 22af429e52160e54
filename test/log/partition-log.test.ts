/**
 * Goal: the partition log's public contract holds on a real disk: what is appended reads back
 * exactly, in order, with its offsets and timestamps, across rolls and reopenings; reads return
 * whole batches within `maxBytes`; offsets outside the log are refused; lookups by time find the
 * first record at or after the time; refused appends (limits, damage, malformed or control
 * batches) change nothing; segments roll by age; retention deletes whole oldest segments only;
 * concurrent appends get contiguous offsets in call order; bad configuration is refused.
 *
 * Method: generated command sequences (append with either compression and either entry point,
 * roll, reopen, read from a random offset with a random `maxBytes`) run against a temp directory
 * and checked after every step against a model that is just the array of appended records.
 * Time is a `ManualClock`; the scheduler never fires, so no background flush or checkpoint runs.
 *
 * Over 500 lines because STYLE.md keeps one test file per source file, and partition-log.ts owns
 * every contract above; recovery and power loss have their own files.
 */
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import type { LogConfig } from '../../src/log/log-config.ts'
import { PartitionLog } from '../../src/log/partition-log.ts'
import {
  type Compression, computeBatchCrc, encodeBatch, recordBodyBytes, type RecordInput,
} from '../../src/log/record-batch.ts'
import { ManualClock } from '../../src/util/clock.ts'
import type { FileHandle, FileSystem, OpenMode } from '../../src/util/file-system.ts'
import { NodeFileSystem } from '../../src/util/node-file-system.ts'
import {
  batchesOf, hex, noTimers, plain, type PlainRecord, readAllRecords, smallLogConfig,
  withTempDir,
} from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

function expected(input: RecordInput, offset: number, batchTimestamp: number): PlainRecord {
  return {
    offset, timestamp: input.timestamp ?? batchTimestamp, key: hex(input.key),
    value: hex(input.value),
    headers: (input.headers ?? []).map(header => ({ key: header.key, value: hex(header.value) })),
  }
}

const bytes = (maxLength: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ maxLength }).map(array => Buffer.from(array))

const recordArbitrary: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(bytes(40), { nil: null }),
  value: fc.option(bytes(200), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 10 }),
    value: fc.option(bytes(20), { nil: null }) }), { maxLength: 2 }),
  timestamp: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
})
const recordsArbitrary = fc.array(recordArbitrary, { minLength: 1, maxLength: 5 })
const compressionArbitrary = fc.constantFrom<Compression>('none', 'gzip', 'snappy', 'lz4')

function openLog(directory: string, clock: ManualClock,
  config: Partial<LogConfig> = smallLogConfig, fs?: FileSystem): Promise<PartitionLog> {
  return PartitionLog.open({ directory, config, clock, scheduler: noTimers,
    ...(fs === undefined ? {} : { fs }) })
}

/** Appends through `appendRecords` or a pre-encoded batch through `append`; returns the model. */
async function appendTo(log: PartitionLog, clock: ManualClock, records: readonly RecordInput[],
  options: { compression: Compression, viaAppend: boolean }): Promise<PlainRecord[]> {
  const timestamp = clock.nowMs()
  const result = options.viaAppend
    ? await log.append(encodeBatch(records, { timestamp, compression: options.compression }))
    : await log.appendRecords(records, { compression: options.compression })
  expect(result.lastOffset - result.baseOffset + 1).toBe(records.length)
  return records.map((record, i) => expected(record, result.baseOffset + i, timestamp))
}

/** Every batch from the log start to the high watermark, decoded. */
async function readAll(log: PartitionLog): Promise<PlainRecord[]> {
  return (await readAllRecords(log)).map(plain)
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<WeirError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e)
  expect(WeirError.is(error), `expected ${code}, got ${String(error)}`).toBe(true)
  expect((error as WeirError).code).toBe(code)
  return error as WeirError
}

type Command =
  | { kind: 'append', records: RecordInput[], compression: Compression, viaAppend: boolean,
    advanceMs: number }
  | { kind: 'roll' }
  | { kind: 'reopen' }
  | { kind: 'read', at: number, maxBytes: number }

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const),
    records: recordsArbitrary, compression: compressionArbitrary, viaAppend: fc.boolean(),
    advanceMs: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), at: fc.nat(),
    maxBytes: fc.integer({ min: 1, max: 6000 }) }) },
)

describe('PartitionLog', () => {
  test.prop([fc.array(commandArbitrary, { minLength: 1, maxLength: 25 })],
    { numRuns: numRuns() })(
    'any sequence of appends, rolls and reopenings reads back exactly what was appended, in '
    + 'order, with the right offsets and timestamps', async commands => {
      await withTempDir('weir-log-', async directory => {
        const clock = new ManualClock(1_000)
        const model: PlainRecord[] = []
        let log = await openLog(directory, clock)
        try {
          for (const command of commands) {
            if (command.kind === 'append') {
              clock.advance(command.advanceMs)
              model.push(...await appendTo(log, clock, command.records, command))
            } else if (command.kind === 'roll') {
              await log.roll()
            } else if (command.kind === 'reopen') {
              await log.close()
              log = await openLog(directory, clock)
            } else {
              const offset = command.at % (model.length + 1)
              const result = await log.read(offset, { maxBytes: command.maxBytes })
              const batches = batchesOf(result.bytes, plain)
              if (offset === model.length) {
                expect(batches).toEqual([])
                expect(result.nextOffset).toBe(offset)
                continue
              }
              expect(batches.length).toBeGreaterThan(0)
              const first = batches[0]!
              const last = batches[batches.length - 1]!
              expect(first.baseOffset).toBeLessThanOrEqual(offset)
              expect(first.lastOffset).toBeGreaterThanOrEqual(offset)
              if (batches.length > 1) {
                expect(result.bytes.length).toBeLessThanOrEqual(command.maxBytes)
              }
              batches.slice(1).forEach((batch, i) =>
                expect(batch.baseOffset).toBe(batches[i]!.lastOffset + 1))
              expect(result.nextOffset).toBe(last.lastOffset + 1)
              expect(batches.flatMap(batch => batch.records))
                .toEqual(model.slice(first.baseOffset, last.lastOffset + 1))
            }
            expect(log.logEndOffset).toBe(model.length)
            expect(log.highWatermark).toBe(model.length)
          }
          expect(await readAll(log)).toEqual(model)
          await log.close()
          log = await openLog(directory, clock)
          expect(log.logStartOffset).toBe(0)
          expect(log.logEndOffset).toBe(model.length)
          expect(await readAll(log)).toEqual(model)
        } finally {
          await log.close()
        }
      })
    }, 300_000)

  it('refuses reads below the log start, above the log end and at non-integer offsets with '
    + 'OFFSET_OUT_OF_RANGE', async () => {
    await withTempDir('weir-log-', async directory => {
      const clock = new ManualClock(0)
      const log = await openLog(directory, clock)
      try {
        await log.appendRecords([{ value: Buffer.from('a') }, { value: Buffer.from('b') }])
        for (const offset of [-1, 3, 100, 0.5, Number.NaN]) {
          await expectCode(log.read(offset), 'OFFSET_OUT_OF_RANGE')
        }
        expect((await log.read(2)).bytes.length).toBe(0)
        expect((await log.readRecords(1)).records.map(plain).map(r => r.offset)).toEqual([1])
      } finally {
        await log.close()
      }
    })
  })

  test.prop([
    fc.array(fc.record({
      timestamps: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 5 }),
      rollAfter: fc.boolean(),
    }), { minLength: 1, maxLength: 30 }),
    fc.array(fc.integer({ min: -10, max: 420 }), { maxLength: 10 }),
  ], { numRuns: numRuns() })(
    'offsetForTimestamp returns the first offset whose timestamp is at or after the time, even '
    + 'when timestamps go backwards across batches', async (batches, extraQueries) => {
      await withTempDir('weir-log-', async directory => {
        const clock = new ManualClock(0)
        // Index entries every batch or so, so the time index (not only the scan) is exercised.
        const config = { ...smallLogConfig, indexIntervalBytes: 64 }
        let log = await openLog(directory, clock, config)
        const timestamps: number[] = []
        try {
          for (const batch of batches) {
            await log.appendRecords(batch.timestamps.map((timestamp, i) => ({
              timestamp, value: Buffer.alloc(40 + i, timestamp % 256),
            })))
            timestamps.push(...batch.timestamps)
            if (batch.rollAfter) await log.roll()
          }
          const queries = [...new Set([...timestamps.flatMap(t => [t - 1, t, t + 1]),
            ...extraQueries])]
          const check = async (): Promise<void> => {
            for (const query of queries) {
              const first = timestamps.findIndex(timestamp => timestamp >= query)
              expect(await log.offsetForTimestamp(query), `timestamp ${query}`)
                .toBe(first < 0 ? undefined : first)
            }
          }
          await check()
          // Reopened, the time indexes come from the files written at close.
          await log.close()
          log = await openLog(directory, clock, config)
          await check()
        } finally {
          await log.close()
        }
      })
    }, 300_000)

  describe('limits', () => {
    const oversized = fc.oneof(
      // One record over recordBytesMax (1024) in a batch under batchBytesMax (2048).
      fc.record({ kind: fc.constant('record' as const),
        size: fc.integer({ min: 1025, max: 1500 }), others: fc.integer({ min: 0, max: 2 }) }),
      // Records each well under recordBytesMax that together pass batchBytesMax.
      fc.record({ kind: fc.constant('batch' as const),
        size: fc.integer({ min: 700, max: 1000 }), others: fc.integer({ min: 2, max: 4 }) }),
    )

    test.prop([fc.array(recordsArbitrary, { maxLength: 6 }), oversized, fc.boolean(),
      fc.constantFrom('key', 'value', 'header')], { numRuns: numRuns() })(
      'an append over recordBytesMax fails with MESSAGE_TOO_LARGE and one over batchBytesMax with '
      + 'RECORD_LIST_TOO_LARGE, through either entry point, and leaves the log unchanged',
      async (before, refused, viaAppend, field) => {
        await withTempDir('weir-log-', async directory => {
          const clock = new ManualClock(5)
          const log = await openLog(directory, clock)
          try {
            const model: PlainRecord[] = []
            for (const records of before) {
              model.push(...await appendTo(log, clock, records, { compression: 'none',
                viaAppend: false }))
            }
            const big = Buffer.alloc(refused.size, 7)
            const bigRecord: RecordInput = field === 'key' && refused.kind === 'record'
              ? { key: big, value: null }
              : field === 'header' && refused.kind === 'record'
                ? { value: null, headers: [{ key: 'h', value: big }] }
                : { value: big }
            const records: RecordInput[] = refused.kind === 'record'
              ? [...Array.from({ length: refused.others }, () => ({ value: Buffer.from('x') })),
                  bigRecord]
              : Array.from({ length: refused.others + 1 }, () => ({ value: big }))
            const code = refused.kind === 'record' ? 'MESSAGE_TOO_LARGE' : 'RECORD_LIST_TOO_LARGE'
            await expectCode(viaAppend
              ? log.append(encodeBatch(records, { timestamp: clock.nowMs() }))
              : log.appendRecords(records), code)
            expect(log.logEndOffset).toBe(model.length)
            expect((await log.read(model.length)).bytes.length).toBe(0)
            expect(await readAll(log)).toEqual(model)
            // The refused append took no offsets: the next one follows the last stored record.
            const after = await log.appendRecords([{ value: Buffer.from('after') }])
            expect(after.baseOffset).toBe(model.length)
          } finally {
            await log.close()
          }
        })
      }, 300_000)

    test.prop([fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.boolean()],
      { numRuns: numRuns() })(
      'both entry points agree on recordBytesMax: a record body of exactly the limit is stored, '
      + 'one byte more is MESSAGE_TOO_LARGE', async (excess, headerCount, viaAppend) => {
        await withTempDir('weir-log-', async directory => {
          const clock = new ManualClock(5)
          const log = await openLog(directory, clock)
          try {
            const headers = Array.from({ length: headerCount }, (_, i) => ({
              key: `h${i}`, value: Buffer.from('v') }))
            // Find the value size whose record body is exactly recordBytesMax + excess.
            const limit = smallLogConfig.recordBytesMax!
            const bodyOf = (valueBytes: number): number => recordBodyBytes(
              { value: Buffer.alloc(valueBytes), headers }, { timestampDelta: 0, offsetDelta: 0 })
            let valueBytes = limit
            while (bodyOf(valueBytes) > limit + excess) valueBytes--
            expect(bodyOf(valueBytes)).toBe(limit + excess)
            const records = [{ value: Buffer.alloc(valueBytes, 1), headers }]
            const append = viaAppend
              ? log.append(encodeBatch(records, { timestamp: clock.nowMs() }))
              : log.appendRecords(records, { timestamp: clock.nowMs() })
            if (excess <= 0) expect((await append).baseOffset).toBe(0)
            else await expectCode(append, 'MESSAGE_TOO_LARGE')
          } finally {
            await log.close()
          }
        })
      }, 300_000)

    test.prop([recordsArbitrary, compressionArbitrary, fc.nat(), fc.integer({ min: 1, max: 255 })],
      { numRuns: numRuns() })(
      'a batch whose CRC-covered bytes were changed is refused with CORRUPT_MESSAGE and nothing '
      + 'is written', async (records, compression, at, mask) => {
        await withTempDir('weir-log-', async directory => {
          const clock = new ManualClock(0)
          const log = await openLog(directory, clock)
          try {
            await log.appendRecords([{ value: Buffer.from('kept') }])
            const batch = encodeBatch(records, { timestamp: 0, compression })
            // Bytes 17..20 are the CRC itself, 21.. what it covers.
            const position = 17 + at % (batch.length - 17)
            batch[position] = batch[position]! ^ mask
            await expectCode(log.append(batch), 'CORRUPT_MESSAGE')
            expect(log.logEndOffset).toBe(1)
            expect((await readAll(log)).length).toBe(1)
          } finally {
            await log.close()
          }
        })
      }, 300_000)

    it('refuses malformed offset deltas, a wrong record count, a wrong lastOffsetDelta and '
      + 'control batches with INVALID_RECORD, and writes nothing', async () => {
      await withTempDir('weir-log-', async directory => {
        const log = await openLog(directory, new ManualClock(0))
        try {
          const records = [1, 2, 3].map(i => ({ value: Buffer.from(`v${i}`) }))
          const withCount = (count: number): Buffer => {
            const batch = encodeBatch(records, { timestamp: 0 })
            batch.writeInt32BE(count, 57)
            batch.writeUInt32BE(computeBatchCrc(batch, 0), 17)
            return batch
          }
          const refused = [
            encodeBatch(records, { timestamp: 0, offsetDeltas: [0, 2, 3] }),
            encodeBatch(records, { timestamp: 0, offsetDeltas: [1, 2, 3] }),
            encodeBatch(records, { timestamp: 0, lastOffsetDelta: 5 }),
            withCount(4),
            withCount(2),
            encodeBatch(records, { timestamp: 0, control: true }),
          ]
          for (const batch of refused) await expectCode(log.append(batch), 'INVALID_RECORD')
          await expectCode(log.appendRecords([]), 'INVALID_RECORD')
          expect(log.logEndOffset).toBe(0)
          expect((await log.read(0)).bytes.length).toBe(0)
          expect((await log.append(encodeBatch(records, { timestamp: 0 }))).baseOffset).toBe(0)
        } finally {
          await log.close()
        }
      })
    })
  })

  test.prop([fc.array(fc.record({
    advanceMs: fc.integer({ min: 0, max: 1500 }),
    roll: fc.integer({ min: 0, max: 4 }).map(n => n === 0),
  }), { minLength: 1, maxLength: 30 })], { numRuns: numRuns() })(
    'a segment rolls at the first append once segmentMs has passed since its first append, '
    + 'and not before', async steps => {
      await withTempDir('weir-log-', async directory => {
        const clock = new ManualClock(0)
        const log = await openLog(directory, clock, { segmentMs: 1000 })
        try {
          let segments = 1
          let firstAppendMs: number | undefined
          for (const step of steps) {
            clock.advance(step.advanceMs)
            if (firstAppendMs !== undefined && clock.nowMs() - firstAppendMs >= 1000) {
              segments++
              firstAppendMs = undefined
            }
            firstAppendMs ??= clock.nowMs()
            await log.appendRecords([{ value: Buffer.from('x') }])
            expect(log.segmentCount).toBe(segments)
            if (step.roll) {
              await log.roll()
              segments++
              firstAppendMs = undefined
              expect(log.segmentCount).toBe(segments)
            }
          }
        } finally {
          await log.close()
        }
      })
    }, 300_000)

  test.prop([
    fc.array(fc.record({ records: recordsArbitrary, advanceMs: fc.integer({ min: 0, max: 1000 }),
      rollAfter: fc.boolean() }), { minLength: 1, maxLength: 25 }),
    fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 14_000 })),
    fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 20_000 })),
    fc.integer({ min: 0, max: 20_000 }),
  ], { numRuns: numRuns() })(
    'retention deletes whole oldest closed segments past retentionMs or beyond retentionBytes, '
    + 'never the active one, and the log start moves to the first kept segment across a reopen',
    async (batches, retentionBytes, retentionMs, laterMs) => {
      await withTempDir('weir-log-', async directory => {
        const clock = new ManualClock(0)
        const config = { ...smallLogConfig, retentionBytes, retentionMs }
        let log = await openLog(directory, clock, config)
        try {
          const model: PlainRecord[] = []
          for (const batch of batches) {
            clock.advance(batch.advanceMs)
            // Timestamps from the clock, so retention by time sees the age of the records.
            const records = batch.records.map(record => ({ ...record, timestamp: undefined }))
            model.push(...await appendTo(log, clock, records, { compression: 'none',
              viaAppend: false }))
            if (batch.rollAfter) await log.roll()
          }
          clock.advance(laterMs)
          const now = clock.nowMs()
          const closed = log.closedSegments().map(s => ({ baseOffset: s.baseOffset,
            sizeBytes: s.sizeBytes, maxTimestamp: s.maxTimestamp, nextOffset: s.nextOffset }))
          const activeBase = closed[closed.length - 1]?.nextOffset ?? 0
          const totalBytes = log.sizeBytes
          // The model: the oldest closed segments go while too old, or while the log without
          // them would still be at least retentionBytes.
          let doomed = 0
          let remaining = totalBytes
          while (doomed < closed.length) {
            const segment = closed[doomed]!
            const tooOld = retentionMs >= 0 && now - segment.maxTimestamp > retentionMs
            const tooBig = retentionBytes >= 0 && remaining - segment.sizeBytes >= retentionBytes
            if (!tooOld && !tooBig) break
            remaining -= segment.sizeBytes
            doomed++
          }
          const segmentsBefore = log.segmentCount
          expect(await log.deleteOldSegments()).toBe(doomed)
          expect(log.segmentCount).toBe(segmentsBefore - doomed)
          expect(log.sizeBytes).toBe(remaining)
          expect(log.logStartOffset).toBe(closed[doomed]?.baseOffset ?? activeBase)
          // Deleting whole segments only: the start is a batch boundary and the rest is intact.
          const check = async (): Promise<void> => {
            expect(log.logEndOffset).toBe(model.length)
            expect(await readAll(log)).toEqual(model.slice(log.logStartOffset))
            if (log.logStartOffset > 0) {
              await expectCode(log.read(log.logStartOffset - 1), 'OFFSET_OUT_OF_RANGE')
              await expectCode(log.read(0), 'OFFSET_OUT_OF_RANGE')
            }
          }
          await check()
          const startAfterRetention = log.logStartOffset
          for (const record of model.slice(0, startAfterRetention)) {
            if (retentionBytes < 0) expect(now - record.timestamp).toBeGreaterThan(retentionMs)
          }
          await log.close()
          log = await openLog(directory, clock, config)
          expect(log.logStartOffset).toBe(startAfterRetention)
          await check()
          const next = await log.appendRecords([{ value: Buffer.from('next') }])
          expect(next.baseOffset).toBe(model.length)
        } finally {
          await log.close()
        }
      })
    }, 300_000)

  test.prop([fc.array(fc.array(recordArbitrary, { minLength: 1, maxLength: 3 }),
    { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 3 })], { numRuns: numRuns() })(
    'concurrent appends get contiguous, non-overlapping offsets in call order, all read back, '
    + 'and share fdatasyncs (group commit)', async (batches, before) => {
      await withTempDir('weir-log-', async directory => {
        const fs = new CountingFileSystem()
        const clock = new ManualClock(0)
        const log = await openLog(directory, clock, smallLogConfig, fs)
        try {
          const model: PlainRecord[] = []
          for (let i = 0; i < before; i++) {
            model.push(...await appendTo(log, clock, [{ value: Buffer.from(`b${i}`) }],
              { compression: 'none', viaAppend: false }))
          }
          const segmentsBefore = log.segmentCount
          const syncsBefore = fs.logSyncs
          const results = await Promise.all(batches.map((records, i) =>
            log.appendRecords(records, { compression: i % 2 === 0 ? 'none' : 'gzip' })))
          let next = model.length
          results.forEach((result, i) => {
            expect(result).toEqual({ baseOffset: next, lastOffset: next + batches[i]!.length - 1 })
            model.push(...batches[i]!.map((record, j) => expected(record, next + j, 0)))
            next += batches[i]!.length
          })
          expect(await readAll(log)).toEqual(model)
          // The first append is written alone (the writer was idle); all later ones queue behind
          // it and go in one group: one fdatasync each, plus one per roll of a full segment.
          const rolls = log.segmentCount - segmentsBefore
          expect(fs.logSyncs - syncsBefore).toBeLessThanOrEqual(2 + rolls)
        } finally {
          await log.close()
        }
      })
    }, 300_000)

  it.each<[string, Partial<LogConfig>]>([
    ['segmentBytesMax below batchBytesMax', { segmentBytesMax: 1000, batchBytesMax: 2000 }],
    ['segmentBytesMax at 2^31', { segmentBytesMax: 2 ** 31 }],
    ['zero recordBytesMax', { recordBytesMax: 0 }],
    ['fractional indexIntervalBytes', { indexIntervalBytes: 1.5 }],
    ['negative segmentMs', { segmentMs: -5 }],
    ['retentionMs below -1', { retentionMs: -2 }],
    ['retentionBytes NaN', { retentionBytes: Number.NaN }],
    ['flush interval 0', { flush: { intervalMs: 0 } }],
    ['unknown flush policy', { flush: 'sometimes' as unknown as LogConfig['flush'] }],
    ['unknown cleanup policy', { cleanupPolicy: 'shred' as unknown as LogConfig['cleanupPolicy'] }],
    ['zero groupCommitBatchesMax', { groupCommitBatchesMax: 0 }],
  ])('refuses %s with INVALID_CONFIG before touching the disk', async (_name, config) => {
    await withTempDir('weir-log-', async parent => {
      const directory = join(parent, 'log')
      const error = await expectCode(openLog(directory, new ManualClock(0), config),
        'INVALID_CONFIG')
      expect(error.message).toMatch(/Log option \w+=/)
      expect(await new NodeFileSystem().exists(directory)).toBe(false)
    })
  })
})

/** The real file system, counting fdatasyncs of `.log` files (to observe group commit). */
class CountingFileSystem implements FileSystem {
  logSyncs = 0
  private readonly inner = new NodeFileSystem()

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await this.inner.open(path, mode)
    if (!path.endsWith('.log')) return handle
    return {
      path: handle.path,
      write: (data, position) => handle.write(data, position),
      writev: (buffers, position) => handle.writev(buffers, position),
      read: (target, targetOffset, length, position) =>
        handle.read(target, targetOffset, length, position),
      datasync: () => {
        this.logSyncs++
        return handle.datasync()
      },
      truncate: length => handle.truncate(length),
      size: () => handle.size(),
      close: () => handle.close(),
    }
  }

  list(directory: string): Promise<string[]> { return this.inner.list(directory) }
  mkdir(directory: string): Promise<void> { return this.inner.mkdir(directory) }
  rename(from: string, to: string): Promise<void> { return this.inner.rename(from, to) }
  unlink(path: string): Promise<void> { return this.inner.unlink(path) }
  syncDirectory(directory: string): Promise<void> { return this.inner.syncDirectory(directory) }
  exists(path: string): Promise<boolean> { return this.inner.exists(path) }
}
