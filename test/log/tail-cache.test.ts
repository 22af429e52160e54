/**
 * Goal: the tail cache (src/log/tail-cache.ts) never changes what a read returns. Property: for
 * any sequence of appends (producer batches through either entry point, transaction markers),
 * rolls and reads from any offset with any `maxOffset` and `maxBytes`, a log with a small tail
 * cache of any size (so that its ring wraps, batches are evicted, and batches larger than the
 * cache skip it) returns the
 * same bytes and next offset as a log without one, and the same as the disk after a reopen.
 * Also unit cases for the cache alone: eviction, a read before its first batch, a view copied.
 */
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { PartitionLog } from '../../src/log/partition-log.ts'
import { encodeBatch } from '../../src/log/record-batch.ts'
import { TailCache } from '../../src/log/tail-cache.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { noTimers, smallLogConfig, withTempDir } from '../helpers/log-fixtures.ts'
import { fraction, numRuns } from '../helpers/num-runs.ts'

type Step =
  | { kind: 'append', values: number[], encoded: boolean }
  | { kind: 'marker', commit: boolean }
  | { kind: 'roll' }
  | { kind: 'read', at: number, maxOffsetBack: number, maxBytes: number }

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const),
    values: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 4 }),
    encoded: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('marker' as const),
    commit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const),
    at: fraction, maxOffsetBack: fc.nat(3),
    maxBytes: fc.integer({ min: 1, max: 3000 }) }) },
)

async function openLog(dir: string, tailCacheBytes: number): Promise<PartitionLog> {
  return PartitionLog.open({ directory: dir, clock: new ManualClock(1_000), scheduler: noTimers,
    config: { ...smallLogConfig, flush: 'never', tailCacheBytes } })
}

const records = (values: readonly number[]) =>
  values.map(size => ({ key: null, value: Buffer.alloc(size, size % 251) }))

async function apply(log: PartitionLog, step: Exclude<Step, { kind: 'read' }>): Promise<void> {
  if (step.kind === 'roll') await log.roll()
  else if (step.kind === 'marker') {
    await log.appendMarker({ type: step.commit ? 'commit' : 'abort', coordinatorEpoch: 0 },
      { producerId: 7, producerEpoch: 0 })
  } else if (step.encoded) {
    await log.append(encodeBatch(records(step.values), { timestamp: 1_000 }))
  } else {
    await log.appendRecords(records(step.values))
  }
}

describe('tail cache', () => {
  test.prop([fc.array(stepArbitrary, { minLength: 1, maxLength: 40 }),
    fc.integer({ min: 70, max: 3000 })], { numRuns: numRuns(100) })(
    'reads through a small tail cache equal reads from disk', async (steps, cacheBytes) => {
      await withTempDir('weir-tail-', async dir => {
        const cached = await openLog(join(dir, 'cached'), cacheBytes)
        const plain = await openLog(join(dir, 'plain'), 0)
        const reads: Array<{ offset: number, maxOffset: number, maxBytes: number }> = []
        try {
          for (const step of steps) {
            if (step.kind !== 'read') {
              await apply(cached, step)
              await apply(plain, step)
              continue
            }
            const end = plain.highWatermark
            const offset = Math.floor(step.at * end)
            const read = { offset, maxOffset: Math.max(offset, end - step.maxOffsetBack),
              maxBytes: step.maxBytes }
            reads.push(read)
            expect(await cached.read(offset, read)).toEqual(await plain.read(offset, read))
          }
        } finally {
          await cached.close()
          await plain.close()
        }
        // The cached log's disk holds what it served from memory.
        const reopened = await openLog(join(dir, 'cached'), 0)
        const reference = await openLog(join(dir, 'plain'), 0)
        try {
          for (const read of reads) {
            expect(await reopened.read(read.offset, read))
              .toEqual(await reference.read(read.offset, read))
          }
        } finally {
          await reopened.close()
          await reference.close()
        }
      })
    })

  it('keeps the newest batches within its size, and answers only reads it holds whole', () => {
    const cache = new TailCache(100)
    const batch = (size: number): Buffer => Buffer.alloc(size, size)
    cache.add(batch(40), 0, 1)
    cache.add(batch(40), 2, 2)
    expect(cache.read(0, 10, 1000)?.nextOffset).toBe(3)
    cache.add(batch(40), 3, 5) // 120 bytes: the first batch is evicted
    expect(cache.read(1, 10, 1000)).toBeUndefined()
    expect(cache.read(4, 10, 1000)).toEqual({ bytes: batch(40), nextOffset: 6 })
    expect(cache.read(2, 10, 50)).toEqual({ bytes: batch(40), nextOffset: 3 })
    expect(cache.read(2, 3, 1000)).toEqual({ bytes: batch(40), nextOffset: 3 })
    expect(cache.read(6, 10, 1000)).toBeUndefined()
    expect(cache.read(4, 4, 1000)).toBeUndefined() // at or past maxOffset: the disk says empty
    cache.add(batch(101), 6, 6) // larger than the cache: nothing is kept
    expect(cache.read(4, 10, 1000)).toBeUndefined()
  })

  it('on starting again at the front, first drops the older batches left behind the write '
    + 'position, even where the new batch does not reach them', () => {
    const cache = new TailCache(1000)
    const batch = (size: number, fill: number): Buffer => Buffer.alloc(size, fill)
    cache.add(batch(300, 1), 0, 0) // at 0
    cache.add(batch(300, 2), 1, 1) // at 300
    cache.add(batch(300, 3), 2, 2) // at 600
    cache.add(batch(500, 4), 3, 3) // wraps to 0, over 0 and 1; 2 stays at 600..900
    expect(cache.read(2, 10, 10_000)).toEqual({
      bytes: Buffer.concat([batch(300, 3), batch(500, 4)]), nextOffset: 4 })
    cache.add(batch(600, 5), 4, 4) // wraps to 0..600: 2 is left behind, 3 is overwritten
    expect(cache.read(2, 10, 10_000)).toBeUndefined()
    expect(cache.read(3, 10, 10_000)).toBeUndefined()
    expect(cache.read(4, 10, 10_000)).toEqual({ bytes: batch(600, 5), nextOffset: 5 })
  })

  it('copies a batch in, so the buffer it came in can be reused', () => {
    const frame = Buffer.alloc(1000, 1)
    const view = frame.subarray(100, 140)
    const cache = new TailCache(100)
    cache.add(view, 0, 0)
    frame.fill(2)
    expect(cache.read(0, 1, 100)?.bytes).toEqual(Buffer.alloc(40, 1))
  })
})
