/**
 * Goal: compaction keeps exactly the latest record per key (tombstones as deletions), never
 * changes offsets or order, handles transaction data correctly, and its segment swap is crash-safe
 * at every step.
 * Method: random keyed workloads on a real temp dir compared with a fold model; the swap is cut
 * short at every mutating file operation on a SimDisk, followed by kill -9 or power loss and a
 * reopen, and the survivors are checked against both the old and the new log.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { LogConfig } from '../../src/log/log-config.ts'
import { PartitionLog } from '../../src/log/partition-log.ts'
import type { LogRecord } from '../../src/log/record-batch.ts'
import { ManualClock } from '../../src/util/clock.ts'
import type { FileSystem } from '../../src/util/file-system.ts'
import { SimDisk, SimulatedCrashError } from '../../src/testing/sim-disk.ts'
import { NodeFileSystem } from '../../src/util/node-file-system.ts'
import {
  noTimers, readAllRecords, scheduledFileSystem, withTempDir,
} from '../helpers/log-fixtures.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(40)
const config: Partial<LogConfig> = {
  cleanupPolicy: 'compact', segmentBytesMax: 2048, batchBytesMax: 1024, recordBytesMax: 512,
  indexIntervalBytes: 128, deleteRetentionMs: 1000,
}

type Op = { kind: 'append', records: Array<{ key: number, value: string | null, age: number }> }
  | { kind: 'roll' }

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('append' as const),
    records: fc.array(fc.record({
      key: fc.integer({ min: 0, max: 12 }),
      value: fc.option(fc.string({ maxLength: 30 }), { freq: 4 }),
      age: fc.constantFrom(0, 5000),
    }), { minLength: 1, maxLength: 6 }),
  }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
)

function fold(records: readonly LogRecord[]): Map<string, string> {
  const state = new Map<string, string>()
  for (const record of records) {
    const key = record.key!.toString()
    if (record.value === null) state.delete(key)
    else state.set(key, record.value.toString())
  }
  return state
}

function summary(records: readonly LogRecord[]): string[] {
  return records.map(r => `${r.offset}:${r.key?.toString()}=${r.value?.toString() ?? '∅'}`)
}

async function runWorkload(log: PartitionLog, ops: readonly Op[], clock: ManualClock):
Promise<void> {
  for (const op of ops) {
    if (op.kind === 'roll') {
      await log.roll()
      continue
    }
    await log.appendRecords(op.records.map(r => ({
      key: Buffer.from(`k${r.key}`), value: r.value === null ? null : Buffer.from(r.value),
      timestamp: clock.nowMs() - r.age,
    })))
  }
}

describe('log compaction', () => {
  test.prop([fc.array(opArbitrary, { minLength: 1, maxLength: 40 })], { numRuns })(
    'a compacted log read from the start equals the fold latest value per key of the original '
    + 'log, with offsets strictly increasing and one record per key in the cleaned part',
    async ops => withTempDir('weir-cleaner-', async directory => {
      const clock = new ManualClock(1_000_000)
      const log = await PartitionLog.open({ directory, config, clock, scheduler: noTimers })
      try {
        await runWorkload(log, ops, clock)
        const before = await readAllRecords(log)
        const activeBase = log.activeBaseOffset
        await log.compact()
        const after = await readAllRecords(log)
        expect(fold(after)).toEqual(fold(before))
        for (let i = 1; i < after.length; i++) {
          expect(after[i]!.offset).toBeGreaterThan(after[i - 1]!.offset)
        }
        // The active segment is untouched.
        expect(summary(after.filter(r => r.offset >= activeBase)))
          .toEqual(summary(before.filter(r => r.offset >= activeBase)))
        // The cleaned part holds only each key's latest record, minus old enough tombstones.
        const cleanedPart = after.filter(r => r.offset < activeBase)
        const latest = new Map<string, LogRecord>()
        for (const record of before.filter(r => r.offset < activeBase)) {
          latest.set(record.key!.toString(), record)
        }
        const expected = [...latest.values()]
          .filter(r => r.value !== null || r.timestamp >= clock.nowMs() - 1000)
          .sort((a, b) => a.offset - b.offset)
        expect(summary(cleanedPart)).toEqual(summary(expected))
        // Compacting again changes nothing, and a reopen reads the same.
        expect((await log.compact()).segmentsRewritten).toBe(0)
        await log.close()
        const reopened = await PartitionLog.open({ directory, config, clock, scheduler: noTimers })
        expect(summary(await readAllRecords(reopened))).toEqual(summary(after))
        await reopened.close()
      } finally {
        await log.close()
      }
    }))

  test.prop([fc.array(opArbitrary, { minLength: 8, maxLength: 40 }),
    fc.array(opArbitrary, { maxLength: 15 }), fc.scheduler()], { numRuns })(
    'compaction running alongside appends and rolls loses no appended record and leaves the fold '
    + 'of the log equal to the fold of everything appended',
    async (before, rest, scheduler) => withTempDir('weir-cleaner-', async directory => {
      // An append then a roll first, so a roll often lands while the compaction pass runs.
      const during: Op[] = [{ kind: 'append', records: [{ key: 0, value: 'x', age: 0 }] },
        { kind: 'roll' }, ...rest]
      const clock = new ManualClock(1_000_000)
      const fs = scheduledFileSystem(new NodeFileSystem(), scheduler)
      const log = await scheduler.waitFor(PartitionLog.open({ directory, config, clock,
        scheduler: noTimers, fs }))
      try {
        await scheduler.waitFor(runWorkload(log, before, clock).then(() => log.roll()))
        // Every file operation of the compaction pass and of the appends and rolls waits for
        // its turn from the scheduler, which interleaves them differently in every run.
        const compaction = log.compact()
        const appends = runWorkload(log, during, clock)
        await scheduler.waitFor(Promise.all([compaction, appends]))
        const everything = await scheduler.waitFor(readAllRecords(log))
        await scheduler.waitFor(log.close())
        const reopened = await PartitionLog.open({ directory, config, clock, scheduler: noTimers })
        const afterReopen = await readAllRecords(reopened)
        await reopened.close()
        expect(summary(afterReopen)).toEqual(summary(everything))
        const model = new Map<string, string>()
        for (const op of [...before, ...during]) {
          if (op.kind !== 'append') continue
          for (const r of op.records) {
            if (r.value === null) model.delete(`k${r.key}`)
            else model.set(`k${r.key}`, r.value)
          }
        }
        expect(fold(everything)).toEqual(model)
      } finally {
        await scheduler.waitFor(log.close())
      }
    }))

  it('drops aborted transaction data, keeps markers of kept data, and never cleans an open '
    + 'transaction', async () => withTempDir('weir-cleaner-', async directory => {
    const clock = new ManualClock(1_000_000)
    const log = await PartitionLog.open({ directory, config, clock, scheduler: noTimers })
    const txn = (producerId: number, key: string, value: string) => log.appendRecords(
      [{ key: Buffer.from(key), value: Buffer.from(value) }],
      { producerId, producerEpoch: 0, baseSequence: 0, transactional: true })
    const marker = (producerId: number, type: 'commit' | 'abort') =>
      log.appendMarker({ type, coordinatorEpoch: 0 }, { producerId, producerEpoch: 0 })
    await txn(1, 'a', 'aborted')
    await marker(1, 'abort')
    await txn(2, 'b', 'committed')
    await marker(2, 'commit')
    await log.roll()
    await txn(3, 'c', 'open')
    await log.roll()
    await log.appendRecords([{ key: Buffer.from('z'), value: Buffer.from('active') }])
    await log.compact()
    const values = (await readAllRecords(log)).map(r => `${r.offset}:${r.key?.toString('latin1')}`)
    expect(values).not.toContain('0:a')
    expect(values).toContain('2:b')
    expect(values).toContain('4:c')
    await log.close()
  }))

  test.prop([fc.array(opArbitrary, { minLength: 4, maxLength: 25 }), fc.nat(), fc.boolean()],
    { numRuns: Math.max(5, Math.floor(numRuns / 4)) })(
    'a compaction interrupted at every file operation leaves the old or the new segments, never '
    + 'neither, after kill -9 or power loss',
    async (ops, seed, powerLoss) => {
      const clock = new ManualClock(1_000_000)
      const directory = '/data/p0'
      const setup = new SimDisk({ seed })
      let log = await PartitionLog.open({ directory, config, clock, scheduler: noTimers,
        fs: setup })
      await runWorkload(log, ops, clock)
      await log.roll()
      const original = await readAllRecords(log)
      await log.compact()
      const compacted = await readAllRecords(log)
      await log.close()
      const steps = Math.min(60, setup.operationCount)
      for (let step = 0; step < steps; step += 1 + (seed % 3)) {
        const disk = new SimDisk({ seed })
        log = await PartitionLog.open({ directory, config, clock, scheduler: noTimers, fs: disk })
        await runWorkload(log, ops, clock)
        await log.roll()
        await disk.crashAfter(step)
        await log.compact().catch((error: unknown) => {
          if (!(error instanceof SimulatedCrashError)) throw error
        })
        if (powerLoss) await disk.powerFailure({ mode: 'lose-unsynced' })
        else await disk.restart()
        log = await PartitionLog.open({ directory, config, clock, scheduler: noTimers,
          fs: disk as FileSystem })
        const survivors = await readAllRecords(log)
        for (let i = 1; i < survivors.length; i++) {
          expect(survivors[i]!.offset).toBeGreaterThan(survivors[i - 1]!.offset)
        }
        expect(fold(survivors)).toEqual(fold(original))
        const originalSummary = new Set(summary(original))
        for (const line of summary(survivors)) expect(originalSummary.has(line)).toBe(true)
        const survivorSummary = new Set(summary(survivors))
        for (const line of summary(compacted)) expect(survivorSummary.has(line)).toBe(true)
        await log.close()
      }
    })
})
