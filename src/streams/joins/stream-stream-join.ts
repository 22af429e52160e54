/**
 * Stream–stream windowed joins (Kafka Streams' KStream#join, #leftJoin and #outerJoin with
 * JoinWindows): a left and a right record with the same key join when their timestamps fall in
 * one window (join-windows.ts: l − before ≤ r ≤ l + after). Each pair is emitted as soon as its
 * second record arrives, as joiner(left, right, key), with the key unchanged and the later of the
 * two timestamps. A left join also emits joiner(left, null, key) for each left record that
 * joined nothing; an outer join does that and emits joiner(null, right, key) for such right
 * records. Those come only once the record's window has closed, with the record's own key and
 * timestamp, so no join of that record can follow them (Kafka ≥ 3.1: KAFKA-10847, KIP-633).
 *
 * Per record of either side, with stream time the task's largest timestamp so far (this record's
 * included):
 * 1. A null value is skipped. So is a null key, except on a side whose unmatched records are
 *    emitted (left of a left join, both of an outer join): a null key can never join, so the
 *    record is emitted at once joined with null (Kafka ≥ 3.7, KIP-962).
 * 2. Every waiting unmatched record whose window has closed (close time < stream time,
 *    join-windows.ts) is emitted, ordered as Kafka iterates its outer-join store: by timestamp,
 *    right before left, then by key bytes, then in arrival order.
 * 3. A record whose own window is already closed is late: dropped — not joined, not kept, never
 *    emitted — and counted in `app.metrics().lateRecordsDropped['<store>-left' | '<store>-right']`.
 *    A record at most grace behind stream time is never late.
 * 4. It joins each record of the other side with its key that it matches and whose window is
 *    still open, oldest first, equal timestamps in arrival order (Kafka's window store fetch). A
 *    partner that was waiting unmatched stops waiting.
 * 5. It is kept in its side's store while its window is open; if it joined nothing on a side
 *    whose unmatched records are emitted, it also waits in the pending store.
 *
 * Processing order. A task reads its two input partitions in arrival order: Weir does not
 * synchronize them by timestamp (Kafka's max.task.idle.ms is not implemented). Stream time, and
 * with it lateness and when unmatched records are emitted, thus depends on that order, as
 * Kafka's does on the order it picks.
 *
 * Where Weir differs from Kafka, and why:
 * - Lateness. Kafka drops a record only when its own side's window store refuses it (timestamp ≤
 *   that side's largest timestamp − (before + after + grace)) and still joins such a record with
 *   the other side's store. Weir drops a record whose window has closed and joins a pair only
 *   while both windows are open, so an emitted unmatched result stays true. Records in timestamp
 *   order join the same pairs in both; out-of-order ones within grace do too, up to edge cases
 *   of Kafka's retention boundary.
 * - Kafka emits an unmatched record at once when its window's end (without grace) is already
 *   behind stream time, although a record of the other side within grace can still join it
 *   after that. Weir keeps it waiting until its window closes.
 * - Kafka's join keeps its own stream time (records reaching the join); Weir uses the task's,
 *   which counts every record of the task's input partitions and survives restarts in the
 *   commit metadata. Kafka throttles its scans for closed records by wall-clock time (1 s);
 *   Weir scans when stream time passes the earliest close time among waiting records, which it
 *   keeps in memory and recomputes after every rebuild of the task's pipelines.
 *
 * Stores (changelogged like every store): `<store>-left` and `<store>-right` hold, per key, the
 * side's records whose window may still be open, `Array<{ timestamp, value }>` oldest first,
 * rewritten on each record of that key; a key whose records have all closed is deleted by the
 * store's expiry sweep. `<store>-pending` (left and outer joins) holds unmatched records by
 * `{ timestamp, side, key }` until they are emitted or joined.
 */
import type { OperatorFunction, Subscriber } from 'rxjs'
import { WeirError } from '../../errors.ts'
import { assert } from '../../util/assert.ts'
import { KStream } from '../kstream.ts'
import { type StoreSpec, tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, type OperatorHost, withRecord } from '../processing-context.ts'
import { defaultKeySerde, json, type Serde } from '../serdes.ts'
import { storeSpec, sweepInterval } from '../operators/store-internals.ts'
import type { TaskStore } from '../runtime/task-store.ts'
import type { JoinSide, JoinWindows } from './join-windows.ts'

export type StreamJoinKind = 'inner' | 'left' | 'outer'

export interface StreamJoinOptions<L, R> {
  /** Names the join's stores `<store>-left`, `<store>-right` and `<store>-pending`. */
  readonly store: string
  /** How left values are kept in the stores; JSON by default. */
  readonly leftSerde?: Serde<L>
  /** How right values are kept in the stores; JSON by default. */
  readonly rightSerde?: Serde<R>
  /** How keys are kept in the stores; the default key serde by default. */
  readonly keySerde?: Serde<unknown>
}

/** A record kept in its side's store. */
export interface BufferedRecord<V> {
  readonly timestamp: number
  readonly value: V
}

/** Where unmatched records of one side, key and timestamp wait. */
export interface PendingKey {
  readonly timestamp: number
  readonly side: JoinSide
  readonly key: unknown
}

/** The unmatched records under one pending key, in arrival order. */
export interface PendingValues {
  readonly side: JoinSide
  readonly values: readonly unknown[]
}

type Joiner = (left: unknown, right: unknown, key: unknown) => unknown

/** What both side operators share. */
interface JoinPlan {
  readonly kind: StreamJoinKind
  readonly windows: JoinWindows
  readonly joiner: Joiner
  readonly stores: Readonly<Record<JoinSide, string>>
  readonly pending: StoreSpec | undefined
}

/** A side operator's task: its stores and where it emits. */
interface SideTask {
  readonly side: JoinSide
  readonly name: string
  readonly host: OperatorHost
  readonly subscriber: Subscriber<unknown>
  readonly own: TaskStore
  readonly other: TaskStore
  readonly pending: TaskStore | undefined
}

/**
 * The earliest close time among waiting records, per task (keyed by its pending store); -∞ when
 * unknown, which makes the next record scan. Each pipeline build resets it: a build follows any
 * discard, which may bring back records the bound no longer covers.
 */
const earliestClose = new WeakMap<TaskStore, { closesAtMs: number }>()

const otherSide = (side: JoinSide): JoinSide => side === 'left' ? 'right' : 'left'

/** Whether a side's unmatched records are emitted (joined with null). */
function emitsUnmatched(kind: StreamJoinKind, side: JoinSide): boolean {
  return kind === 'outer' || (kind === 'left' && side === 'left')
}

/**
 * Joins `left` and `right` by key within `windows` (see above). The two streams must be
 * co-partitioned (checked at start: WEIR_ERR_STREAMS_COPARTITION); a side whose key changed is
 * repartitioned first, through `<appId>-<store>-left-repartition` or `-right-repartition`.
 */
export function joinStreams<L, R, J, K>(kind: StreamJoinKind, left: KStream<L, K>,
  right: KStream<R, K>, joiner: (left: L | null, right: R | null, key: K) => J,
  windows: JoinWindows, options: StreamJoinOptions<L, R>): KStream<J, K> {
  const operator = kind === 'inner' ? 'join' : `${kind}Join`
  storeSpec(operator, options) // validates the base name
  const keySerde = options.keySerde ?? defaultKeySerde()
  const leftSpec = bufferSpec(`${options.store}-left`, 'left', windows,
    (options.leftSerde ?? json<L>()) as Serde<unknown>, keySerde)
  const rightSpec = bufferSpec(`${options.store}-right`, 'right', windows,
    (options.rightSerde ?? json<R>()) as Serde<unknown>, keySerde)
  const pending: StoreSpec | undefined = kind === 'inner' ? undefined : {
    name: `${options.store}-pending`, indexed: true, keySerde: pendingKeySerde(keySerde),
    valueSerde: pendingValuesSerde((options.leftSerde ?? json<L>()) as Serde<unknown>,
      (options.rightSerde ?? json<R>()) as Serde<unknown>) }
  const plan: JoinPlan = { kind, windows, joiner: joiner as Joiner, pending,
    stores: { left: leftSpec.name, right: rightSpec.name } }
  const node = left.topology.joinNode(
    left.node, [sideOperator(`${operator} (left)`, 'left', plan,
      pending === undefined ? [leftSpec] : [leftSpec, pending])],
    right.node, [sideOperator(`${operator} (right)`, 'right', plan, [rightSpec])])
  return new KStream<J, K>(left.topology, node)
}

/** One side's operator; `declared` are the stores its node owns (each store once). */
function sideOperator(name: string, side: JoinSide, plan: JoinPlan,
  declared: readonly StoreSpec[]): OperatorFunction<unknown, unknown> {
  return tagOperator({ kind: 'stateful', name, stores: declared },
    operate<unknown, unknown>(name, (subscriber, host) => {
      const task: SideTask = { side, name, host, subscriber,
        own: host.store(plan.stores[side]), other: host.store(plan.stores[otherSide(side)]),
        pending: plan.pending === undefined ? undefined : host.store(plan.pending.name) }
      if (task.pending !== undefined) {
        earliestClose.set(task.pending, { closesAtMs: Number.NEGATIVE_INFINITY })
      }
      return value => processRecord(plan, task, value)
    }))
}

function processRecord(plan: JoinPlan, task: SideTask, value: unknown): void {
  const { windows } = plan
  const { side, host } = task
  const { key, timestamp } = currentRecord(task.name)
  if (value === null || value === undefined) return
  if (key === null || key === undefined) {
    if (emitsUnmatched(plan.kind, side)) task.subscriber.next(unmatched(plan, side, value, key))
    return
  }
  emitClosed(plan, task)
  const streamTimeMs = host.streamTimeMs
  assert(streamTimeMs >= timestamp, 'stream time includes the record being processed')
  if (!windows.isOpen(side, timestamp, streamTimeMs)) {
    host.recordLate(plan.stores[side])
    return
  }
  const partnerSide = otherSide(side)
  const partners = ((task.other.get(key) ?? []) as Array<BufferedRecord<unknown>>)
    .filter(partner => windows.isOpen(partnerSide, partner.timestamp, streamTimeMs)
      && (side === 'left' ? windows.matches(timestamp, partner.timestamp)
        : windows.matches(partner.timestamp, timestamp)))
  for (const partner of partners) {
    if (task.pending !== undefined && emitsUnmatched(plan.kind, partnerSide)) {
      const waiting: PendingKey = { timestamp: partner.timestamp, side: partnerSide, key }
      if (task.pending.get(waiting) !== undefined) task.pending.delete(waiting)
    }
    const joined = side === 'left' ? plan.joiner(value, partner.value, key)
      : plan.joiner(partner.value, value, key)
    emitAt(task, key, Math.max(timestamp, partner.timestamp), joined)
  }
  keep(plan, task, key, { timestamp, value })
  if (partners.length === 0 && task.pending !== undefined && emitsUnmatched(plan.kind, side)) {
    const waiting: PendingKey = { timestamp, side, key }
    const values = (task.pending.get(waiting) as PendingValues | undefined)?.values ?? []
    task.pending.put(waiting, { side, values: [...values, value] } satisfies PendingValues)
    const bound = earliestClose.get(task.pending)
    assert(bound !== undefined, 'the bound is set when the pipeline is built')
    bound.closesAtMs = Math.min(bound.closesAtMs, windows.closesAtMs(side, timestamp))
  }
}

/** Adds the record to its side's store (oldest first), dropping the key's closed records. */
function keep(plan: JoinPlan, task: SideTask, key: unknown, record: BufferedRecord<unknown>):
void {
  const streamTimeMs = task.host.streamTimeMs
  const kept = ((task.own.get(key) ?? []) as Array<BufferedRecord<unknown>>)
    .filter(stored => plan.windows.isOpen(task.side, stored.timestamp, streamTimeMs))
  const later = kept.findIndex(stored => stored.timestamp > record.timestamp)
  const at = later === -1 ? kept.length : later
  task.own.put(key, [...kept.slice(0, at), record, ...kept.slice(at)])
}

/** Emits, and forgets, every waiting unmatched record whose window has closed. */
function emitClosed(plan: JoinPlan, task: SideTask): void {
  const { pending, host } = task
  if (pending === undefined) return
  const bound = earliestClose.get(pending)
  assert(bound !== undefined, 'the bound is set when the pipeline is built')
  const streamTimeMs = host.streamTimeMs
  if (bound.closesAtMs >= streamTimeMs) return
  assert(plan.pending !== undefined, 'a pending store has a spec')
  const closed: Array<{ key: PendingKey, bytes: Buffer }> = []
  let earliest = Number.POSITIVE_INFINITY
  for (const key of pending.keys() as PendingKey[]) {
    const closesAtMs = plan.windows.closesAtMs(key.side, key.timestamp)
    if (closesAtMs < streamTimeMs) closed.push({ key, bytes: plan.pending.keySerde.serialize(key) })
    else earliest = Math.min(earliest, closesAtMs)
  }
  bound.closesAtMs = earliest
  closed.sort((a, b) => Buffer.compare(a.bytes, b.bytes))
  for (const { key } of closed) {
    const { values } = pending.get(key) as PendingValues
    pending.delete(key)
    for (const value of values) {
      emitAt(task, key.key, key.timestamp, unmatched(plan, key.side, value, key.key))
    }
  }
}

function unmatched(plan: JoinPlan, side: JoinSide, value: unknown, key: unknown): unknown {
  return side === 'left' ? plan.joiner(value, null, key) : plan.joiner(null, value, key)
}

/** Emits `value` downstream as a record with `key` and `timestamp`. */
function emitAt(task: SideTask, key: unknown, timestamp: number, value: unknown): void {
  withRecord({ ...currentRecord(task.name), key, timestamp }, () => task.subscriber.next(value))
}

function bufferSpec(name: string, side: JoinSide, windows: JoinWindows, serde: Serde<unknown>,
  keySerde: Serde<unknown>): StoreSpec {
  return { ...storeSpec('join', { store: name, keySerde }), valueSerde: bufferSerde(serde),
    // A key is deleted once all its records' windows have closed: none can join any more.
    expiry: { sweepIntervalMs: sweepInterval(windows.retentionMs),
      expiresAtMs: (_key, stored) => Math.max(...(stored as Array<BufferedRecord<unknown>>)
        .map(record => windows.closesAtMs(side, record.timestamp))) + 1 } }
}

function truncated(serde: Serde<unknown>, what: string): WeirError {
  return new WeirError('WEIR_ERR_SERDE_FAILED', `The ${serde.name} serde found a truncated `
    + `${what} in a stored join value.`)
}

/** Records as frames: timestamp (float64, exact for ms), length (uint32), value bytes. */
function bufferSerde(serde: Serde<unknown>): Serde<unknown> {
  return {
    name: `join buffer of ${serde.name}`,
    serialize: stored => Buffer.concat((stored as Array<BufferedRecord<unknown>>)
      .flatMap(({ timestamp, value }) => {
        const bytes = serde.serialize(value)
        const head = Buffer.alloc(12)
        head.writeDoubleBE(timestamp, 0)
        head.writeUInt32BE(bytes.length, 8)
        return [head, bytes]
      })),
    deserialize: bytes => {
      const records: Array<BufferedRecord<unknown>> = []
      for (let at = 0; at < bytes.length;) {
        if (at + 12 > bytes.length) throw truncated(serde, 'record')
        const end = at + 12 + bytes.readUInt32BE(at + 8)
        if (end > bytes.length) throw truncated(serde, 'record')
        records.push({ timestamp: bytes.readDoubleBE(at),
          value: serde.deserialize(bytes.subarray(at + 12, end)) })
        at = end
      }
      return records
    },
  }
}

/**
 * Pending keys as Kafka's TimestampedKeyAndJoinSide: timestamp (uint64 big-endian), side (right
 * 0, left 1), key bytes — so byte order is the emission order.
 */
function pendingKeySerde(keySerde: Serde<unknown>): Serde<unknown> {
  return {
    name: `join pending ${keySerde.name}`,
    serialize: value => {
      const { timestamp, side, key } = value as PendingKey
      assert(Number.isSafeInteger(timestamp) && timestamp >= 0, 'timestamps are ms ≥ 0')
      const head = Buffer.alloc(9)
      head.writeBigUInt64BE(BigInt(timestamp), 0)
      head.writeUInt8(side === 'left' ? 1 : 0, 8)
      return Buffer.concat([head, keySerde.serialize(key)])
    },
    deserialize: bytes => {
      assert(bytes.length >= 9, 'a pending key holds its timestamp and side')
      return { timestamp: Number(bytes.readBigUInt64BE(0)),
        side: bytes.readUInt8(8) === 1 ? 'left' : 'right',
        key: keySerde.deserialize(bytes.subarray(9)) } satisfies PendingKey
    },
  }
}

/** Pending values: the side (right 0, left 1), then each value as length (uint32) and bytes. */
function pendingValuesSerde(left: Serde<unknown>, right: Serde<unknown>): Serde<unknown> {
  return {
    name: `join pending ${left.name} | ${right.name}`,
    serialize: value => {
      const { side, values } = value as PendingValues
      const serde = side === 'left' ? left : right
      return Buffer.concat([Buffer.from([side === 'left' ? 1 : 0]), ...values.flatMap(one => {
        const bytes = serde.serialize(one)
        const head = Buffer.alloc(4)
        head.writeUInt32BE(bytes.length, 0)
        return [head, bytes]
      })])
    },
    deserialize: bytes => {
      const side: JoinSide = bytes.readUInt8(0) === 1 ? 'left' : 'right'
      const serde = side === 'left' ? left : right
      const values: unknown[] = []
      for (let at = 1; at < bytes.length;) {
        const end = at + 4 + (at + 4 <= bytes.length ? bytes.readUInt32BE(at) : 0)
        if (at + 4 > bytes.length || end > bytes.length) throw truncated(serde, 'value')
        values.push(serde.deserialize(bytes.subarray(at + 4, end)))
        at = end
      }
      return { side, values } satisfies PendingValues
    },
  }
}
