/**
 * Goal: the windowed-metrics topology sends one final summary per metric and closed minute —
 * never an update, never a minute still open — with the exact count, min, max and sum of the
 * minute's on-time measurements and a p95 within 1% of their exact nearest-rank p95; late
 * measurements are dropped and counted, invalid ones skipped. Method: fast-check generates
 * measurements over a few metrics, moving forward in event time over several minutes with some
 * out of order within the grace period and some beyond it, and invalid values among them; the
 * topology runs on a fresh embedded Weir (one partition, so one stream time) until caught up;
 * the output topic and the late-record count are compared with a model written here: it keeps
 * every value and replays stream time and window closing record by record. A pure property
 * checks the histogram's estimate on its own, and a worked example shows each rule once.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  addValue, emptyHistogram, estimatePercentile, GRACE_MS, type Measurement, measurementsTopic,
  metricsPerMinuteTopic, metricWindowsStore, type MinuteSummary, windowedMetrics,
  windowedMetricsTopics, WINDOW_SIZE_MS,
} from '../../topologies/windowed-metrics.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { propertyParameters } from '../helpers/streams-fixtures.ts'
import { committedByKey, runTopology } from '../helpers/topologies-fixtures.ts'

/** A minute, aligned: 1_700_000_040_000 is a multiple of 60 000. */
const T = 1_700_000_040_000

/** The exact nearest-rank p95: the value of the least rank r with r/n ≥ 95%. */
function exactP95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  let rank = 1
  while (rank * 100 < 95 * sorted.length) rank++
  return sorted[rank - 1]!
}

interface ExactMinute {
  readonly metric: string
  readonly windowStart: number
  readonly values: number[]
}

interface Expected {
  /** Per metric, the minutes emitted, in emission order. */
  readonly summaries: Map<string, ExactMinute[]>
  readonly late: number
}

/**
 * The rules replayed on what the topology reads (each measurement through JSON, as produced):
 * stream time is the largest valid `at` so far; a valid measurement whose minute's end + grace
 * ≤ stream time is late; after each on-time one, every pending minute so closed is emitted.
 */
function model(measurements: readonly Measurement[]): Expected {
  const summaries = new Map<string, ExactMinute[]>()
  const pending = new Map<string, ExactMinute>()
  let streamTime = -1
  let late = 0
  for (const sent of measurements) {
    const { metric, value, at } = JSON.parse(JSON.stringify(sent)) as Record<string, unknown>
    const validAt = Number.isSafeInteger(at) && (at as number) >= 0
    if (validAt) streamTime = Math.max(streamTime, at as number)
    if (!validAt || typeof value !== 'number' || typeof metric !== 'string') continue
    const windowStart = Math.floor((at as number) / WINDOW_SIZE_MS) * WINDOW_SIZE_MS
    const closes = (start: number): boolean => start + WINDOW_SIZE_MS + GRACE_MS <= streamTime
    if (closes(windowStart)) {
      late++
      continue
    }
    const id = `${windowStart} ${metric}`
    const minute = pending.get(id) ?? { metric, windowStart, values: [] }
    minute.values.push(value)
    pending.set(id, minute)
    for (const [closedId, closed] of [...pending].filter(([, m]) => closes(m.windowStart))
      .sort(([, a], [, b]) => a.windowStart - b.windowStart)) {
      summaries.set(closed.metric, [...summaries.get(closed.metric) ?? [], closed])
      pending.delete(closedId)
    }
  }
  return { summaries, late }
}

function expectWithinOnePercent(estimate: number, exact: number): void {
  expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(0.01 * Math.abs(exact) * (1 + 1e-9))
}

function expectSummaries(actual: ReadonlyMap<string, MinuteSummary[]>,
  expected: ReadonlyMap<string, ExactMinute[]>): void {
  const exactFields = (summary: MinuteSummary) => {
    const { p95: _p95, ...rest } = summary
    return rest
  }
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort())
  for (const [metric, minutes] of expected) {
    const summaries = actual.get(metric)!
    expect(summaries.map(exactFields)).toEqual(minutes.map(({ values, windowStart }) => ({
      metric, windowStart, windowEnd: windowStart + WINDOW_SIZE_MS, count: values.length,
      min: Math.min(...values), max: Math.max(...values),
      sum: values.reduce((sum, value) => sum + value, 0) })))
    minutes.forEach((minute, i) => expectWithinOnePercent(summaries[i]!.p95,
      exactP95(minute.values)))
  }
}

/** Normal doubles (and zeros): the histogram's bound is stated for them. */
const finiteValue = fc.double({ min: -1e6, max: 1e6, noNaN: true })
  .filter(value => value === 0 || Math.abs(value) >= 1e-300)
const value = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 200 }) },
  { weight: 3, arbitrary: finiteValue },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Number.POSITIVE_INFINITY) })

/**
 * Event time moves forward by `advance`; a measurement is `lag` behind it. One hot metric, so
 * that minutes have more than 20 values and the p95 is not the max.
 */
const step = fc.record({
  metric: fc.oneof({ weight: 4, arbitrary: fc.constant('cpu') },
    { weight: 1, arbitrary: fc.constantFrom('mem', 'disk-é') }),
  value,
  advanceMs: fc.nat(2_500),
  lagMs: fc.oneof({ weight: 6, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: GRACE_MS }) },
    { weight: 1, arbitrary: fc.integer({ min: GRACE_MS, max: 3 * WINDOW_SIZE_MS }) }),
})

const measurementsArbitrary: fc.Arbitrary<Measurement[]> = fc.tuple(fc.nat(WINDOW_SIZE_MS),
  fc.array(step, { maxLength: 200, size: 'max' })).map(([offsetMs, steps]) => {
  let now = T + offsetMs
  return steps.map(({ metric, value, advanceMs, lagMs }) => {
    now += advanceMs
    return { metric, value, at: now - lagMs }
  })
})

describe('windowed metrics', () => {
  test.prop([fc.array(fc.oneof(fc.integer({ min: -50, max: 5_000 }), finiteValue),
    { minLength: 1, maxLength: 300, size: 'max' })], { numRuns: numRuns(500) })(
    'the histogram\'s p95 is within 1% of the exact nearest-rank p95, for any finite values',
    values => {
      const histogram = values.reduce(addValue, emptyHistogram('m'))
      expectWithinOnePercent(estimatePercentile(histogram, 95), exactP95(values))
    })

  test.prop([measurementsArbitrary],
    propertyParameters(8) as fc.Parameters<[Measurement[]]>)(
    'per-minute results are final (one per closed window), with the model\'s exact counts, '
      + 'min, max and sum and p95 within 1% of the exact nearest-rank p95; late measurements '
      + 'are dropped and counted',
    async measurements => {
      const expected = model(measurements)
      await runTopology({ topology: windowedMetrics(), topics: windowedMetricsTopics(1),
        input: measurementsTopic, events: measurements, keyOf: m => m.metric },
      async ({ weir, app }) => {
        expectSummaries(await committedByKey<MinuteSummary>(weir, metricsPerMinuteTopic),
          expected.summaries)
        expect(app.metrics().lateRecordsDropped[metricWindowsStore] ?? 0).toBe(expected.late)
      })
    })

  it('a minute is emitted once, when stream time passes its end + grace: out-of-order '
    + 'measurements within grace count, later ones are dropped, invalid ones skipped',
  async () => {
    const measurements: Measurement[] = [
      // Minute [T, T + 60 s): the values 1..100.
      ...Array.from({ length: 100 }, (_, i) => ({ metric: 'latency', value: i + 1,
        at: T + i * 500 })),
      { metric: 'latency', value: 7, at: T + 65_000 }, // the next minute
      { metric: 'latency', value: 1000, at: T + 30_000 }, // out of order, within grace
      { metric: 'latency', value: NaN, at: T + 69_000 }, // invalid: skipped (moves time)
      { metric: 'latency', value: 3, at: -5 }, // invalid time: skipped, does not move time
      { metric: 'latency', value: 5, at: T + 70_000 }, // closes [T, T + 60 s)
      { metric: 'latency', value: 2000, at: T + 59_999 }, // late: dropped, counted
    ]
    await runTopology({ topology: windowedMetrics('windowed-metrics-example'),
      topics: windowedMetricsTopics(1), input: measurementsTopic, events: measurements,
      keyOf: m => m.metric }, async ({ weir, app }) => {
      const summaries = await committedByKey<MinuteSummary>(weir, metricsPerMinuteTopic)
      // 101 values (1..100 and 1000): rank ⌈0.95 · 101⌉ = 96 holds 96.
      expect(summaries).toEqual(new Map([['latency', [{ metric: 'latency', windowStart: T,
        windowEnd: T + 60_000, count: 101, min: 1, max: 1000, sum: 6050,
        p95: expect.any(Number) as number }]]]))
      expectWithinOnePercent(summaries.get('latency')![0]!.p95, 96)
      expect(app.metrics().lateRecordsDropped).toEqual({ [metricWindowsStore]: 1 })
    })
  })
})
