/**
 * Goal: the test kit's arbitraries (src/testing/arbitraries*.ts) generate what their docs
 * promise, since users build their own properties on those promises: event times never lag the
 * largest earlier one by more than `maxDisorderMs` and stay in their stated range; keys are
 * really skewed and the cold ones include every non-ASCII key; records, chunks and fault
 * schedules respect their options; and a failing fault-schedule property shrinks to one
 * simplest fault.
 *
 * Method: properties over generated options check each invariant on every generated value.
 * Statistical claims (skew, coverage, the bound being reached) are checked on large samples
 * drawn with a fixed seed, so they cannot flake. Shrinking is checked with `fc.check` on a
 * fixed seed, by the exact counterexample it reports.
 */
import { describe, expect, it } from 'vitest'
import { fc, test } from '@fast-check/vitest'
import {
  chunked, chunks, DEFAULT_KEYS, DEFAULT_START_MS, eventTimes, type EventTimesOptions, keys,
  records, withEventTimeDisorder,
} from '../../src/testing/arbitraries.ts'
import {
  FAULT_APIS, FAULT_KINDS, faults, faultSchedules, PROCESSING_STEPS,
} from '../../src/testing/arbitraries-faults.ts'
import type { FaultKind, ScheduledFault } from '../../src/testing/model.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(100)
const SEED = 20_260_124

/** Each timestamp's lag behind the largest earlier one (0 for the first or when ahead). */
function lags(times: readonly number[]): number[] {
  let largest = -Infinity
  return times.map(time => {
    const lag = Math.max(0, largest - time)
    largest = Math.max(largest, time)
    return lag
  })
}

function tally<T>(values: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

const eventTimesOptions: fc.Arbitrary<EventTimesOptions> = fc.record({
  start: fc.integer({ min: 0, max: 2 * DEFAULT_START_MS }),
  count: fc.integer({ min: 0, max: 40 }),
  maxDisorderMs: fc.integer({ min: 0, max: 5000 }),
  stepMs: fc.integer({ min: 0, max: 2000 }),
})

describe('eventTimes', () => {
  const withTimes = eventTimesOptions.chain(options =>
    eventTimes(options).map(times => ({ options, times })))

  test.prop([withTimes], { numRuns })(
    'disorder never exceeds maxDisorderMs and every timestamp is within its range',
    ({ options: { start = 0, count, maxDisorderMs, stepMs = 0 }, times }) => {
      expect(times).toHaveLength(count)
      if (count > 0) expect(times[0]).toBe(start)
      for (const time of times) {
        expect(Number.isSafeInteger(time)).toBe(true)
        expect(time).toBeGreaterThanOrEqual(start)
        expect(time).toBeLessThanOrEqual(start + Math.max(0, count - 1) * stepMs)
      }
      for (const lag of lags(times)) expect(lag).toBeLessThanOrEqual(maxDisorderMs)
    })

  it('reaches the bound exactly, and also generates runs in order', () => {
    const samples = fc.sample(eventTimes({ count: 20, maxDisorderMs: 300, stepMs: 100 }),
      { numRuns: 500, seed: SEED })
    const allLags = samples.flatMap(lags)
    expect(Math.max(...allLags)).toBe(300)
    expect(samples.some(times => lags(times).every(lag => lag === 0))).toBe(true)
    expect(samples.some(times => lags(times).some(lag => lag > 0))).toBe(true)
  })

  it('defaults start to DEFAULT_START_MS and rejects bad options', () => {
    const [times] = fc.sample(eventTimes({ count: 3, maxDisorderMs: 10 }), { numRuns: 1, seed: 1 })
    expect(times![0]).toBe(DEFAULT_START_MS)
    expect(() => eventTimes({ count: -1, maxDisorderMs: 0 })).toThrow(RangeError)
    expect(() => eventTimes({ count: 1, maxDisorderMs: 1.5 })).toThrow(RangeError)
    expect(() => eventTimes({ count: 3, maxDisorderMs: 0, start: Number.MAX_SAFE_INTEGER,
      stepMs: 1 })).toThrow(RangeError)
  })
})

describe('event times on records', () => {
  const arbitrary = fc.integer({ min: 0, max: 1000 }).chain(maxDisorderMs => fc.tuple(
    fc.constant(maxDisorderMs),
    records(fc.nat(), { maxLength: 30, partitions: 3,
      eventTime: { maxDisorderMs, start: 1000, stepMs: 50 } }),
    withEventTimeDisorder(fc.array(fc.record({ key: fc.string(), value: fc.nat() }),
      { maxLength: 30 }), { maxDisorderMs, start: 1000, stepMs: 50 })))

  test.prop([arbitrary], { numRuns })(
    'records\' eventTime and withEventTimeDisorder keep disorder within the bound and range',
    ([maxDisorderMs, ...arrays]) => {
      for (const timed of arrays) {
        const times = timed.map(record => record.timestamp!)
        for (const lag of lags(times)) expect(lag).toBeLessThanOrEqual(maxDisorderMs)
        for (const time of times) {
          expect(time).toBeGreaterThanOrEqual(1000)
          expect(time).toBeLessThanOrEqual(1000 + Math.max(0, timed.length - 1) * 50)
        }
      }
    })

  it('withEventTimeDisorder keeps the records it is given, in order', () => {
    const given = [{ key: 'a', value: 1 }, { key: 'b', value: 2, partition: 1 }]
    const [timed] = fc.sample(withEventTimeDisorder(fc.constant(given), { maxDisorderMs: 5 }),
      { numRuns: 1, seed: SEED })
    expect(timed!.map(({ timestamp: _, ...rest }) => rest)).toEqual(given)
  })

  it('a property failing on any late record shrinks to three records, one 1 ms late', () => {
    const arbitrary = records(fc.nat(), { maxLength: 30, eventTime: { maxDisorderMs: 500,
      start: 0 } })
    const details = fc.check(fc.property(arbitrary, input =>
      lags(input.map(record => record.timestamp!)).every(lag => lag === 0)),
    { seed: SEED, numRuns: 200 })
    expect(details.counterexample?.[0]).toEqual([0, 1, 0].map(timestamp =>
      ({ key: 'hot', value: 0, timestamp })))
  })
})

describe('keys', () => {
  it('is skewed: over 2,000 keys the hot key is the most frequent, by a margin of 4×', () => {
    const counts = tally(fc.sample(keys(), { numRuns: 2000, seed: SEED }))
    const hot = counts.get('hot') ?? 0
    const coldMost = Math.max(...[...counts].filter(([key]) => key !== 'hot').map(([, n]) => n))
    // Expected: hot 10/21 of the draws (≈ 950), each cold key 1/21 (≈ 95).
    expect(hot).toBeGreaterThan(4 * coldMost)
  })

  it('draws each of several hot keys more often than any cold one', () => {
    const counts = tally(fc.sample(keys({ hot: 3, hotWeight: 8 }), { numRuns: 2000, seed: SEED }))
    const [first, second, third, ...cold] = DEFAULT_KEYS
    const coldMost = Math.max(...cold.map(key => counts.get(key) ?? 0))
    for (const key of [first!, second!, third!]) {
      expect(counts.get(key) ?? 0).toBeGreaterThan(3 * coldMost)
    }
  })

  it('draws every cold key, non-ASCII ones included, in a sample of 2,000', () => {
    const drawn = new Set(fc.sample(keys(), { numRuns: 2000, seed: SEED }))
    expect([...drawn].sort()).toEqual([...DEFAULT_KEYS].sort())
    for (const key of ['ü', 'ключ', '🙂', 'a b', '鍵']) expect(drawn.has(key)).toBe(true)
  })

  it('takes count keys from the front of a custom alphabet', () => {
    const drawn = new Set(fc.sample(keys({ alphabet: ['x', 'y', 'z', 'w'], count: 3 }),
      { numRuns: 500, seed: SEED }))
    expect([...drawn].sort()).toEqual(['x', 'y', 'z'])
  })

  it('rejects options out of range', () => {
    expect(() => keys({ count: 0 })).toThrow(RangeError)
    expect(() => keys({ count: DEFAULT_KEYS.length + 1 })).toThrow(RangeError)
    expect(() => keys({ hot: 3, count: 2 })).toThrow(RangeError)
    expect(() => keys({ hotWeight: 2.5 })).toThrow(RangeError)
    expect(() => keys({ alphabet: ['a', 'a'] })).toThrow(RangeError)
  })
})

describe('records', () => {
  const arbitrary = fc.record({
    minLength: fc.integer({ min: 0, max: 5 }),
    extra: fc.integer({ min: 0, max: 20 }),
    partitions: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  }).chain(({ minLength, extra, partitions }) => {
    const options = { minLength, maxLength: minLength + extra, partitions }
    return records(fc.nat(), options).map(generated => ({ options, generated }))
  })

  test.prop([arbitrary], { numRuns })(
    'lengths, keys and partitions stay within the options, and no record has a timestamp',
    ({ options: { minLength, maxLength, partitions }, generated }) => {
      expect(generated.length).toBeGreaterThanOrEqual(minLength)
      expect(generated.length).toBeLessThanOrEqual(maxLength)
      for (const record of generated) {
        expect(DEFAULT_KEYS).toContain(record.key)
        expect(record.timestamp).toBeUndefined()
        if (partitions === undefined) expect(record.partition).toBeUndefined()
        else expect(record.partition).toBeLessThan(partitions)
      }
    })

  it('takes keys of any type', () => {
    const [generated] = fc.sample(records(fc.string(), { keys: fc.nat(9), minLength: 3 }),
      { numRuns: 1, seed: SEED })
    expect(generated!.length).toBeGreaterThanOrEqual(3)
    for (const record of generated!) expect(typeof record.key).toBe('number')
  })
})

describe('chunks', () => {
  const arbitrary = fc.integer({ min: 1, max: 6 }).chain(maxChunks => fc.tuple(
    fc.constant(maxChunks), fc.array(fc.nat()).chain(items =>
      fc.tuple(fc.constant(items), chunks(fc.constant(items), { maxChunks })))))

  test.prop([arbitrary], { numRuns })(
    'chunks are non-empty, at most maxChunks, and concatenate to the input',
    ([maxChunks, [items, parts]]) => {
      expect(parts.flat()).toEqual(items)
      expect(parts.length).toBeLessThanOrEqual(maxChunks)
      for (const part of parts) expect(part.length).toBeGreaterThan(0)
    })

  it('cuts at fractions of the length, dropping cuts at 0 and repeats', () => {
    expect(chunked(['a', 'b', 'c', 'd'], [0.5])).toEqual([['a', 'b'], ['c', 'd']])
    expect(chunked(['a', 'b', 'c', 'd'], [0, 0.75, 0.8, 0.25]))
      .toEqual([['a'], ['b', 'c'], ['d']])
    expect(chunked([], [0.5])).toEqual([])
  })

  it('really splits: most inputs of 10 come in several chunks (fixed seed)', () => {
    const samples = fc.sample(chunks(fc.constant([...Array(10).keys()]), { maxChunks: 4 }),
      { numRuns: 1000, seed: SEED })
    const split = samples.filter(parts => parts.length > 1).length
    expect(split).toBeGreaterThan(600)
    expect(samples.some(parts => parts.length === 4)).toBe(true)
  })
})

describe('faultSchedules', () => {
  /** A non-empty subset of `all`, in its order. */
  const subset = <T>(all: readonly T[]): fc.Arbitrary<T[]> =>
    fc.subarray([...all], { minLength: 1 })
  const options = fc.record({
    kinds: fc.subarray([...FAULT_KINDS]),
    steps: subset(PROCESSING_STEPS),
    apis: subset(FAULT_APIS),
    maxDelayMs: fc.integer({ min: 1, max: 10_000 }),
    maxFaults: fc.integer({ min: 0, max: 6 }),
    inputs: fc.integer({ min: 0, max: 50 }),
  })
  const withSchedule = options.chain(chosen =>
    faultSchedules(chosen).map(schedule => ({ options: chosen, schedule })))

  test.prop([withSchedule], { numRuns })(
    'schedules are sorted, in range, of allowed kinds and parameters, within maxFaults',
    ({ options: { kinds, steps, apis, maxDelayMs, maxFaults, inputs }, schedule }) => {
      expect(schedule.length).toBeLessThanOrEqual(maxFaults)
      schedule.forEach(({ afterRecords, fault }, index) => {
        expect(Number.isInteger(afterRecords)).toBe(true)
        expect(afterRecords).toBeGreaterThanOrEqual(0)
        expect(afterRecords).toBeLessThanOrEqual(inputs)
        const previous = schedule[index - 1]?.afterRecords ?? 0
        expect(afterRecords).toBeGreaterThanOrEqual(previous)
        expect(kinds).toContain(fault.kind)
        if (fault.kind === 'crash') expect(steps).toContain(fault.step)
        if (fault.kind === 'delay-request' || fault.kind === 'duplicate-request') {
          expect(apis).toContain(fault.api)
        }
        if (fault.kind === 'delay-request') {
          expect(fault.delayMs).toBeGreaterThanOrEqual(1)
          expect(fault.delayMs).toBeLessThanOrEqual(maxDelayMs)
        }
      })
    })

  it('draws every kind, step and API, losing state both ways, in a fixed-seed sample', () => {
    const drawn = fc.sample(faults({ kinds: FAULT_KINDS }), { numRuns: 2000, seed: SEED })
    expect(new Set(drawn.map(fault => fault.kind))).toEqual(new Set(FAULT_KINDS))
    const crashes = drawn.flatMap(fault => fault.kind === 'crash' ? [fault] : [])
    expect(new Set(crashes.map(fault => fault.step))).toEqual(new Set(PROCESSING_STEPS))
    expect(new Set(crashes.map(fault => fault.loseState))).toEqual(new Set([true, false]))
    const apis = drawn.flatMap(fault => 'api' in fault ? [fault.api] : [])
    expect(new Set(apis)).toEqual(new Set(FAULT_APIS))
  })

  /** The counterexample fc.check reports for `fails` over schedules from `kinds`. */
  function shrunk(kinds: readonly FaultKind[], fails: (schedule: ScheduledFault[]) => boolean):
  ScheduledFault[] {
    const arbitrary = faultSchedules({ kinds, maxFaults: 8, inputs: 100 })
    const details = fc.check(fc.property(arbitrary, schedule => !fails(schedule)),
      { seed: SEED, numRuns: 200 })
    expect(details.failed).toBe(true)
    return details.counterexample![0]
  }

  it('a property failing whenever a crash happens shrinks to one crash after 0 records', () => {
    const schedule = shrunk(FAULT_KINDS, s => s.some(({ fault }) => fault.kind === 'crash'))
    expect(schedule).toEqual([{ afterRecords: 0,
      fault: { kind: 'crash', step: 'after-process', loseState: false } }])
  })

  it('a property failing on any fault shrinks to one fault of the simplest allowed kind', () => {
    const schedule = shrunk(['zombie', 'delay-request'], s => s.length > 0)
    expect(schedule).toEqual([{ afterRecords: 0,
      fault: { kind: 'delay-request', api: 'produce', delayMs: 1 } }])
  })

  it('a property failing on a late fault shrinks to one simplest fault at the boundary', () => {
    const schedule = shrunk(FAULT_KINDS, s => s.some(({ afterRecords }) => afterRecords >= 40))
    expect(schedule).toEqual([{ afterRecords: 40,
      fault: { kind: 'crash', step: 'after-process', loseState: false } }])
  })

  it('allows no faults when no kinds are given, and rejects bad options', () => {
    expect(fc.sample(faultSchedules({ kinds: [], maxFaults: 3, inputs: 5 }), 5))
      .toEqual([[], [], [], [], []])
    expect(() => faultSchedules({ kinds: ['crash'], maxFaults: -1, inputs: 5 }))
      .toThrow(RangeError)
    expect(() => faults({ kinds: [] })).toThrow(RangeError)
    expect(() => faults({ kinds: ['crash'], steps: [] })).toThrow(RangeError)
    expect(() => faults({ kinds: ['duplicate-request'], apis: [] })).toThrow(RangeError)
    expect(() => faults({ kinds: ['crash'], maxDelayMs: 0 })).toThrow(RangeError)
    // A JavaScript caller can pass what the types forbid.
    expect(() => faults({ kinds: ['meteor' as FaultKind] })).toThrow(RangeError)
  })
})
