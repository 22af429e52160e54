/**
 * fast-check arbitraries for property tests of topologies (the public test kit, `weir/testing`):
 * skewed keys, records, event times out of order within a stated bound, and production chunks.
 * Fault schedules are in arbitraries-faults.ts. They generate the shapes of model.ts, so what
 * they make goes straight to the test driver, the simulation and the checkers.
 *
 * Shrinking is part of the contract: each arbitrary shrinks toward the simplest input of its
 * kind — the hot key, fewer records, timestamps in order, one chunk — so a counterexample is as
 * small as it can be. Only `withEventTimeDisorder` uses `chain` (fast-check shrinks through
 * it less well); `records` draws each record's time with it instead.
 *
 * Deliberately not here: an `fc` re-export (users import fast-check themselves; it is a peer
 * dependency), and randomness outside fast-check's, so a printed seed replays a run exactly.
 */
import * as fc from 'fast-check'
import type { TestRecord } from './model.ts'

/**
 * The default keys, hot one first. The cold ones include non-ASCII keys (two-byte, Cyrillic,
 * a four-byte emoji, CJK) and one with a space, which catch code that counts characters
 * instead of bytes, sorts by UTF-16 instead of bytes, or splits on spaces.
 */
export const DEFAULT_KEYS: readonly string[] = ['hot', 'k1', 'k2', 'ü', 'ключ', 'k5', '🙂',
  'a b', 'k8', '鍵', 'k10', 'k11']

export interface KeysOptions {
  /** How many distinct keys, taken from the front of `alphabet` (default: all of it). */
  readonly count?: number
  /** How many of them, from the front, are hot (default 1; 0 draws all keys alike). */
  readonly hot?: number
  /** How many times as often each hot key is drawn as each cold one: an integer (default 10). */
  readonly hotWeight?: number
  /** The distinct keys to draw from, hot ones first (default `DEFAULT_KEYS`). */
  readonly alphabet?: readonly string[]
}

/**
 * Keys with skew, as real traffic has: a fixed set of `count` keys, the first `hot` of them
 * each drawn `hotWeight` times as often as each cold one. With the defaults (12 keys, 1 hot,
 * weight 10) the hot key is about half of all records, and each cold key about 1 in 21.
 * A fixed set, so keys repeat and per-key state (aggregates, joins) is exercised. Shrinks
 * toward the first hot key, and a cold key toward the first cold one.
 *
 * @example
 * fc.assert(fc.property(fc.array(keys({ hot: 2 })), ks => ks.every(k => k.length > 0)))
 * @throws RangeError when `count`, `hot` or `hotWeight` is out of range or `alphabet` repeats.
 * @see records
 */
export function keys(options: KeysOptions = {}): fc.Arbitrary<string> {
  const alphabet = options.alphabet ?? DEFAULT_KEYS
  const count = options.count ?? alphabet.length
  const hot = options.hot ?? 1
  const hotWeight = options.hotWeight ?? 10
  requireInteger('keys', 'count', count, 1, alphabet.length)
  requireInteger('keys', 'hot', hot, 0, count)
  requireInteger('keys', 'hotWeight', hotWeight, 1, 1_000_000)
  const chosen = alphabet.slice(0, count)
  if (new Set(chosen).size !== chosen.length) {
    throw new RangeError(`keys: alphabet must not repeat a key, got ${JSON.stringify(chosen)}`)
  }
  const hotKeys = chosen.slice(0, hot)
  const coldKeys = chosen.slice(hot)
  if (hotKeys.length === 0) return fc.constantFrom(...coldKeys)
  if (coldKeys.length === 0) return fc.constantFrom(...hotKeys)
  // fc.oneof picks a group by weight, then a key within it uniformly: per key that is
  // hotWeight : 1. The hot group comes first, so shrinking may swap a cold key for a hot one.
  return fc.oneof({ withCrossShrink: true },
    { arbitrary: fc.constantFrom(...hotKeys), weight: hotWeight * hotKeys.length },
    { arbitrary: fc.constantFrom(...coldKeys), weight: coldKeys.length })
}

export interface RecordsOptions<K> {
  /** The records' keys (default `keys()`). */
  readonly keys?: fc.Arbitrary<K>
  /** Fewest records (default 0). */
  readonly minLength?: number
  /** Most records (default: fast-check's size-based bound, 10 at the default size). */
  readonly maxLength?: number
  /**
   * When set, each record names a partition in 0..partitions-1, drawn independently of its key
   * (as a custom partitioner would); when left out, records carry none and land in their key's
   * partition, which keeps each key's records in order.
   */
  readonly partitions?: number
  /** When set, records get event times as `eventTimes` makes them; otherwise none. */
  readonly eventTime?: DisorderOptions
}

/**
 * Arrays of input records: skewed keys (see `keys`), values from `value`, and event times with
 * bounded disorder when `eventTime` is set (see `eventTimes` for the exact bound). Shrinks
 * toward fewer records, the hot key, simpler values, partition 0 and timestamps in order.
 *
 * @example
 * const inputs = records(fc.integer({ min: -100, max: 100 }),
 *   { maxLength: 50, eventTime: { maxDisorderMs: 2_000 } })
 * // A topology with TimeWindows.of(10_000).grace(2_000) must count every one of them.
 * @throws RangeError when a length, `partitions` (≥ 1) or an `eventTime` option is not a
 *   non-negative integer.
 * @see keys
 * @see eventTimes
 */
export function records<V>(value: fc.Arbitrary<V>, options?: RecordsOptions<string>):
fc.Arbitrary<Array<TestRecord<string, V>>>
export function records<V, K>(value: fc.Arbitrary<V>,
  options: RecordsOptions<K> & { readonly keys: fc.Arbitrary<K> }):
fc.Arbitrary<Array<TestRecord<K, V>>>
export function records<V, K>(value: fc.Arbitrary<V>, options: RecordsOptions<K> = {}):
fc.Arbitrary<Array<TestRecord<K | string, V>>> {
  const { minLength, maxLength, partitions, eventTime } = options
  if (minLength !== undefined) requireInteger('records', 'minLength', minLength, 0)
  if (maxLength !== undefined) requireInteger('records', 'maxLength', maxLength, minLength ?? 0)
  if (partitions !== undefined) requireInteger('records', 'partitions', partitions, 1)
  const key: fc.Arbitrary<K | string> = options.keys ?? keys()
  const record: fc.Arbitrary<TestRecord<K | string, V>> = partitions === undefined
    ? fc.record({ key, value })
    : fc.record({ key, value, partition: fc.integer({ min: 0, max: partitions - 1 }) })
  const lengths = {
    ...(minLength === undefined ? {} : { minLength }),
    ...(maxLength === undefined ? {} : { maxLength }),
  }
  if (eventTime === undefined) return fc.array(record, lengths)
  // Each record is drawn with its own time move (no `chain`), so the two shrink together.
  const time = disorderParameters('records', eventTime, maxLength ?? 0)
  return fc.tuple(lateness, fc.array(fc.tuple(record, timeMove(time)), lengths))
    .map(([lateBelow, pairs]) => {
      const times = timesOf(time.start, lateBelow, pairs.map(([, move]) => move))
      return pairs.map(([input], index) => ({ ...input, timestamp: times[index]! }))
    })
}

/** 2024-01-01T00:00:00Z: a fixed, realistic epoch time, so runs replay the same timestamps. */
export const DEFAULT_START_MS = 1_704_067_200_000

export interface DisorderOptions {
  /** The earliest timestamp, ms since the epoch (default `DEFAULT_START_MS`). */
  readonly start?: number
  /** How far a timestamp may lag the largest one before it, in ms: inclusive, ≥ 0. */
  readonly maxDisorderMs: number
  /** The most event time moves forward from one record to the next, in ms (default 1000). */
  readonly stepMs?: number
}

export interface EventTimesOptions extends DisorderOptions {
  /** How many timestamps. */
  readonly count: number
}

/**
 * `count` event times that move forward but arrive out of order, within an exact bound:
 * for every i, `t[i] ≥ max(t[0..i-1]) − maxDisorderMs`, and the bound is reached (a record
 * exactly `maxDisorderMs` late is possible). Every timestamp lies in
 * `start .. start + (count − 1) × stepMs`, and the first is `start`.
 *
 * So a windowed topology whose grace is ≥ `maxDisorderMs` drops no record as late: each
 * window holding `t` ends after `t`, and a window is open while end + grace > stream time
 * (Kafka's KStreamWindowAggregate; sessions and sliding windows close later still). Use a
 * grace below the bound to exercise late drops. The bound holds for every subsequence too, so
 * it holds per partition whatever the partitioning.
 *
 * How: a frontier moves forward by 0..stepMs per record; a late record lags it by
 * 0..maxDisorderMs (clamped at `start`). How many records are late is drawn once per array —
 * none, a quarter, half, three quarters or all, in expectation — so some runs are in order and
 * some are thoroughly shuffled. Shrinks toward equal timestamps, in order.
 *
 * @example
 * // Grace 5 s must cover it: no record of the run is late.
 * const times = eventTimes({ count: 20, maxDisorderMs: 5_000 })
 * @throws RangeError when an option is not a non-negative integer or the times pass
 *   Number.MAX_SAFE_INTEGER.
 * @see records (its `eventTime` option)
 */
export function eventTimes(options: EventTimesOptions): fc.Arbitrary<number[]> {
  const { count } = options
  requireInteger('eventTimes', 'count', count, 0)
  const time = disorderParameters('eventTimes', options, count)
  return fc.tuple(lateness, fc.array(timeMove(time), { minLength: count, maxLength: count }))
    .map(([lateBelow, moves]) => timesOf(time.start, lateBelow, moves))
}

/**
 * Gives each record of `arbitrary` a timestamp from `eventTimes` (in array order), replacing
 * any it had, with the exact bound `eventTimes` states. For records from elsewhere: it must
 * `chain` on their number, so when they shrink their times are drawn again and counterexamples
 * come out less minimal than with `records`' `eventTime` option.
 *
 * @example
 * const inputs = withEventTimeDisorder(fc.array(fc.record({ key: fc.string(), value: fc.nat() })),
 *   { maxDisorderMs: 2_000 })
 * @throws RangeError as `eventTimes` does.
 * @see eventTimes
 */
export function withEventTimeDisorder<K, V>(arbitrary: fc.Arbitrary<Array<TestRecord<K, V>>>,
  options: DisorderOptions): fc.Arbitrary<Array<TestRecord<K, V>>> {
  disorderParameters('withEventTimeDisorder', options, 0)
  return arbitrary.chain(inputs => eventTimes({ ...options, count: inputs.length })
    .map(times => inputs.map((input, index) => ({ ...input, timestamp: times[index]! }))))
}

/** One record's move in event time: the frontier's step, and the record's lag if it is late. */
interface TimeMove {
  readonly step: number
  readonly draw: number
  readonly lag: number
}

/** Shares of late records an array may have: 0/4 .. 4/4; drawn once per array. */
const LATENESS_LEVELS = 4
const lateness = fc.integer({ min: 0, max: LATENESS_LEVELS })

function timeMove(time: Required<DisorderOptions>): fc.Arbitrary<TimeMove> {
  return fc.record({ step: fc.integer({ min: 0, max: time.stepMs }),
    draw: fc.integer({ min: 0, max: LATENESS_LEVELS - 1 }),
    lag: fc.integer({ min: 0, max: time.maxDisorderMs }) })
}

/**
 * The timestamps `moves` make from `start`: a record is late when its draw is below
 * `lateBelow`. A late one lags the frontier by at most maxDisorderMs, and every earlier
 * timestamp is at most the frontier, which never moves back: hence the bound.
 */
function timesOf(start: number, lateBelow: number, moves: readonly TimeMove[]): number[] {
  let frontier = start
  return moves.map(({ step, draw, lag }, index) => {
    if (index > 0) frontier += step
    return draw < lateBelow ? Math.max(start, frontier - lag) : frontier
  })
}

/** The options with their defaults, checked; `count` bounds the largest timestamp. */
function disorderParameters(caller: string, options: DisorderOptions, count: number):
Required<DisorderOptions> {
  const { start = DEFAULT_START_MS, maxDisorderMs, stepMs = 1000 } = options
  requireInteger(caller, 'start', start, 0)
  requireInteger(caller, 'maxDisorderMs', maxDisorderMs, 0)
  requireInteger(caller, 'stepMs', stepMs, 0)
  if (!Number.isSafeInteger(start + Math.max(0, count - 1) * stepMs)) {
    throw new RangeError(`${caller}: start + (count - 1) × stepMs passes MAX_SAFE_INTEGER`)
  }
  return { start, maxDisorderMs, stepMs }
}

/**
 * Where to cut an input into production chunks, as fractions of its length in [0, 1): fewer
 * than `maxChunks` of them (default 5). Fractions, so they need no `chain` on the input's
 * length; give them to `chunked`. Shrinks toward no cuts (one chunk).
 *
 * @example
 * fc.property(records(fc.nat()), cuts(), (input, at) => chunked(input, at).length <= 5)
 * @throws RangeError when `maxChunks` is not an integer ≥ 1.
 * @see chunks
 */
export function cuts(options: { readonly maxChunks?: number } = {}): fc.Arbitrary<number[]> {
  const { maxChunks = 5 } = options
  requireInteger('cuts', 'maxChunks', maxChunks, 1)
  // Multiples of 1/CUT_RESOLUTION, not fc.double: fast-check draws doubles uniformly over
  // their bit patterns, so nine in ten doubles in [0, 1) are below 0.001 and would cut nothing.
  const cut = fc.integer({ min: 0, max: CUT_RESOLUTION - 1 }).map(n => n / CUT_RESOLUTION)
  return fc.array(cut, { maxLength: maxChunks - 1 })
}

const CUT_RESOLUTION = 2 ** 16

/**
 * `items` cut at the given fractions of its length into consecutive, non-empty chunks, whose
 * concatenation is `items` (no items: no chunks). A cut at 0, a repeated cut or one that
 * lands on the same position as another is dropped.
 *
 * @example
 * chunked(['a', 'b', 'c', 'd'], [0.5]) // [['a', 'b'], ['c', 'd']]
 */
export function chunked<T>(items: readonly T[], at: readonly number[]): T[][] {
  const positions = [...new Set(at.map(cut => Math.floor(cut * items.length)))]
    .filter(position => position > 0 && position < items.length).sort((a, b) => a - b)
  const parts: T[][] = []
  let from = 0
  for (const position of [...positions, items.length]) {
    if (position > from) parts.push(items.slice(from, position))
    from = position
  }
  return parts
}

/**
 * Inputs already cut into production chunks: what a simulation produces between its faults
 * (one `send` per chunk, so a crash can land between them). `chunks(...).flat()` is the input.
 *
 * @example
 * fc.property(chunks(records(fc.nat()), { maxChunks: 4 }), parts => parts.length <= 4)
 * @throws RangeError as `cuts` does.
 * @see cuts
 */
export function chunks<T>(items: fc.Arbitrary<T[]>, options: { readonly maxChunks?: number } = {}):
fc.Arbitrary<T[][]> {
  return fc.tuple(items, cuts(options)).map(([all, at]) => chunked(all, at))
}

/**
 * Checks that an option is an integer in [min, max], so a typo fails where it is made rather
 * than as an odd distribution.
 * @internal
 */
export function requireInteger(caller: string, name: string, value: number, min: number,
  max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${caller}: ${name} must be an integer in ${min}..${max}, got ${value}`)
  }
}
