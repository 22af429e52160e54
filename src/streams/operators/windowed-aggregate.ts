/**
 * Windowed aggregation over time windows (Kafka Streams' groupByKey().windowedBy(TimeWindows)
 * .aggregate/reduce/count): each record is folded into every window of `windows` that holds its
 * timestamp (one when tumbling, several when hopping), in a window store keyed by record key then
 * window start (window-key.ts; a changelog like every store, so it restores after a crash), and
 * the new aggregate of each window is emitted — updates, not final results.
 *
 * Emitted values are `{ window: { start, end }, value }` with the record's key unchanged, so the
 * output stays partitioned by key; Kafka Streams' Windowed<K> key is the pair of the two.
 *
 * Late records: a record whose window has closed (window end + grace ≤ stream time, the task's
 * largest timestamp so far) is not folded into it, as in Kafka. Such a record counts once in
 * `app.metrics().lateRecordsDropped[store]` (a record late for some of its hopping windows
 * too); with `lateRecordsTopic`, a record late for all of its windows — folded nowhere — is
 * sent there as it was read (key and value bytes, its event time), in the same transaction as
 * the rest of its processing. The topic must exist. Records with a null key are skipped, as
 * Kafka's aggregations do.
 */
import type { OperatorFunction } from 'rxjs'
import { type StoreSpec, tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, type SinkTarget } from '../processing-context.ts'
import { defaultKeySerde } from '../serdes.ts'
import { type WindowedKey, windowedKeySerde } from '../windows/window-key.ts'
import type { TimeWindow, TimeWindows } from '../windows/time-windows.ts'
import {
  aggregateStep, countStep, reduceStep, type StoreOptions, storeSpec, sweepInterval,
} from './store-internals.ts'

export interface WindowedStoreOptions<A> extends StoreOptions<A> {
  /** Where records late for all their windows go, as read (the topic must exist). */
  readonly lateRecordsTopic?: string
}

/** A sink that writes bytes as they are (a record as it was read). */
export function rawTarget(topic: string): SinkTarget {
  const raw = (bytes: unknown): Buffer | null => bytes as Buffer | null
  return { topic, serializeKey: raw, serializeValue: raw }
}

export interface WindowedValue<A> {
  readonly window: TimeWindow
  readonly value: A
}

function windowedFold<V, A>(name: string, windows: TimeWindows,
  options: WindowedStoreOptions<A>, next: (current: A | undefined, value: V, key: unknown) => A):
  OperatorFunction<V, WindowedValue<A>> {
  const spec = storeSpec(name, options)
  const windowed: StoreSpec = { ...spec,
    keySerde: windowedKeySerde(options.keySerde ?? defaultKeySerde()),
    // Retention: a window is deleted once closed (end + grace ≤ stream time): no record can
    // reach it any more (Kafka's retention, size + grace, measured from the window start).
    expiry: { sweepIntervalMs: sweepInterval(windows.retentionMs),
      expiresAtMs: key => (key as WindowedKey).start + windows.retentionMs } }
  const late = options.lateRecordsTopic === undefined ? undefined
    : rawTarget(options.lateRecordsTopic)
  return tagOperator({ kind: 'stateful', name, stores: [windowed] },
    operate<V, WindowedValue<A>>(name, (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const record = currentRecord(name)
        const { key, timestamp } = record
        if (key === null || key === undefined) return
        let dropped = 0
        const all = windows.windowsFor(timestamp)
        for (const window of all) {
          if (!windows.isOpen(window.end, host.streamTimeMs)) {
            dropped++
            continue
          }
          const storeKey: WindowedKey = { key, start: window.start }
          const folded = next(store.get(storeKey) as A | undefined, value, key)
          store.put(storeKey, folded)
          subscriber.next({ window, value: folded })
        }
        if (dropped === 0) return
        host.recordLate(spec.name)
        if (late !== undefined && dropped === all.length && record.input !== undefined) {
          host.send(late, record.input.key, record.input.value, timestamp)
        }
      }
    }))
}

/** Folds each window's values into an aggregate; emits each window's new aggregate. */
export function windowedAggregate<V, A>(windows: TimeWindows, initial: () => A,
  add: (aggregate: A, value: V, key: unknown) => A, options: WindowedStoreOptions<A>):
  OperatorFunction<V, WindowedValue<A>> {
  return windowedFold<V, A>('windowedAggregate', windows, options, aggregateStep(initial, add))
}

/** Counts each window's records; emits each window's new count. */
export function windowedCount<V>(windows: TimeWindows, options: WindowedStoreOptions<number>):
OperatorFunction<V, WindowedValue<number>> {
  return windowedFold<V, number>('windowedCount', windows, options, countStep)
}

/** Combines each window's values with `combine`; emits each window's new result. */
export function windowedReduce<V>(windows: TimeWindows,
  combine: (current: V, value: V, key: unknown) => V, options: WindowedStoreOptions<V>):
  OperatorFunction<V, WindowedValue<V>> {
  return windowedFold<V, V>('windowedReduce', windows, options, reduceStep(combine))
}
