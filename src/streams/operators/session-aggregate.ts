/**
 * Session-windowed aggregation (Kafka Streams' groupByKey().windowedBy(SessionWindows)
 * .aggregate/count/reduce): per record key, records closer than the gap in event time form a
 * session [start, end] (session-windows.ts); each record is folded into the session it makes
 * with the key's sessions it reaches — joining two sessions into one when it falls between them.
 *
 * Per record (records with a null key are skipped, as Kafka's aggregations do):
 * 1. Retention: the key's sessions that can no longer take a record on their own are forgotten
 *    (see below).
 * 2. The record's session is merged from the sessions it reaches (SessionWindows.merge). If that
 *    session is closed (end + grace < stream time, the task's largest timestamp so far) the
 *    record is late and dropped: nothing changes, nothing is emitted, and it counts in
 *    `app.metrics().lateRecordsDropped[store]`.
 * 3. The aggregate starts from `initial()`, takes each merged session's aggregate through
 *    `merge` (Kafka's Merger), oldest session first, then the record through `add`.
 * 4. Emitted, as Kafka does with caching off, all with the record's key unchanged: for each
 *    merged session, oldest first, a removal `{ window, value: null }`, then the new session
 *    `{ window, value }`. As in Kafka, when the new session is [t, t] (the record only met a
 *    session [t, t]) that session is updated in place and no removal is emitted; otherwise every
 *    merged session gets a removal, even one whose window the new session repeats.
 *
 * Retention rule: a session whose end + gap + grace < stream time is forgotten. A record that
 * reaches it directly lies at most `gap` after its end, so the session that record makes would be
 * closed unless the record also reaches a later session that is still open (a bridge); keeping
 * a session for bridges would mean keeping every session forever, since an open session can
 * grow back towards any old one by records each within the gap of its start. Kafka's session
 * store forgets sessions at the same point (its retention is gap + grace), so a bridging record
 * here, as in Kafka, merges only with the sessions still kept. Only the record's own key is
 * pruned per record; keys that get no more records go in the store's expiry sweeps.
 *
 * Store layout: one entry per record key whose value is the key's live sessions,
 * `Array<{ start, end, value }>` sorted by start and never overlapping, rewritten as a whole on
 * every accepted record (the store has no range reads). The store is JSON by default; with a
 * `serde` for the aggregate, each session is framed as start and end (float64, exact for ms
 * timestamps), the aggregate's length (uint32) and its bytes. `app.query(store)` returns the
 * arrays. Stored arrays are never mutated in place (the task store caches decoded values).
 *
 * Left out: Kafka's Windowed<K> output key (the key stays the record key, the window travels in
 * the value), emit-on-window-close (suppress() does it after the operator), caching (which in
 * Kafka collapses a removal and update of one window) and sendOldValues. A key whose sessions
 * are all past retention is deleted by the store's expiry sweep (TaskStore.sweep).
 */
import type { OperatorFunction } from 'rxjs'
import { WeirError } from '../../errors.ts'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import { json, type Serde } from '../serdes.ts'
import type { SessionWindow, SessionWindows } from '../windows/session-windows.ts'
import { type StoreOptions, storeSpec, sweepInterval } from './store-internals.ts'

/** One live session of a key, as stored. */
export interface StoredSession<A> {
  readonly start: number
  readonly end: number
  readonly value: A
}

/** What the session operators emit: a session's new aggregate, or null when it is removed. */
export interface SessionValue<A> {
  readonly window: SessionWindow
  readonly value: A | null
}

/** The store's value serde: JSON arrays, or sessions framed around `serde`'s bytes. */
function sessionsSerde<A>(serde: Serde<A> | undefined): Serde<Array<StoredSession<A>>> {
  if (serde === undefined) return json<Array<StoredSession<A>>>()
  return {
    name: `sessions of ${serde.name}`,
    serialize: sessions => Buffer.concat(sessions.flatMap(({ start, end, value }) => {
      const bytes = serde.serialize(value)
      const head = Buffer.alloc(20)
      head.writeDoubleBE(start, 0)
      head.writeDoubleBE(end, 8)
      head.writeUInt32BE(bytes.length, 16)
      return [head, bytes]
    })),
    deserialize: bytes => {
      const sessions: Array<StoredSession<A>> = []
      for (let at = 0; at < bytes.length;) {
        if (at + 20 > bytes.length) {
          throw new WeirError('WEIR_ERR_SERDE_FAILED', `The ${serde.name} sessions serde found a `
            + 'truncated session in a stored value.')
        }
        const length = bytes.readUInt32BE(at + 16)
        const value = serde.deserialize(bytes.subarray(at + 20, at + 20 + length))
        sessions.push({ start: bytes.readDoubleBE(at), end: bytes.readDoubleBE(at + 8), value })
        at += 20 + length
      }
      return sessions
    },
  }
}

/** How a record's aggregate is made from the merged sessions' aggregates and its value. */
type SessionFold<V, A> = (merged: readonly A[], value: V, key: unknown) => A

function sessionFold<V, A>(name: string, windows: SessionWindows, options: StoreOptions<A>,
  fold: SessionFold<V, A>): OperatorFunction<V, SessionValue<A>> {
  const spec = { ...storeSpec(name, options),
    valueSerde: sessionsSerde(options.serde) as Serde<unknown>,
    // A key whose last session is past retention is deleted, records or not.
    expiry: { sweepIntervalMs: sweepInterval(windows.retentionMs),
      expiresAtMs: (_key: unknown, sessions: unknown) => Math.max(...(sessions as
        Array<StoredSession<A>>).map(s => s.end)) + windows.retentionMs + 1 } }
  return tagOperator({ kind: 'stateful', name, stores: [spec] },
    operate<V, SessionValue<A>>(name, (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const { key, timestamp } = currentRecord(name)
        if (key === null || key === undefined) return
        const kept = ((store.get(key) ?? []) as Array<StoredSession<A>>)
          .filter(s => s.end + windows.retentionMs >= host.streamTimeMs)
        const existing = kept.map(s => ({ window: { start: s.start, end: s.end }, aggregate: s }))
        const { window, merged } = windows.merge(timestamp, existing)
        if (!windows.isOpen(window.end, host.streamTimeMs)) { // late: dropped, counted
          host.recordLate(spec.name)
          return
        }
        const gone = new Set(merged.map(m => m.aggregate))
        const aggregate = fold(merged.map(m => m.aggregate.value), value, key)
        const next = [...kept.filter(s => !gone.has(s)),
          { start: window.start, end: window.end, value: aggregate }]
          .sort((a, b) => a.start - b.start)
        store.put(key, next)
        const inPlace = window.start === timestamp && window.end === timestamp
        if (!inPlace) {
          for (const m of merged) subscriber.next({ window: m.window, value: null })
        }
        subscriber.next({ window, value: aggregate })
      }
    }))
}

/**
 * Folds each session's values into an aggregate: `initial()`, then each merged session's
 * aggregate through `merge`, then the record through `add`. Emits removals and the new session.
 */
export function sessionAggregate<V, A>(windows: SessionWindows, initial: () => A,
  add: (aggregate: A, value: V, key: unknown) => A,
  merge: (a: A, b: A, key: unknown) => A, options: StoreOptions<A>):
  OperatorFunction<V, SessionValue<A>> {
  return sessionFold<V, A>('sessionAggregate', windows, options, (merged, value, key) =>
    add(merged.reduce((a, b) => merge(a, b, key), initial()), value, key))
}

/** Counts each session's records; emits removals and the new session's count. */
export function sessionCount<V>(windows: SessionWindows, options: StoreOptions<number>):
OperatorFunction<V, SessionValue<number>> {
  return sessionFold<V, number>('sessionCount', windows, options,
    merged => merged.reduce((a, b) => a + b, 0) + 1)
}

/**
 * Combines each session's values with `combine` (also how two merged sessions combine, as in
 * Kafka's session reduce); emits removals and the new session's result.
 */
export function sessionReduce<V>(windows: SessionWindows,
  combine: (current: V, value: V, key: unknown) => V, options: StoreOptions<V>):
  OperatorFunction<V, SessionValue<V>> {
  return sessionFold<V, V>('sessionReduce', windows, options, (merged, value, key) => {
    const [first, ...rest] = [...merged, value]
    return rest.reduce((a, b) => combine(a, b, key), first as V)
  })
}
