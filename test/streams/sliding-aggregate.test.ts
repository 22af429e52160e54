/**
 * Goal: sliding-windowed aggregation at run time equals Kafka's SlidingWindows semantics
 * computed by brute force from the input, with out-of-order records, grace, partly late and
 * wholly late records, and retention.
 *
 * Property: for records with random keys and timestamps (in random order, nearly in order,
 * crowded into a short span, or in quadruples made so a new window must include a record that
 * came after an older window holding it closed) on one partition, a topology collecting each
 * window's record indexes with slidingAggregate emits, in input order, exactly the updates of
 * the model, and its store's windows hold the model's last update of each; late records are
 * counted and the wholly late ones sent to the late topic. Collecting indexes (rather than
 * counting) checks which records each window holds and in which order they were folded.
 *
 * The model is a plain loop that keeps every record taken and never looks at the
 * implementation's store: the windows of a key are, per Kafka's definition, the left window
 * [t − d, t] of each record time t and the right window [t + 1, t + 1 + d] of each t followed
 * by another record within d + 1 (both bounds inclusive). A record is dropped whole when
 * t + d + grace < stream time (the largest timestamp so far, its own included), and counted as
 * late when t + grace < stream time. A record taken emits, oldest start first, every window
 * that holds it or that it makes, if that window is open (end + grace ≥ stream time), with the
 * indexes of the records it holds that came while it was open, in input order.
 *
 * Examples: Kafka's javadoc example (d = 5 s: three records make five windows) with
 * slidingAggregate (custom serde), slidingCount and slidingReduce; a partly late and a wholly
 * late record against app.metrics().lateRecordsDropped and the late topic.
 *
 * Method: the topology harness (real embedded broker, exactly-once app).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  type Serde, slidingAggregate, slidingCount, slidingReduce, SlidingWindows,
  type StoredSlidingWindows, topology,
} from '../../src/index.ts'
import { harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'

interface Input { key: string, timestamp: number }
interface Update { key: string, window: { start: number, end: number }, value: number[] }

/** Window starts of one key's record times, straight from Kafka's definition. */
function windowStarts(times: readonly number[], d: number): Set<number> {
  const starts = new Set<number>()
  for (const x of times) {
    starts.add(x - d)
    if (times.some(y => y > x && y <= x + 1 + d)) starts.add(x + 1)
  }
  return starts
}

/** The updates, last value per window, and late records of the semantics above. */
function model(records: readonly Input[], d: number, grace: number): {
  updates: Update[], finals: Map<string, number[]>, late: number, lateWhole: number[],
} {
  let streamTime = -1
  const taken: Array<{ key: string, t: number, index: number, streamTime: number }> = []
  const updates: Update[] = []
  const finals = new Map<string, number[]>()
  let late = 0
  const lateWhole: number[] = []
  for (const [index, { key, timestamp: t }] of records.entries()) {
    streamTime = Math.max(streamTime, t)
    if (t + d + grace < streamTime) {
      late++
      lateWhole.push(index)
      continue
    }
    if (t + grace < streamTime) late++
    const times = taken.filter(r => r.key === key).map(r => r.t)
    const before = windowStarts(times, d)
    const after = windowStarts([...times, t], d)
    taken.push({ key, t, index, streamTime })
    for (const start of [...after].sort((a, b) => a - b)) {
      const end = start + d
      const holds = start <= t && t <= end
      if ((!holds && before.has(start)) || end + grace < streamTime) continue
      const value = taken.filter(r => r.key === key && r.t >= start && r.t <= end
        && end + grace >= r.streamTime).map(r => r.index)
      updates.push({ key, window: { start, end }, value })
      finals.set(`${key}@${start}`, value)
    }
  }
  return { updates, finals, late, lateWhole }
}

const keyArbitrary = fc.constantFrom('a', 'b', 'c')

/** Records with random keys and timestamps in 0..200, in random order. */
const shuffled: fc.Arbitrary<Input[]> = fc.array(
  fc.record({ key: keyArbitrary, timestamp: fc.nat(200) }), { minLength: 1, maxLength: 30 })

/** Records in timestamp order, each delayed by up to 40 ms: mostly within grace. */
const delayed: fc.Arbitrary<Input[]> = fc.array(
  fc.record({ key: keyArbitrary, timestamp: fc.nat(200), delay: fc.nat(40) }),
  { minLength: 1, maxLength: 30 })
  .map(records => [...records].sort((x, y) => x.timestamp + x.delay - y.timestamp - y.delay)
    .map(({ key, timestamp }) => ({ key, timestamp })))

/**
 * Records of one or two keys crowded into 0..60, in random order: many records arrive after
 * some of their windows closed, and new windows then start from windows that took them late.
 */
const crowded: fc.Arbitrary<Input[]> = fc.array(
  fc.record({ key: fc.constantFrom('a', 'b'), timestamp: fc.nat(60) }),
  { minLength: 1, maxLength: 30 })

/**
 * Quadruples a, s, r, t (same key): s moves stream time past a's left window (a + grace < s),
 * r then comes within d before a (late for that window, not for all of its own), and t makes a
 * left window holding r and a that is still open — which must start from a window that took r
 * after it closed (Kafka's derivation misses r there). Needs d ≥ 1.
 */
function lateBridges(d: number, grace: number): fc.Arbitrary<Input[]> {
  return fc.array(fc.record({ key: keyArbitrary, base: fc.nat(200), x: fc.nat(d - 1),
    r: fc.nat(d), t: fc.nat(d), delay: fc.nat(60) }), { minLength: 1, maxLength: 7 })
    .map(quadruples => [...quadruples].sort((p, q) => p.base + p.delay - q.base - q.delay)
      .flatMap(({ key, base: b, x, r: rOffset, t: tOffset }) => {
        const a = b + d
        const r = a + 1 + x - d + rOffset % (d - x) // in [a + 1 + x − d, a]
        const t = a + 1 + x + tOffset % (r + d - a - x) // in [a + 1 + x, r + d]
        return [a, a + grace + 1 + x, r, t].map(timestamp => ({ key, timestamp }))
      }))
}

/** Time difference, grace and records; the late-bridge shape gets half the runs when d ≥ 1. */
const caseArbitrary = fc.record({
  d: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 3 }), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 40 }), weight: 3 }),
  grace: fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat(30), weight: 3 }),
}).chain(({ d, grace }) => fc.record({ d: fc.constant(d), grace: fc.constant(grace),
  inputs: d === 0 ? fc.oneof(shuffled, delayed, crowded)
    : fc.oneof({ arbitrary: shuffled, weight: 1 }, { arbitrary: delayed, weight: 1 },
      { arbitrary: crowded, weight: 1 }, { arbitrary: lateBridges(d, grace), weight: 3 }) }))

/** Lists of numbers as comma-separated text, to exercise the framed store layout. */
const commaList: Serde<number[]> = {
  name: 'comma-list',
  serialize: list => Buffer.from(list.join(',')),
  deserialize: bytes => bytes.length === 0 ? [] : bytes.toString().split(',').map(Number),
}

const append = (list: number[], n: number): number[] => [...list, n]

describe('sliding-windowed aggregation', () => {
  test.prop([caseArbitrary], { numRuns: numRuns(30) })(
    'slidingAggregate emits the brute-force model\'s updates in input order, its store holds '
      + 'each window\'s last update, and late records are counted and (wholly late) sent on',
    async ({ d, grace, inputs }) => {
      const h = await harness([{ topic: 'in' }, { topic: 'out' }, { topic: 'late' }])
      try {
        const windows = SlidingWindows.withTimeDifference(d, { graceMs: grace })
        const t = topology('sliding-model')
        t.stream<number>('in').pipe(slidingAggregate(windows, () => [] as number[], append,
          { store: 'sa', lateRecordsTopic: 'late' })).to('out')
        await h.produce('in', inputs.map(({ key, timestamp }, i) =>
          ({ key, value: String(i), timestamp })))
        const app = await h.start(t)
        await app.caughtUp()
        const expected = model(inputs, d, grace)
        const out = await h.read('out')
        expect(out.map(r => ({ key: r.key, ...JSON.parse(r.value!) as object })))
          .toEqual(expected.updates)
        const stored = new Map<string, number[] | undefined>()
        const entries = await app.query<StoredSlidingWindows<number[]>>('sa').all()
        for (const { key, value } of entries) {
          for (const w of value.windows) stored.set(`${String(key)}@${w.start}`, w.value)
        }
        // Every window the store shows holds its last update (one made closed shows nothing).
        for (const [id, value] of stored) expect(value).toEqual(expected.finals.get(id))
        // Windows within retention (behind stream time, by start) are all there.
        const streamTime = Math.max(...inputs.map(input => input.timestamp))
        for (const [id, value] of expected.finals) {
          if (Number(id.split('@')[1]) + windows.retentionMs >= streamTime) {
            expect(stored.get(id)).toEqual(value)
          }
        }
        expect(app.metrics().lateRecordsDropped.sa ?? 0).toBe(expected.late)
        expect((await h.read('late')).map(r => r.value))
          .toEqual(expected.lateWhole.map(i => String(i)))
      } finally {
        await h.close()
      }
    })

  it('Kafka\'s javadoc example: three records 5 s apart at most make five windows', async () => {
    const h = await harness([{ topic: 'in' }, { topic: 'lists' }, { topic: 'counts' },
      { topic: 'maxima' }])
    try {
      const windows = SlidingWindows.withTimeDifference(5000)
      const t = topology('sliding-javadoc')
      const numbers = t.stream<number>('in')
      numbers.pipe(slidingAggregate(windows, () => [] as number[], append,
        { store: 'lists', serde: commaList })).to('lists')
      numbers.pipe(slidingCount(windows, { store: 'counts' })).to('counts')
      numbers.pipe(slidingReduce(windows, (a: number, b: number) => Math.max(a, b),
        { store: 'maxima' })).to('maxima')
      await h.produce('in', [[8000, 1], [9200, 2], [12400, 3]].map(([ts, n]) =>
        ({ key: 'A', value: String(n), timestamp: ts })))
      const app = await h.start(t)
      await app.caughtUp()
      const values = async (topic: string): Promise<string[]> => (await h.read(topic))
        .map(r => { const { window, value } = JSON.parse(r.value!) as {
          window: { start: number, end: number }, value: unknown }
        return `${window.start}-${window.end}:${JSON.stringify(value)}` })
      // 9200 makes its left window and 8000's right window; 12400 makes its left window (from
      // [4200, 9200], which holds the same earlier records), updates [8001, 13001] and makes
      // 9200's right window. [3000, 8000] does not hold 12400.
      expect(await values('lists')).toEqual(['3000-8000:[1]', '4200-9200:[1,2]',
        '8001-13001:[2]', '7400-12400:[1,2,3]', '8001-13001:[2,3]', '9201-14201:[3]'])
      expect(await values('counts')).toEqual(['3000-8000:1', '4200-9200:2', '8001-13001:1',
        '7400-12400:3', '8001-13001:2', '9201-14201:1'])
      expect(await values('maxima')).toEqual(['3000-8000:1', '4200-9200:2', '8001-13001:2',
        '7400-12400:3', '8001-13001:3', '9201-14201:3'])
      // The javadoc's five windows, with the serde's framing read back.
      const [entry] = await app.query<StoredSlidingWindows<number[]>>('lists').all()
      expect(entry!.value).toEqual({ times: [8000, 9200, 12400], windows: [
        { start: 3000, value: [1] }, { start: 4200, value: [1, 2] },
        { start: 7400, value: [1, 2, 3] }, { start: 8001, value: [2, 3] },
        { start: 9201, value: [3] }] })
    } finally {
      await h.close()
    }
  })

  it(
    'a record late for all its windows is dropped and sent to the late topic; one late for '
    + 'some is counted and folded into the open ones', async () => {
      const h = await harness([{ topic: 'in' }, { topic: 'out' }, { topic: 'late' }])
      try {
        const t = topology('sliding-late')
        t.stream<string>('in').pipe(slidingCount(
          SlidingWindows.withTimeDifference(10, { graceMs: 5 }),
          { store: 'sc', lateRecordsTopic: 'late' })).to('out')
        await h.produce('in', [[100, 'a'], [130, 'b'], [114, 'c'], [120, 'd']].map(([ts, v]) =>
          ({ key: 'k', value: `"${v}"`, timestamp: ts as number })))
        const app = await h.start(t)
        await app.caughtUp()
        // At stream time 130: 114 + 10 + 5 < 130, so every window that could hold 114 is
        // closed. 120's left window [110, 120] is closed (120 + 5 < 130), but [120, 130] is
        // open and takes it, and 120 makes its right window [121, 131], holding 130.
        expect((await h.read('out')).map(r => JSON.parse(r.value!) as object)).toEqual([
          { window: { start: 90, end: 100 }, value: 1 },
          { window: { start: 120, end: 130 }, value: 1 },
          { window: { start: 120, end: 130 }, value: 2 },
          { window: { start: 121, end: 131 }, value: 1 }])
        expect(app.metrics().lateRecordsDropped).toEqual({ sc: 2 })
        expect((await h.read('late')).map(r => r.value)).toEqual(['"c"'])
      } finally {
        await h.close()
      }
    })
})
