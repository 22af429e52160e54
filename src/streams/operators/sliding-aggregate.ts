/**
 * Sliding-windowed aggregation (Kafka Streams' groupByKey().windowedBy(SlidingWindows)
 * .aggregate/count/reduce): per record key, each window of sliding-windows.ts folds the records
 * it holds, and every window a record changes or makes is emitted — updates, not final results.
 * Emitted values are `{ window: { start, end }, value }` with the record key unchanged; unlike
 * time windows' exclusive end, a sliding window's `end` = start + time difference is INCLUSIVE
 * (Kafka's sliding window end).
 *
 * Per record at t (records with a null key are skipped, as Kafka's aggregations do):
 * 1. Retention (SlidingWindows.retentionMs): the key's windows and record times too old for any
 *    record still taken to need are forgotten.
 * 2. Late: if every window that could hold it is closed (t + d + grace < stream time, the task's
 *    largest timestamp so far), it is dropped whole, counted in
 *    `app.metrics().lateRecordsDropped[store]` and, with `lateRecordsTopic`, sent there as it
 *    was read. If only some are (its left window: t + grace < stream time), it is counted once
 *    and folded into the open ones — Kafka counts each closed window it skips instead.
 * 3. Windows holding t are updated; the windows t makes — its left window, its right window,
 *    the right window of the record before it — start from the aggregate of an existing window
 *    holding exactly the same earlier records (found by comparing record times; one always
 *    exists, see SlidingWindows.retentionMs), or from `initial()` when they hold none.
 * 4. Emitted, oldest start first: each open window updated or made (a window made closed is
 *    never emitted nor queryable, as in Kafka, which never stores it).
 *
 * Exact results under lateness: a closed window keeps its result, but also keeps, as `all`, the
 * fold of every record it holds (those after it closed too), for a later new window holding the
 * same records to start from. Kafka starts such a window from the closed window's result, so
 * after a partly late record its new windows can miss that record; here a window's value is
 * always the fold, in arrival order, of every record taken while it was open.
 *
 * Store layout: one entry per record key (the store has no range reads), rewritten on every
 * record taken: `{ times, windows }`, the key's distinct record times (which decide the windows
 * and what each holds) and its windows `{ start, value?, all? }`, both ascending. JSON by
 * default; with a `serde` for the aggregate, framed (see slidingSerde). `app.query(store)`
 * returns these objects. A key whose windows are all past retention is deleted by the store's
 * expiry sweep. Stored objects are never mutated (the task store caches decoded values).
 *
 * Left out: Kafka's Windowed<K> output key, sendOldValues, caching, and Kafka's folding of
 * records before time d into one window [0, d] (see sliding-windows.ts).
 */
import type { OperatorFunction } from 'rxjs'
import { WeirError } from '../../errors.ts'
import { assert } from '../../util/assert.ts'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import { json, type Serde } from '../serdes.ts'
import type { SlidingWindows } from '../windows/sliding-windows.ts'
import {
  aggregateStep, countStep, reduceStep, storeSpec, sweepInterval,
} from './store-internals.ts'
import { rawTarget, type WindowedStoreOptions, type WindowedValue } from './windowed-aggregate.ts'

/** One window of a key, as stored: [start, start + time difference], both inclusive. */
export interface StoredSlidingWindow<A> {
  readonly start: number
  /** The fold of the records taken while it was open; absent if it was made closed. */
  readonly value?: A
  /** The fold of all its records, present only if some came after it closed. */
  readonly all?: A
}

/** A key's entry in the store. */
export interface StoredSlidingWindows<A> {
  /** The distinct times of the key's records, ascending. */
  readonly times: readonly number[]
  readonly windows: ReadonlyArray<StoredSlidingWindow<A>>
}

type Fold<A> = (current: A | undefined) => A

/** Times of `times` in [start, start + d] as "first:last", or undefined when there are none. */
function holds(times: readonly number[], start: number, d: number): string | undefined {
  const inside = times.filter(x => x >= start && x <= start + d)
  return inside.length === 0 ? undefined : `${inside[0]}:${inside[inside.length - 1]}`
}

/** The aggregate of a window holding exactly the records `times` puts in [start, start + d]. */
function sourceOf<A>(state: StoredSlidingWindows<A>, start: number, d: number): A | undefined {
  const wanted = holds(state.times, start, d)
  if (wanted === undefined) return undefined
  const source = state.windows.find(w => holds(state.times, w.start, d) === wanted)
  assert(source !== undefined, 'a new sliding window has a window with its records to start from')
  return source.all ?? source.value
}

/** The key's state and what to emit after a record at `timestamp` (not late) is folded in. */
function slide<A>(windows: SlidingWindows, state: StoredSlidingWindows<A>, timestamp: number,
  streamTimeMs: number, fold: Fold<A>):
  { state: StoredSlidingWindows<A>, emitted: Array<WindowedValue<A>> } {
  const d = windows.timeDifferenceMs
  const times = state.times.includes(timestamp) ? state.times
    : [...state.times, timestamp].sort((a, b) => a - b)
  const byStart = new Map(state.windows.map(w => [w.start, w]))
  const emitted: Array<WindowedValue<A>> = []
  for (const start of windows.startsBetween(times, timestamp - d, timestamp + 1)) {
    const window = byStart.get(start)
    if (window !== undefined && start > timestamp) continue // not holding t, not new
    const open = windows.isOpen(start + d, streamTimeMs)
    let next: StoredSlidingWindow<A>
    if (window === undefined) { // made by t: from the same earlier records, then t if it holds t
      const base = sourceOf(state, start, d)
      assert(start <= timestamp || base !== undefined, 'a right window holds a record')
      const aggregate = start <= timestamp ? fold(base) : base as A
      next = open ? { start, value: aggregate } : { start, all: aggregate }
    } else if (open) {
      assert(window.all === undefined && window.value !== undefined, 'an open window is exact')
      next = { start, value: fold(window.value) }
    } else {
      const all = fold(window.all ?? window.value)
      next = window.value === undefined ? { start, all } : { start, value: window.value, all }
    }
    byStart.set(start, next)
    if (open) emitted.push({ window: { start, end: start + d }, value: next.value as A })
  }
  const all = [...byStart.values()].sort((a, b) => a.start - b.start)
  return { state: { times, windows: all }, emitted }
}

/** The key's state without what no record still taken can need (SlidingWindows.retentionMs). */
function prune<A>(windows: SlidingWindows, state: StoredSlidingWindows<A>, streamTimeMs: number):
StoredSlidingWindows<A> {
  const horizon = streamTimeMs - windows.retentionMs
  return { times: state.times.filter(x => x >= horizon),
    windows: state.windows.filter(w => w.start >= horizon) }
}

/**
 * The store's value serde: JSON, or with `serde` for the aggregate: uint32 count of times,
 * the times (float64, exact for ms), then per window its start (float64), a flags byte
 * (1: value, 2: all) and for each present aggregate its length (uint32) and bytes.
 */
function slidingSerde<A>(serde: Serde<A> | undefined): Serde<StoredSlidingWindows<A>> {
  if (serde === undefined) return json<StoredSlidingWindows<A>>()
  const framed = (a: A | undefined): Buffer[] => {
    if (a === undefined) return []
    const bytes = serde.serialize(a)
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    return [length, bytes]
  }
  return {
    name: `sliding windows of ${serde.name}`,
    serialize: ({ times, windows }) => {
      const head = Buffer.alloc(4 + 8 * times.length)
      head.writeUInt32BE(times.length)
      times.forEach((x, i) => head.writeDoubleBE(x, 4 + 8 * i))
      return Buffer.concat([head, ...windows.flatMap(({ start, value, all }) => {
        const window = Buffer.alloc(9)
        window.writeDoubleBE(start)
        window.writeUInt8((value === undefined ? 0 : 1) | (all === undefined ? 0 : 2), 8)
        return [window, ...framed(value), ...framed(all)]
      })])
    },
    deserialize: bytes => decodeSliding(serde, bytes),
  }
}

function decodeSliding<A>(serde: Serde<A>, bytes: Buffer): StoredSlidingWindows<A> {
  let at = 0
  const take = (length: number): Buffer => {
    if (at + length > bytes.length) {
      throw new WeirError('WEIR_ERR_SERDE_FAILED', `The ${serde.name} sliding windows serde `
        + 'found a truncated stored value.')
    }
    at += length
    return bytes.subarray(at - length, at)
  }
  const aggregate = (): A => serde.deserialize(take(take(4).readUInt32BE()))
  const times = Array.from({ length: take(4).readUInt32BE() }, () => take(8).readDoubleBE())
  const windows: Array<StoredSlidingWindow<A>> = []
  while (at < bytes.length) {
    const start = take(8).readDoubleBE()
    const flags = take(1).readUInt8()
    const value = (flags & 1) === 0 ? undefined : aggregate()
    const all = (flags & 2) === 0 ? undefined : aggregate()
    windows.push({ start, ...value === undefined ? {} : { value },
      ...all === undefined ? {} : { all } })
  }
  return { times, windows }
}

function slidingFold<V, A>(name: string, windows: SlidingWindows,
  options: WindowedStoreOptions<A>, next: (current: A | undefined, value: V, key: unknown) => A):
  OperatorFunction<V, WindowedValue<A>> {
  const spec = { ...storeSpec(name, options),
    valueSerde: slidingSerde(options.serde) as Serde<unknown>,
    // A key is deleted once its latest window start and record time are past retention.
    expiry: { sweepIntervalMs: sweepInterval(windows.retentionMs),
      expiresAtMs: (_key: unknown, state: unknown) => {
        const { times, windows: kept } = state as StoredSlidingWindows<A>
        return Math.max(...times, ...kept.map(w => w.start)) + windows.retentionMs + 1
      } } }
  const late = options.lateRecordsTopic === undefined ? undefined
    : rawTarget(options.lateRecordsTopic)
  return tagOperator({ kind: 'stateful', name, stores: [spec] },
    operate<V, WindowedValue<A>>(name, (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const record = currentRecord(name)
        const { key, timestamp } = record
        if (key === null || key === undefined) return
        const streamTimeMs = host.streamTimeMs
        if (windows.isLate(timestamp, streamTimeMs)) {
          host.recordLate(spec.name)
          if (late !== undefined && record.input !== undefined) {
            host.send(late, record.input.key, record.input.value, timestamp)
          }
          return
        }
        if (!windows.isOpen(timestamp, streamTimeMs)) host.recordLate(spec.name)
        const kept = prune(windows, (store.get(key) ?? { times: [], windows: [] }) as
          StoredSlidingWindows<A>, streamTimeMs)
        const step = slide(windows, kept, timestamp, streamTimeMs,
          current => next(current, value, key))
        store.put(key, step.state)
        for (const update of step.emitted) subscriber.next(update)
      }
    }))
}

/** Folds each sliding window's values into an aggregate; emits each window's new aggregate. */
export function slidingAggregate<V, A>(windows: SlidingWindows, initial: () => A,
  add: (aggregate: A, value: V, key: unknown) => A, options: WindowedStoreOptions<A>):
  OperatorFunction<V, WindowedValue<A>> {
  return slidingFold<V, A>('slidingAggregate', windows, options, aggregateStep(initial, add))
}

/** Counts each sliding window's records; emits each window's new count. */
export function slidingCount<V>(windows: SlidingWindows, options: WindowedStoreOptions<number>):
OperatorFunction<V, WindowedValue<number>> {
  return slidingFold<V, number>('slidingCount', windows, options, countStep)
}

/** Combines each sliding window's values with `combine`; emits each window's new result. */
export function slidingReduce<V>(windows: SlidingWindows,
  combine: (current: V, value: V, key: unknown) => V, options: WindowedStoreOptions<V>):
  OperatorFunction<V, WindowedValue<V>> {
  return slidingFold<V, V>('slidingReduce', windows, options, reduceStep(combine))
}
