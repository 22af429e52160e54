/**
 * Goal: windowed aggregation at run time equals a model computed from the input (issue 7),
 * including hopping overlaps, grace and late drops. Property: for records with random keys and
 * timestamps (out of order within and beyond the grace period) on one partition, a topology
 * counting them in tumbling or hopping windows emits, in input order, exactly the updates of
 * the model — per record, for each window holding its timestamp that is still open (end + grace
 * > the largest timestamp so far), the window's new count — and its store ends equal to the
 * model's counts for the windows still open (closed ones may have been swept: retention).
 * Examples check windowedAggregate and windowedReduce the same way, and event
 * time from a `timestampExtractor` (an invalid one fails the record as a deserialization error).
 *
 * Method: the topology harness (real embedded broker, exactly-once app); the model is a loop
 * over the same records.
 */
import { fc, test } from '@fast-check/vitest'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type ErrorLogEntry, TimeWindows, topology, type WeirError, windowedAggregate, windowedCount,
  windowedReduce,
} from '../../src/index.ts'
import { harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'

interface Input { key: string, timestamp: number }

/** The updates and final counts of windowed counting, per the semantics above. */
function model(records: readonly Input[], windows: TimeWindows): {
  updates: Array<{ key: string, window: { start: number, end: number }, value: number }>,
  counts: Map<string, number>,
  /** Records late for some of their windows; the indexes of those late for all of them. */
  late: number,
  lateForAll: number[],
} {
  let streamTime = -1
  const counts = new Map<string, number>()
  const updates = []
  let late = 0
  const lateForAll = []
  for (const [index, { key, timestamp }] of records.entries()) {
    streamTime = Math.max(streamTime, timestamp)
    let closed = 0
    let held = 0
    for (let start = 0; start <= timestamp; start += windows.advanceMs) {
      const end = start + windows.sizeMs
      if (end <= timestamp) continue
      held++
      if (end + windows.graceMs <= streamTime) {
        closed++
        continue
      }
      const id = `${key}@${start}`
      const value = (counts.get(id) ?? 0) + 1
      counts.set(id, value)
      updates.push({ key, window: { start, end }, value })
    }
    if (closed > 0) late++
    if (closed > 0 && closed === held) lateForAll.push(index)
  }
  return { updates, counts, late, lateForAll }
}

const windowsArbitrary = fc.oneof(
  fc.record({ size: fc.integer({ min: 1, max: 50 }), grace: fc.nat(30) })
    .map(({ size, grace }) => TimeWindows.tumbling(size, { graceMs: grace })),
  fc.record({ size: fc.integer({ min: 2, max: 50 }), divisor: fc.integer({ min: 1, max: 5 }),
    grace: fc.nat(30) })
    .map(({ size, divisor, grace }) => TimeWindows.hopping(size,
      Math.max(1, Math.floor(size / divisor)), { graceMs: grace })),
)

const inputsArbitrary = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'),
  timestamp: fc.nat(200) }), { minLength: 1, maxLength: 30 })

describe('windowed aggregation', () => {
  test.prop([windowsArbitrary, inputsArbitrary], { numRuns: numRuns(12) })(
    'windowedCount emits the model\'s updates in input order, its store equals the model, and '
    + 'late records are counted and (late for every window) sent to the late topic',
    async (windows, inputs) => {
      const h = await harness([{ topic: 'in' }, { topic: 'out' }, { topic: 'late' }])
      try {
        const t = topology('windowed-count')
        t.stream<string>('in').pipe(windowedCount(windows,
          { store: 'wc', lateRecordsTopic: 'late' })).to('out')
        await h.produce('in', inputs.map(({ key, timestamp }, i) =>
          ({ key, value: `"x${i}"`, timestamp })))
        const app = await h.start(t)
        await app.caughtUp()
        const expected = model(inputs, windows)
        const out = await h.read('out')
        expect(out.map(r => ({ key: r.key, ...JSON.parse(r.value!) as object })))
          .toEqual(expected.updates)
        const stored = await app.query<number>('wc').all()
        const storedCounts = new Map(stored.map(({ key, value }) => {
          const { key: k, start } = key as unknown as { key: string, start: number }
          return [`${k}@${start}`, value]
        }))
        // Retention: windows still open at the end are all kept; closed ones may be swept.
        const streamTime = Math.max(...inputs.map(input => input.timestamp))
        for (const [id, count] of expected.counts) {
          const start = Number(id.split('@')[1])
          if (windows.isOpen(start + windows.sizeMs, streamTime)) {
            expect(storedCounts.get(id)).toBe(count)
          }
        }
        for (const [id, count] of storedCounts) expect(count).toBe(expected.counts.get(id))
        expect(app.metrics().lateRecordsDropped.wc ?? 0).toBe(expected.late)
        expect((await h.read('late')).map(r => r.value))
          .toEqual(expected.lateForAll.map(i => `"x${i}"`))
      } finally {
        await h.close()
      }
    })

  it(
    'windowedAggregate and windowedReduce fold each window of a hopping set', async () => {
      const h = await harness([{ topic: 'in' }, { topic: 'sums' }, { topic: 'maxima' }])
      try {
        const windows = TimeWindows.hopping(10, 5)
        const t = topology('windowed-folds')
        const numbers = t.stream<number>('in')
        numbers.pipe(windowedAggregate(windows, () => 0, (sum, n: number) => sum + n,
          { store: 'sums' })).to('sums')
        numbers.pipe(windowedReduce(windows, (a: number, b: number) => Math.max(a, b),
          { store: 'maxima' })).to('maxima')
        await h.produce('in', [[3, 1], [7, 2], [12, 5], [6, 4]].map(([ts, n]) =>
          ({ key: 'k', value: String(n), timestamp: ts })))
        const app = await h.start(t)
        await app.caughtUp()
        const values = async (topic: string): Promise<string[]> => (await h.read(topic))
          .map(r => { const { window, value } = JSON.parse(r.value!) as {
            window: { start: number }, value: number }
          return `${window.start}:${value}` })
        // Windows [0,10), [5,15), [10,20): 3 → [0]; 7 → [0],[5]; 12 → [5],[10]; 6 arrives at
        // stream time 12: [0,10) has closed (no grace), so only [5,15) takes it.
        expect(await values('sums')).toEqual(['0:1', '0:3', '5:2', '5:7', '10:5', '5:11'])
        expect(await values('maxima')).toEqual(['0:1', '0:2', '5:2', '5:5', '10:5', '5:5'])
      } finally {
        await h.close()
      }
    })

  it(
    'a timestampExtractor gives event time to windows; an invalid result is a deserialization '
    + 'error, skipped here', async () => {
      const h = await harness([{ topic: 'in' }, { topic: 'out' }])
      try {
        const t = topology('extracted-time')
        t.stream<{ at: number }>('in', { timestampExtractor: value => value.at })
          .pipe(windowedCount(TimeWindows.tumbling(100), { store: 'per-100' })).to('out')
        // Produced "now" (wall-clock), counted by the event time in the value; -5 is refused.
        await h.produce('in', [5, 150, -5, 99].map(at =>
          ({ key: 'k', value: JSON.stringify({ at }) })))
        const logged: ErrorLogEntry[] = []
        const app = await h.start(t, { deserializationErrors: 'skip',
          logger: entry => { logged.push(entry) } })
        await app.caughtUp()
        expect(logged.map(({ stage, error }) => [stage, (error as WeirError).code]))
          .toEqual([['deserialization', 'WEIR_ERR_STREAMS_TIMESTAMP']])
        // 99 arrives at stream time 150: [0, 100) has closed (no grace), so it is dropped.
        expect((await h.read('out')).map(r => JSON.parse(r.value!) as object)).toEqual([
          { window: { start: 0, end: 100 }, value: 1 },
          { window: { start: 100, end: 200 }, value: 1 }])
      } finally {
        await h.close()
      }
    })

  it(
    'stream time survives a restart (it is kept in the commit\'s offset metadata): a record late '
    + 'against one processed before the restart is dropped after it too', async () => {
      const h = await harness([{ topic: 'in' }, { topic: 'out' }])
      try {
        const build = (): ReturnType<typeof topology> => {
          const t = topology('restarted-windows')
          t.stream<string>('in').pipe(windowedCount(TimeWindows.hopping(20, 10, { graceMs: 5 }),
            { store: 'wc' })).to('out')
          return t
        }
        await h.produce('in', [{ key: 'k', value: '"a"', timestamp: 46 }])
        const first = await h.start(build())
        await first.caughtUp()
        await first.close()
        // [0, 20) closed at stream time 46 (20 + 5 ≤ 46); [10, 30) too. Nothing may take 8.
        await h.produce('in', [{ key: 'k', value: '"b"', timestamp: 8 }])
        const second = await h.start(build())
        await second.caughtUp()
        expect((await h.read('out')).map(r => JSON.parse(r.value!) as object)).toEqual([
          { window: { start: 30, end: 50 }, value: 1 },
          { window: { start: 40, end: 60 }, value: 1 }])
        expect(second.metrics().lateRecordsDropped).toEqual({ wc: 1 })
      } finally {
        await h.close()
      }
    })

  it('retention: a closed window is deleted from the store (and its changelog) once stream time '
    + 'passes its start + size + grace and a sweep runs; it stays gone after a restore',
  async () => {
    const h = await harness([{ topic: 'in' }, { topic: 'out' }])
    try {
      const build = (): ReturnType<typeof topology> => {
        const t = topology('retained-windows')
        t.stream<string>('in').pipe(windowedCount(TimeWindows.tumbling(10, { graceMs: 4 }),
          { store: 'wc' })).to('out')
        return t
      }
      const windowsOf = async (app: Awaited<ReturnType<typeof h.start>>): Promise<string[]> =>
        (await app.query<number>('wc').all()).map(({ key }) => {
          const { key: k, start } = key as unknown as { key: string, start: number }
          return `${k}@${start}`
        }).sort()
      await h.produce('in', [{ key: 'a', value: '"x"', timestamp: 1 },
        { key: 'b', value: '"x"', timestamp: 12 }])
      const first = await h.start(build())
      await first.caughtUp()
      expect(await windowsOf(first)).toEqual(['a@0', 'b@10'])
      // Retention 14 ms, swept every 7 ms of stream time: at 40, [0, 10) and [10, 20) are gone.
      await h.produce('in', [{ key: 'c', value: '"x"', timestamp: 40 }])
      await first.caughtUp()
      expect(await windowsOf(first)).toEqual(['c@40'])
      await first.close()
      // A fresh state directory: the store is restored from its changelog alone.
      const second = await h.start(build(), { stateDir: join(h.dir, 'restored') })
      await second.caughtUp()
      expect(await windowsOf(second)).toEqual(['c@40'])
    } finally {
      await h.close()
    }
  })
})
