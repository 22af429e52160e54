/**
 * Windowed metrics: measurements keyed by metric name on `measurements` → one final summary per
 * metric and per minute of event time on `metrics-per-minute` (keyed by metric): the count, min,
 * max and sum of the minute's values and their p95, estimated from a histogram.
 *
 * Windows are tumbling, 60 s of event time (`at`), with a grace period of `GRACE_MS` for
 * out-of-order measurements: the minute [s, s + 60 s) takes measurements until stream time (the
 * largest `at` the task has seen) reaches s + 60 s + grace. After that it is closed: its summary
 * goes out, once (suppress untilWindowCloses — Kafka's final results, KIP-328), and a later
 * measurement for it is late, dropped by the window operator and counted in
 * `app.metrics().lateRecordsDropped[metricWindowsStore]`. As in Kafka, a minute is only emitted
 * when a later measurement moves its partition's stream time past its close.
 *
 * The p95 is nearest-rank: the smallest value v of the minute such that at least 95% of its
 * values are ≤ v (the value of rank ⌈0.95·n⌉ in sorted order, n the count). Keeping every
 * value would make the aggregate grow with the traffic, so the aggregate is a log-bucketed
 * histogram (DDSketch's mapping, Masson et al., VLDB 2019): bucket i of a sign holds the
 * magnitudes in (γ^(i−1), γ^i], γ = (1 + α)/(1 − α), α = `P95_RELATIVE_ERROR` = 1%, and
 * stands for 2γ^i/(γ + 1), within α of every magnitude it holds. The estimate is the bucket
 * holding the exact p95, so |estimate − p95| ≤ 1% · |p95| (plus floating-point rounding, far
 * below 1e−9 relative), for magnitudes that are normal doubles (≥ 2.2e−308: subnormals lose
 * precision). Zero has a bucket of its own, exact. Negative values are supported: they go to
 * mirrored buckets of their magnitude. The histogram is bounded: per sign, at most
 * 1 + ln(max/min)/ln γ buckets for the window's largest and smallest magnitudes (about 1,400
 * for values between 0.001 and 10^9; never more than about 71,000 over all normal doubles) and
 * never more than the count. Count, min, max and sum are exact.
 *
 * Invalid measurements are skipped by a filter, not fatal: a value that is not a finite number
 * (JSON carries NaN and ±Infinity as null), a metric that is not a string, or an `at` that is
 * not an integer ≥ 0. An invalid `at` gives the record event time 0 so that it cannot move
 * stream time (the effect of Kafka's UsePartitionTimeOnInvalidTimestamp), instead of failing
 * the app as a deserialization error. Bytes that are not JSON at all are a deserialization error,
 * handled by the app's `deserializationErrors` option.
 *
 * The summary's `metric` is the record key, so a measurement keyed by another name than its
 * `metric` counts under its key: the topic must be keyed by metric name.
 */
import { filter, map } from 'rxjs'
import {
  type CreateTopicRequest, suppress, TimeWindows, topology, type Topology, untilWindowCloses,
  windowedAggregate, type WindowedValue,
} from '../src/index.ts'

export const measurementsTopic = 'measurements'
export const metricsPerMinuteTopic = 'metrics-per-minute'
/** The window store: each metric's histogram per open minute. */
export const metricWindowsStore = 'metric-windows'
/** The suppress store: the latest summary of each minute not yet closed. */
export const metricWindowsPendingStore = 'metric-windows-pending'

export const WINDOW_SIZE_MS = 60_000
/** How long after a minute's end a measurement for it is still taken. */
export const GRACE_MS = 10_000
/** The p95 estimate's bound, relative to the exact p95. */
export const P95_RELATIVE_ERROR = 0.01
/** The percentile, as an integer percentage (nearest rank). */
export const PERCENTILE = 95

const GAMMA = (1 + P95_RELATIVE_ERROR) / (1 - P95_RELATIVE_ERROR)
const LOG_GAMMA = Math.log(GAMMA)

export const minuteWindows = TimeWindows.tumbling(WINDOW_SIZE_MS, { graceMs: GRACE_MS })

export interface Measurement {
  readonly metric: string
  readonly value: number
  /** Event time, ms since the epoch. */
  readonly at: number
}

/** One metric's final summary of one minute, sent to `metrics-per-minute`. */
export interface MinuteSummary {
  readonly metric: string
  /** Inclusive, ms. */
  readonly windowStart: number
  /** Exclusive, ms. */
  readonly windowEnd: number
  readonly count: number
  /** Nearest-rank p95, within `P95_RELATIVE_ERROR` of the exact one. */
  readonly p95: number
  readonly min: number
  readonly max: number
  readonly sum: number
}

/** A minute's aggregate: exact count, min, max and sum, and the log-bucketed histogram. */
export interface ValueHistogram {
  readonly metric: string
  readonly count: number
  readonly min: number
  readonly max: number
  readonly sum: number
  /** How many values were 0 (or −0). */
  readonly zero: number
  /** Bucket index → count, for the values > 0. */
  readonly positive: Readonly<Record<string, number>>
  /** Bucket index of the magnitude → count, for the values < 0. */
  readonly negative: Readonly<Record<string, number>>
}

export function isValidMeasurement(value: unknown): value is Measurement {
  if (typeof value !== 'object' || value === null) return false
  const { metric, value: measured, at } = value as Record<string, unknown>
  return typeof metric === 'string' && typeof measured === 'number'
    && Number.isFinite(measured) && isEventTime(at)
}

function isEventTime(at: unknown): at is number {
  return typeof at === 'number' && Number.isSafeInteger(at) && at >= 0
}

/** The measurement's `at`; 0 (never moves stream time) when it is not a valid time. */
export function measurementTime(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  const { at } = value as Record<string, unknown>
  return isEventTime(at) ? at : 0
}

/** The bucket of a magnitude > 0: the i with γ^(i−1) < magnitude ≤ γ^i. */
export function bucketIndex(magnitude: number): number {
  if (!(magnitude > 0) || !Number.isFinite(magnitude)) {
    throw new Error(`a bucket holds finite magnitudes > 0, got ${magnitude}`)
  }
  return Math.ceil(Math.log(magnitude) / LOG_GAMMA)
}

/** The magnitude bucket i stands for: within α of each one it holds. */
export function bucketValue(index: number): number {
  return 2 * Math.exp(index * LOG_GAMMA) / (GAMMA + 1)
}

/**
 * No values yet. Its ±Infinity min and max would not survive JSON, but it is never stored: the
 * window operator adds the first value to it before storing.
 */
export function emptyHistogram(metric = ''): ValueHistogram {
  return { metric, count: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY,
    sum: 0, zero: 0, positive: {}, negative: {} }
}

function incremented(buckets: Readonly<Record<string, number>>, index: number):
Record<string, number> {
  return { ...buckets, [index]: (buckets[index] ?? 0) + 1 }
}

/** The histogram with `value` added (a new object: the store may still hold the old one). */
export function addValue(histogram: ValueHistogram, value: number): ValueHistogram {
  if (!Number.isFinite(value)) throw new Error(`histograms take finite values, got ${value}`)
  const { positive, negative, zero } = histogram
  return { ...histogram, count: histogram.count + 1, sum: histogram.sum + value,
    min: Math.min(histogram.min, value), max: Math.max(histogram.max, value),
    zero: value === 0 ? zero + 1 : zero,
    positive: value > 0 ? incremented(positive, bucketIndex(value)) : positive,
    negative: value < 0 ? incremented(negative, bucketIndex(-value)) : negative }
}

/** The rank of the nearest-rank percentile: the least r with r/count ≥ percent/100. */
export function nearestRank(count: number, percent: number): number {
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`count ${count} < 1`)
  // Integer numerator: an exact quotient stays exact, so ⌈⌉ does not round 19.000…01 up.
  return Math.max(1, Math.ceil((percent * count) / 100))
}

/**
 * The nearest-rank percentile's estimate: the bucket holding the value of that rank, walking the
 * buckets in value order (negative magnitudes from the largest, zero, positive from the
 * smallest), clamped to [min, max] (which holds the exact value, so clamping only gets closer).
 */
export function estimatePercentile(histogram: ValueHistogram, percent: number): number {
  const rank = nearestRank(histogram.count, percent)
  const walk: Array<readonly [value: number, count: number]> = [
    ...sortedBuckets(histogram.negative, -1).map(([index, count]) =>
      [-bucketValue(index), count] as const),
    [0, histogram.zero],
    ...sortedBuckets(histogram.positive, 1).map(([index, count]) =>
      [bucketValue(index), count] as const),
  ]
  let seen = 0
  for (const [value, count] of walk) {
    seen += count
    if (seen >= rank) return Math.min(histogram.max, Math.max(histogram.min, value))
  }
  throw new Error(`the buckets hold ${seen} values, the count says ${histogram.count}`)
}

/** Buckets as [index, count], by index ascending (1) or descending (−1). */
function sortedBuckets(buckets: Readonly<Record<string, number>>, direction: 1 | -1):
Array<readonly [index: number, count: number]> {
  return Object.entries(buckets).map(([index, count]) => [Number(index), count] as const)
    .sort((a, b) => direction * (a[0] - b[0]))
}

export function minuteSummary({ window, value: histogram }: WindowedValue<ValueHistogram>):
MinuteSummary {
  const { metric, count, min, max, sum } = histogram
  return { metric, windowStart: window.start, windowEnd: window.end, count,
    p95: estimatePercentile(histogram, PERCENTILE), min, max, sum }
}

/**
 * The windowed-metrics topology.
 * @example
 * await weir.admin().createTopics(windowedMetricsTopics(3))
 * const app = await windowedMetrics().start({ weir, stateDir: './state' })
 * // consume metrics-per-minute: one MinuteSummary per metric and closed minute
 */
export function windowedMetrics(appId = 'windowed-metrics'): Topology {
  const t = topology(appId)
  t.stream<Measurement>(measurementsTopic, { timestampExtractor: measurementTime }).pipe(
    filter(isValidMeasurement),
    windowedAggregate<Measurement, ValueHistogram>(minuteWindows, emptyHistogram,
      (histogram, measurement, key) =>
        addValue({ ...histogram, metric: String(key) }, measurement.value),
      { store: metricWindowsStore }),
    suppress(untilWindowCloses(minuteWindows), { store: metricWindowsPendingStore }),
    map(minuteSummary),
  ).to(metricsPerMinuteTopic)
  return t
}

/** The topics the topology reads and writes. */
export function windowedMetricsTopics(partitions = 3): CreateTopicRequest[] {
  return [{ topic: measurementsTopic, partitions }, { topic: metricsPerMinuteTopic, partitions }]
}
