/**
 * Goal: a power failure at any point of any workload loses nothing the log acknowledged as
 * durable, leaves a readable log that is a gapless prefix (in offset order) of what was written,
 * and never serves a damaged batch; under `flush: { intervalMs }` only a suffix of the
 * acknowledged appends can be lost, never anything a completed flush covered.
 *
 * Method: the log runs on a `SimDisk` (src/testing/sim-disk.ts) with a `ManualClock` and a
 * scheduler that never fires. A generated workload of appends (several at once, for group
 * commit), rolls, retention, clock moves and reopenings is cut short by `crashAfter(k)` at a
 * generated disk operation, then the power fails (`lose-unsynced` or `torn`, from a generated
 * seed) and the log is reopened on the same disk and read whole. Every append attempt is recorded
 * with the offsets it was given and whether it resolved; the reopened log is compared with them.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import { PartitionLog } from '../../src/log/partition-log.ts'
import type { LogRecord, RecordInput } from '../../src/log/record-batch.ts'
import { mulberry32, SimDisk, SimulatedCrashError } from '../../src/testing/sim-disk.ts'
import { ManualClock } from '../../src/util/clock.ts'
import {
  batchesOf, hex, noTimers, plain, type PlainRecord, smallLogConfig, type StoredBatchView,
} from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

const directory = '/data/partition-0'

/** A record as the attempts keep it: the workload writes no headers, so none are compared. */
type BareRecord = Omit<PlainRecord, 'headers'>

/** One call to `appendRecords` that was given offsets. */
interface Attempt {
  readonly baseOffset: number
  readonly records: readonly BareRecord[]
  acknowledged: boolean
}

function bare(record: LogRecord): BareRecord {
  const { offset, timestamp, key, value } = plain(record)
  return { offset, timestamp, key, value }
}

const recordArbitrary: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 16 }).map(a => Buffer.from(a)), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 400, size: 'medium' }).map(a => Buffer.from(a)),
    { nil: null }),
})
/** One to four appends issued together (they share a group commit). */
const appendsArbitrary = fc.array(fc.array(recordArbitrary, { minLength: 1, maxLength: 3 }),
  { minLength: 1, maxLength: 4 })

/** True when `error` comes from the simulated crash, directly or as the cause of a log error. */
function fromCrash(error: unknown): boolean {
  let e: unknown = error
  while (e !== undefined && e !== null) {
    if (e instanceof SimulatedCrashError) return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

/** Issues the appends together and records each attempt; resolves when all have settled. */
async function appendTogether(log: PartitionLog, clock: ManualClock, attempts: Attempt[],
  batches: ReadonlyArray<readonly RecordInput[]>): Promise<unknown[]> {
  const settled = await Promise.allSettled(batches.map(records => {
    const baseOffset = log.logEndOffset
    const promise = log.appendRecords(records)
    if (log.logEndOffset === baseOffset) return promise
    const attempt: Attempt = { baseOffset, acknowledged: false, records: records.map((r, i) => ({
      offset: baseOffset + i, timestamp: clock.nowMs(), key: hex(r.key), value: hex(r.value) })) }
    attempts.push(attempt)
    return promise.then(() => {
      attempt.acknowledged = true
    })
  }))
  return settled.flatMap(result => result.status === 'rejected' ? [result.reason] : [])
}

/** Reads the whole log as batches, checking each is undamaged. */
async function readBatches(log: PartitionLog):
Promise<StoredBatchView<BareRecord>[]> {
  const batches: StoredBatchView<BareRecord>[] = []
  let offset = log.logStartOffset
  while (offset < log.highWatermark) {
    const { bytes, nextOffset } = await log.read(offset)
    expect(nextOffset).toBeGreaterThan(offset)
    batches.push(...batchesOf(bytes, bare))
    offset = nextOffset
  }
  return batches
}

/** The batches read must be the attempts at the same offsets, back to back from the log start. */
function expectPrefixOfAttempts(batches: Awaited<ReturnType<typeof readBatches>>,
  attempts: readonly Attempt[], log: PartitionLog): void {
  const byOffset = new Map(attempts.map(attempt => [attempt.baseOffset, attempt]))
  let next = log.logStartOffset
  for (const batch of batches) {
    expect(batch.baseOffset, 'no gap and no overlap').toBe(next)
    const attempt = byOffset.get(batch.baseOffset)
    expect(attempt, `batch at ${batch.baseOffset} was written`).toBeDefined()
    expect(batch.records).toEqual(attempt!.records)
    next = batch.lastOffset + 1
  }
  expect(log.logEndOffset).toBe(next)
}

type Step =
  | { kind: 'append', batches: RecordInput[][] }
  | { kind: 'roll' }
  | { kind: 'retention' }
  | { kind: 'advance', ms: number }
  | { kind: 'reopen' }

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('append' as const),
    batches: appendsArbitrary }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'retention' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const),
    ms: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
)
const powerArbitrary = fc.record({
  mode: fc.constantFrom('lose-unsynced' as const, 'torn' as const),
  seed: fc.integer(),
})

describe('power failure', () => {
  test.prop([
    fc.array(stepArbitrary, { minLength: 5, maxLength: 40, size: 'max' }),
    // Unbiased, so the cut falls anywhere in the workload, not mostly at its start.
    fc.option(fc.noBias(fc.integer({ min: 0, max: 250 })), { nil: undefined, freq: 8 }),
    powerArbitrary,
    fc.oneof(fc.constant(-1), fc.integer({ min: 1000, max: 8000 })),
    fc.oneof(fc.constant(-1), fc.integer({ min: 500, max: 5000 })),
  ], { numRuns: numRuns(100) })(
    'at any point of any append/roll/retention workload, a power failure followed by reopen '
    + 'loses no batch whose append had resolved with flush always, returns a valid prefix of '
    + 'what was written, and serves no corrupt batch',
    async (steps, crashAfter, power, retentionBytes, retentionMs) => {
      const disk = new SimDisk({ seed: power.seed })
      const clock = new ManualClock(0)
      // Segments of a few batches each, so rolls and retention happen within a short workload.
      const config = { ...smallLogConfig, segmentBytesMax: 2048, flush: 'always' as const,
        retentionBytes, retentionMs }
      const open = (): Promise<PartitionLog> => PartitionLog.open({ directory, config, clock,
        fs: disk, scheduler: noTimers })
      let log = await open()
      const attempts: Attempt[] = []
      let retentionRan = false
      let largestStart = 0
      if (crashAfter !== undefined) await disk.crashAfter(crashAfter)
      const survive = async (run: () => Promise<unknown>): Promise<boolean> => {
        try {
          await run()
          return true
        } catch (error) {
          if (!fromCrash(error)) throw error
          return false
        }
      }
      for (const step of steps) {
        let alive = true
        if (step.kind === 'append') {
          const failures = await appendTogether(log, clock, attempts, step.batches)
          for (const failure of failures) if (!fromCrash(failure)) throw failure
          alive = failures.length === 0
        } else if (step.kind === 'roll') {
          alive = await survive(() => log.roll())
        } else if (step.kind === 'retention') {
          retentionRan = true
          alive = await survive(() => log.deleteOldSegments())
          largestStart = Math.max(largestStart, log.logStartOffset)
        } else if (step.kind === 'advance') {
          clock.advance(step.ms)
        } else {
          alive = await survive(async () => {
            await log.close()
            log = await open()
          })
        }
        if (!alive) break
      }

      await disk.powerFailure({ mode: power.mode, random: mulberry32(power.seed) })
      const reopened = await open()
      try {
        const batches = await readBatches(reopened)
        expectPrefixOfAttempts(batches, attempts, reopened)
        // The log start moves only by retention, and never past where retention moved it.
        if (!retentionRan) expect(reopened.logStartOffset).toBe(0)
        expect(reopened.logStartOffset).toBeLessThanOrEqual(largestStart)
        for (const attempt of attempts) {
          if (attempt.acknowledged && attempt.baseOffset >= reopened.logStartOffset) {
            expect(reopened.logEndOffset, `acknowledged batch at ${attempt.baseOffset} survives`)
              .toBeGreaterThan(attempt.baseOffset + attempt.records.length - 1)
          }
        }
        // The log goes on after recovery at its end, and serves what it takes.
        const end = reopened.logEndOffset
        const next = await reopened.appendRecords([{ value: Buffer.from('next') }])
        expect(next.baseOffset).toBe(end)
        expect((await reopened.readRecords(end)).records.map(r => r.offset)).toEqual([end])
      } finally {
        await reopened.close()
      }
    }, 300_000)

  const intervalStep: fc.Arbitrary<Step | { kind: 'flush' }> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const),
      batches: appendsArbitrary }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  )

  test.prop([fc.array(intervalStep, { minLength: 1, maxLength: 40 }), powerArbitrary],
    { numRuns: numRuns(100) })(
    'with intervalMs only a suffix is lost, never a middle: after a power failure the surviving '
    + 'records are exactly a prefix of the acknowledged appends and include every append '
    + 'issued before the last completed flush', async (steps, power) => {
      const disk = new SimDisk({ seed: power.seed })
      const clock = new ManualClock(0)
      const config = { ...smallLogConfig, flush: { intervalMs: 1000 } }
      const open = (): Promise<PartitionLog> => PartitionLog.open({ directory, config, clock,
        fs: disk, scheduler: noTimers })
      let log = await open()
      const attempts: Attempt[] = []
      // Appends issued before a flush (roll and close flush too) that has resolved.
      let synced = 0
      for (const step of steps) {
        if (step.kind === 'append') {
          expect(await appendTogether(log, clock, attempts, step.batches)).toEqual([])
        } else if (step.kind === 'flush' || step.kind === 'roll') {
          const covered = attempts.length
          await (step.kind === 'flush' ? log.flush() : log.roll())
          synced = covered
        } else if (step.kind === 'reopen') {
          const covered = attempts.length
          await log.close()
          synced = covered
          log = await open()
        }
      }
      expect(attempts.every(attempt => attempt.acknowledged)).toBe(true)

      await disk.powerFailure({ mode: power.mode, random: mulberry32(power.seed) })
      const reopened = await open()
      try {
        expect(reopened.logStartOffset).toBe(0)
        const batches = await readBatches(reopened)
        expectPrefixOfAttempts(batches, attempts, reopened)
        expect(batches.length).toBeGreaterThanOrEqual(synced)
      } finally {
        await reopened.close()
      }
    }, 300_000)
})

describe('power failure during retention', () => {
  test.prop([
    fc.array(fc.array(recordArbitrary, { minLength: 1, maxLength: 3 }),
      { minLength: 6, maxLength: 30 }),
    fc.nat(), powerArbitrary,
  ], { numRuns: numRuns(100) })(
    'a power failure while retention deletes several segments leaves the log start at a segment '
    + 'boundary with every later batch intact: segments go oldest first, never leaving a hole',
    async (batches, crashChoice, power) => {
      const disk = new SimDisk({ seed: power.seed })
      const clock = new ManualClock(0)
      const open = (retentionBytes: number): Promise<PartitionLog> => PartitionLog.open({
        directory, config: { ...smallLogConfig, retentionBytes }, clock, fs: disk,
        scheduler: noTimers })
      let log = await open(-1)
      const attempts: Attempt[] = []
      for (const records of batches) {
        expect(await appendTogether(log, clock, attempts, [records])).toEqual([])
        // A segment per two batches, so retention has several to delete at once.
        if (attempts.length % 2 === 0) await log.roll()
      }
      await log.close()
      // Reopened with a retention limit that dooms every closed segment, cut at one of the
      // operations retention makes (four per segment at most), or not at all.
      log = await open(1)
      await disk.crashAfter(crashChoice % (4 * batches.length))
      await log.deleteOldSegments().catch((error: unknown) => {
        if (!fromCrash(error)) throw error
      })
      await disk.powerFailure({ mode: power.mode, random: mulberry32(power.seed) })
      const reopened = await open(-1)
      try {
        expectPrefixOfAttempts(await readBatches(reopened), attempts, reopened)
        expect(reopened.logEndOffset).toBe(attempts.reduce((n, a) => n + a.records.length, 0))
      } finally {
        await reopened.close()
      }
    }, 300_000)
})

describe('fromCrash', () => {
  it('recognises the simulated crash directly or as the cause of a log error, and nothing else',
    () => {
      const crash = new SimulatedCrashError('write')
      expect(fromCrash(crash)).toBe(true)
      expect(fromCrash(new WeirError('WEIR_ERR_LOG_OFFLINE', 'offline', { cause: crash })))
        .toBe(true)
      expect(fromCrash(new WeirError('WEIR_ERR_LOG_OFFLINE', 'offline'))).toBe(false)
      expect(fromCrash(new Error('EIO'))).toBe(false)
    })
})
