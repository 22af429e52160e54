/**
 * Goal (issue 10): the windowed-metrics topology (topologies/windowed-metrics.ts) sends one
 * final summary per metric and closed minute — never a duplicate, never a minute still open,
 * never one lost — with the exact count, min, max and sum of the minute's measurements and a
 * p95 within 1% of the exact nearest-rank p95, even when its app crashes (keeping or losing
 * its state directory, so its window and suppression stores and its stream time are
 * restored), the broker restarts or loses power, or the tasks move to another instance (a
 * rebalance). Written only with the public kit, as a user's suite would be.
 *
 * Property: for random measurements whose event times arrive out of order by at most the grace
 * period (the kit's `records` with `eventTime: { maxDisorderMs: GRACE_MS }`, so none is late)
 * and any fault schedule, `metrics-per-minute` holds, per metric, exactly one summary for each
 * minute with measurements that closed (end + grace ≤ its partition's largest event time), in
 * minute order, and each equals the model's fold of the minute's measurements.
 *
 * Method: `simulate` runs the topology on 2 partitions; each metric is sent to a fixed
 * partition (the input names it), so the model knows each partition's stream time: the
 * largest `at` sent there. Values are integers, so sums are exact in any order. The model
 * keeps every value and computes the exact nearest-rank p95 itself. Soak with WEIR_NUM_RUNS;
 * replay with WEIR_SEED (and WEIR_PATH) from a failure's report.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assertValid, type CheckResult, exactlyOnce, faultSchedules, keys, perKeyOrder,
  propertyParameters, type ReadRecord, records, type ScheduledFault, simulate, stateEqualsFold,
  type TestRecord,
} from 'weir/testing'
import {
  GRACE_MS, type Measurement, measurementsTopic, metricsPerMinuteTopic, type MinuteSummary,
  P95_RELATIVE_ERROR, windowedMetrics, windowedMetricsTopics, WINDOW_SIZE_MS,
} from '../../topologies/windowed-metrics.ts'

const PARTITIONS = 2
const INPUTS_MIN = 20
const INPUTS_MAX = 40
/** Faults land within the input: fast-check keeps most arrays near their minimum length. */
const FAULTS_WITHIN = 30
/** Hot metric first; each metric's partition is its index here modulo PARTITIONS. */
const METRICS = ['cpu', 'mem', 'disk-é', 'net 🙂']

/**
 * Event time moves up to 20 s a record (fast-check favours small steps), so an input spans
 * several minutes and most runs close about eight of them.
 */
const measurementRecords: fc.Arbitrary<Array<TestRecord<string, Measurement>>> =
  records(fc.integer({ min: -1_000, max: 1_000 }), { keys: keys({ alphabet: METRICS }),
    minLength: INPUTS_MIN, maxLength: INPUTS_MAX,
    eventTime: { maxDisorderMs: GRACE_MS, stepMs: 20_000 } })
    .map(drawn => drawn.map(({ key, value, timestamp }) => ({ key,
      value: { metric: key, value, at: timestamp! }, timestamp: timestamp!,
      partition: METRICS.indexOf(key) % PARTITIONS })))

/** A minute of one metric: identified by both. */
type MinuteKey = readonly [metric: string, windowStart: number]

/** A summary's exact fields (the p95 is an estimate, checked apart). */
type ExactSummary = Omit<MinuteSummary, 'p95'>

function windowStartOf(at: number): number {
  return Math.floor(at / WINDOW_SIZE_MS) * WINDOW_SIZE_MS
}

/** The measurements of the minutes that close, keyed by their minute. */
function closedMinuteInputs(inputs: ReadonlyArray<TestRecord<string, Measurement>>):
Array<{ key: MinuteKey, value: Measurement }> {
  const streamTime = new Map<number, number>()
  for (const { partition, value } of inputs) {
    streamTime.set(partition!, Math.max(streamTime.get(partition!) ?? -1, value.at))
  }
  return inputs.filter(({ partition, value }) => windowStartOf(value.at) + WINDOW_SIZE_MS
    + GRACE_MS <= streamTime.get(partition!)!)
    .map(({ value }) => ({ key: [value.metric, windowStartOf(value.at)], value }))
}

/** The model: a minute's exact fields after one more measurement. */
function foldMinute(summary: ExactSummary | undefined,
  { key: [metric, windowStart], value: { value } }: { key: MinuteKey, value: Measurement }):
ExactSummary {
  if (summary === undefined) {
    return { metric, windowStart, windowEnd: windowStart + WINDOW_SIZE_MS, count: 1,
      min: value, max: value, sum: value }
  }
  return { ...summary, count: summary.count + 1, min: Math.min(summary.min, value),
    max: Math.max(summary.max, value), sum: summary.sum + value }
}

/** The exact nearest-rank p95: the value of the least rank r with r/n ≥ 95%. */
function exactP95(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  let rank = 1
  while (rank * 100 < 95 * sorted.length) rank++
  return sorted[rank - 1]!
}

/** assertValid, plus the values in full: anomaly messages cut values at 80 characters. */
function assertValidShowing(result: CheckResult, what: string, values: () => unknown): void {
  if (!result.valid) assertValid(result, `${what}\nin full: ${JSON.stringify(values())}`)
}

async function holds(inputs: Array<TestRecord<string, Measurement>>, faults: ScheduledFault[],
  seed: number): Promise<void> {
  const closed = closedMinuteInputs(inputs)
  const result = await simulate(windowedMetrics(), { seed, faults, partitions: PARTITIONS,
    topics: windowedMetricsTopics(PARTITIONS),
    inputs: inputs.map(record => ({ topic: measurementsTopic, record })),
    outputs: [metricsPerMinuteTopic] })
  const trace = `\ntrace:\n  ${result.trace.join('\n  ')}`
  // The topology writes only MinuteSummaries there.
  const summaries = result.outputs[metricsPerMinuteTopic] as
    Array<ReadRecord<string, MinuteSummary>>
  const minuteOf = (summary: MinuteSummary): MinuteKey => [summary.metric, summary.windowStart]
  const expectedMinutes = [...new Map(closed.map(({ key }) => [JSON.stringify(key), key]))
    .values()].map(key => ({ key, value: key }))
  assertValid(exactlyOnce(summaries, expectedMinutes, {
    // By the record's key: a summary keyed by another metric than its own is a wrong output.
    outputId: record => [record.key, record.value.windowStart],
    inputId: minute => minute.key }),
  `${metricsPerMinuteTopic}: one summary per closed minute (and its key is its metric)${trace}`)
  assertValid(perKeyOrder(summaries, { sequence: record => record.value.windowStart }),
    `${metricsPerMinuteTopic}: each metric's minutes in order${trace}`)
  const exact = summaries.map(({ value: { p95: _p95, ...fields } }) =>
    ({ key: minuteOf(fields as MinuteSummary), value: fields }))
  assertValidShowing(stateEqualsFold(exact, closed, foldMinute),
    `${metricsPerMinuteTopic}: each summary's count, min, max and sum = the model's${trace}`,
    () => exact)
  for (const { value: summary } of summaries) {
    const values = closed.filter(({ key }) => key[0] === summary.metric
      && key[1] === summary.windowStart).map(({ value }) => value.value)
    const p95 = exactP95(values)
    expect(Math.abs(summary.p95 - p95), `p95 of ${JSON.stringify(minuteOf(summary))}: `
      + `${summary.p95}, exact ${p95} over ${JSON.stringify(values)}${trace}`)
      .toBeLessThanOrEqual(P95_RELATIVE_ERROR * Math.abs(p95) * (1 + 1e-9))
  }
}

/** One schedule that surely covers both kinds of crash and a rebalance, whatever the seed. */
const coveringSchedule: ScheduledFault[] = [
  { afterRecords: 8, fault: { kind: 'crash', step: 'after-changelog', loseState: true } },
  { afterRecords: 16, fault: { kind: 'rebalance' } },
  { afterRecords: 24, fault: { kind: 'crash', step: 'after-commit', loseState: false } },
]
const START_MS = 1_704_067_200_000
const coveringInputs: Array<TestRecord<string, Measurement>> = Array.from({ length: 32 },
  (_, i) => {
    const metric = METRICS[i % 3]!
    // 10 s apart, every fourth one 9 s late: within grace.
    const at = START_MS + i * 10_000 - (i % 4 === 3 ? 9_000 : 0)
    return { key: metric, value: { metric, value: (i * 37) % 101 - 50, at }, timestamp: at,
      partition: METRICS.indexOf(metric) % PARTITIONS }
  })

const numRuns = propertyParameters(6).numRuns!
/** Room for a soak; shrinking a failure stops in time for fast-check to report it. */
const testTimeoutMs = Math.max(120_000, numRuns * 5_000)
const parameters: fc.Parameters<[Array<TestRecord<string, Measurement>>, ScheduledFault[],
  number]> = propertyParameters(6, {
  interruptAfterTimeLimit: testTimeoutMs - 30_000,
  examples: [[coveringInputs, coveringSchedule, 1]],
})

describe('windowed metrics with the public test kit', () => {
  it('property: under crashes (with or without state loss), broker restarts, power loss and '
    + 'rebalances, each closed minute of each metric is summarised exactly once, in order, '
    + 'with the model\'s count, min, max and sum and p95 within 1%', async () => {
    await fc.assert(fc.asyncProperty(measurementRecords,
      faultSchedules({ kinds: ['crash', 'broker-restart', 'power-loss', 'rebalance'],
        maxFaults: 3, inputs: FAULTS_WITHIN }),
      fc.nat({ max: 1_000_000 }), holds), parameters)
  }, testTimeoutMs)
})
