/**
 * Final results of windowed aggregations (Kafka Streams' suppress(Suppressed.untilWindowCloses)):
 * `windowedCount(...)` and its siblings emit every update of a window; `suppress(untilWindowCloses
 * (windows), { store })` after them holds the latest update of each window and emits it once,
 * when the window closes — when stream time reaches its end + grace, the point after which the
 * aggregation takes no more records for it (`windows.isOpen`). Session removals (null values)
 * drop the removed session's pending result.
 *
 * The pending results live in the store `options.store` (changelogged, so a restarted task
 * still emits them once; under exactly-once the emission and the store delete commit together).
 * Closed windows are found when a record moves stream time: the operator keeps the earliest
 * pending end in memory and lists the store's keys (an indexed store) only when that window may
 * have closed. Windows closing together are emitted by end, then start, then key bytes. Each
 * result goes out under its own key with the event time of its last update. As in Kafka,
 * nothing is emitted before a record moves stream time: a quiet partition holds its windows.
 */
import type { OperatorFunction } from 'rxjs'
import { type StoreSpec, tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, withRecord } from '../processing-context.ts'
import { defaultKeySerde, json, type Serde } from '../serdes.ts'
import { decodeWindowKey, encodeWindowKey } from '../windows/window-key.ts'
import type { TaskStore } from '../runtime/task-store.ts'
import { type StoreOptions, storeSpec } from './store-internals.ts'

/** Windows that say when one closes: TimeWindows, SessionWindows, SlidingWindows. */
export interface ClosingWindows {
  isOpen(end: number, streamTimeMs: number): boolean
}

export interface UntilWindowCloses {
  readonly windows: ClosingWindows
}

/** Emit one final result per window, when it closes. */
export function untilWindowCloses(windows: ClosingWindows): UntilWindowCloses {
  return { windows }
}

/** What suppress takes: a window's result (null: a removed session). */
export interface WindowResult {
  readonly window: { readonly start: number, readonly end: number }
  readonly value: unknown
}

interface PendingKey {
  readonly key: unknown
  readonly start: number
  readonly end: number
}

interface Pending<T> {
  readonly result: T
  readonly timestamp: number
}

function pendingKeySerde(keySerde: Serde<unknown>): Serde<unknown> {
  return {
    name: `pending ${keySerde.name}`,
    serialize: value => {
      const { key, start, end } = value as PendingKey
      return encodeWindowKey(keySerde.serialize(key), start, end)
    },
    deserialize: bytes => {
      const { key, start, end } = decodeWindowKey(bytes, true)
      return { key: keySerde.deserialize(key), start, end }
    },
  }
}

export function suppress<T extends WindowResult>(until: UntilWindowCloses,
  options: StoreOptions<T>): OperatorFunction<T, T> {
  const keySerde = options.keySerde ?? defaultKeySerde()
  const base = storeSpec('suppress', options)
  const spec: StoreSpec = { ...base, keySerde: pendingKeySerde(keySerde),
    valueSerde: json<Pending<T>>() as Serde<unknown>, indexed: true }
  const { windows } = until
  return tagOperator({ kind: 'stateful', name: 'suppress', stores: [spec] },
    operate<T, T>('suppress', (subscriber, host) => {
      const store = host.store(spec.name)
      /** The earliest end pending; undefined = unknown (list the store to learn it). */
      let earliestEnd: number | undefined
      return result => {
        const record = currentRecord('suppress')
        if (record.key === null || record.key === undefined) return
        const id: PendingKey = { key: record.key, ...result.window }
        if (result.value === null) {
          store.delete(id)
        } else {
          store.put(id, { result, timestamp: record.timestamp })
          if (earliestEnd !== undefined) earliestEnd = Math.min(earliestEnd, result.window.end)
        }
        if (earliestEnd !== undefined && windows.isOpen(earliestEnd, host.streamTimeMs)) return
        earliestEnd = emitClosed(store, windows, host.streamTimeMs, (pending, key) =>
          withRecord({ ...record, key, timestamp: pending.timestamp }, () =>
            subscriber.next(pending.result as T)))
      }
    }))
}

/** Emits and deletes the closed pending results; returns the earliest end still pending. */
function emitClosed(store: TaskStore, windows: ClosingWindows, streamTimeMs: number,
  emit: (pending: Pending<unknown>, key: unknown) => void): number {
  let earliest = Number.POSITIVE_INFINITY
  const closed: PendingKey[] = []
  for (const id of store.keys() as PendingKey[]) {
    if (windows.isOpen(id.end, streamTimeMs)) earliest = Math.min(earliest, id.end)
    else closed.push(id)
  }
  const keySerde = store.spec.keySerde
  const order = (id: PendingKey): Buffer => keySerde.serialize(id)
  closed.sort((a, b) => a.end - b.end || a.start - b.start || Buffer.compare(order(a), order(b)))
  for (const id of closed) {
    emit(store.get(id) as Pending<unknown>, id.key)
    store.delete(id)
  }
  return earliest
}
