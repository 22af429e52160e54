/**
 * Checkers for any run of a topology: pure functions from what went in and what came out to a
 * `CheckResult`. They are the invariants of Kafka's system tests written once (TransactionsTest:
 * output set = input set with 0 duplicates; EosIntegrationTest: state store = fold of committed
 * input; read_committed never shows aborted data), generic over keys and values.
 *
 * Identities: where records must be matched, a user function gives each record an identity
 * (e.g. `record => record.value.orderId`); identities are compared by `stableJson`, so objects
 * work as identities. The default identity is the record's value.
 *
 * They deliberately know nothing about brokers or offsets beyond what a record carries; the
 * history checker (queue-checker.ts) is the one that reasons about sends, polls and txns.
 */
import { isDeepStrictEqual } from 'node:util'
import { type Anomaly, type CheckResult, checkResult, show, stableJson } from './check-result.ts'
import type { ReadRecord } from './model.ts'

/** The least a checker needs of a record: its value, and where it is when known. */
export interface CheckedRecord<V = unknown> {
  readonly value: V
  readonly key?: unknown
  readonly topic?: string
  readonly partition?: number
  readonly offset?: number
}

/** Gives a record the identity it is matched by. */
export type Identity<R> = (record: R) => unknown

function valueIdentity(record: CheckedRecord): unknown {
  return record.value
}

/** Where a record is, as anomaly fields. */
function place(record: CheckedRecord): Partial<Anomaly> {
  const where: { -readonly [F in keyof Anomaly]?: Anomaly[F] } = {}
  if (record.key !== undefined) where.key = record.key
  if (record.topic !== undefined) where.topic = record.topic
  if (record.partition !== undefined) where.partition = record.partition
  if (record.offset !== undefined) where.offset = record.offset
  return where
}

function at(record: CheckedRecord): string {
  const where = position(record)
  return where === undefined ? '' : ` (at ${where})`
}

/** `topic/partition@offset`, when the record says where it is. */
function position(record: CheckedRecord): string | undefined {
  if (record.topic === undefined && record.offset === undefined) return undefined
  return `${record.topic ?? '?'}/${record.partition ?? '?'}@${record.offset ?? '?'}`
}

function groupBy<R>(records: readonly R[], identity: Identity<R>): Map<string, R[]> {
  const groups = new Map<string, R[]>()
  for (const record of records) {
    const id = stableJson(identity(record))
    const group = groups.get(id)
    if (group === undefined) groups.set(id, [record])
    else group.push(record)
  }
  return groups
}

export interface ExactlyOnceOptions<O, I> {
  /** Identity of inputs and outputs alike, when one function fits both. */
  readonly id?: Identity<O | I>
  /** Identity of an output; wins over `id`. */
  readonly outputId?: Identity<O>
  /** Identity of an input; wins over `id`. */
  readonly inputId?: Identity<I>
}

/**
 * Every input is reflected by exactly one output: no `duplicate` (more outputs than inputs with
 * that identity), no `lost` (fewer), nothing `unexpected` (an output no input explains). Inputs
 * with the same identity are a multiset: two such inputs expect two outputs.
 *
 * @example
 * const result = exactlyOnce(outputs, inputs, { id: record => record.value.orderId })
 * expect(result.anomalies).toEqual([])
 * @see noLostAcknowledged for the weaker "nothing acknowledged was lost" check.
 */
export function exactlyOnce<O extends CheckedRecord, I extends CheckedRecord = O>(
  outputs: readonly O[], inputs: readonly I[], options: ExactlyOnceOptions<O, I> = {},
): CheckResult {
  const outputGroups = groupBy(outputs, options.outputId ?? options.id ?? valueIdentity)
  const inputGroups = groupBy(inputs, options.inputId ?? options.id ?? valueIdentity)
  const anomalies: Anomaly[] = []
  for (const [id, group] of outputGroups) {
    const expected = inputGroups.get(id)?.length ?? 0
    const first = group[0]!
    if (expected === 0) {
      anomalies.push({ type: 'unexpected', ...place(first), value: first.value,
        message: `output ${id} matches no input${at(first)}` })
    } else if (group.length > expected) {
      const places = group.map(position).filter(where => where !== undefined)
      const where = places.length === 0 ? '' : ` (at ${places.join(', ')})`
      anomalies.push({ type: 'duplicate', ...place(group[expected]!), value: first.value,
        message: `${id} was output ${group.length} times for ${expected} input(s)${where}` })
    }
  }
  for (const [id, group] of inputGroups) {
    const seen = outputGroups.get(id)?.length ?? 0
    if (seen < group.length) {
      anomalies.push({ type: 'lost', ...place(group[0]!), value: group[0]!.value,
        message: `input ${id} was given ${group.length} time(s) but output ${seen} time(s)` })
    }
  }
  return checkResult(anomalies)
}

/** Sequence numbers compare as numbers, bigints or strings; mixing kinds is a test bug. */
export type Sequence = number | bigint | string

export type PerKeyOrderOptions<K, V> =
  | {
    /** The record's position in its key's sequence: must strictly increase per key. */
    readonly sequence: (record: ReadRecord<K, V>) => Sequence
  }
  | {
    /** Per key, the identities in the order they must come out. */
    readonly expected: Iterable<readonly [K, readonly unknown[]]>
    /** Identity of an output, compared with `expected`; the value by default. */
    readonly id?: Identity<ReadRecord<K, V>>
  }

function byPosition<K, V>(a: ReadRecord<K, V>, b: ReadRecord<K, V>): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1
  return a.partition - b.partition || a.offset - b.offset
}

/**
 * Per key, outputs read in (topic, partition, offset) order come in sequence order: either
 * strictly increasing `sequence(record)`, or the order of the key's `expected` identities
 * (outputs whose identity is not in the key's expected list are ignored: presence is
 * `exactlyOnce`'s job). Each break is an `out-of-order` anomaly at the later record.
 *
 * @example
 * perKeyOrder(outputs, { sequence: record => record.value.version })
 * perKeyOrder(outputs, { expected: new Map([['k1', [1, 2, 3]]]) })
 */
export function perKeyOrder<K, V>(
  outputs: readonly ReadRecord<K, V>[], options: PerKeyOrderOptions<K, V>,
): CheckResult {
  const rank = rankFunction(options)
  const anomalies: Anomaly[] = []
  const byKey = groupBy([...outputs].sort(byPosition), record => record.key)
  for (const records of byKey.values()) {
    let previous: { record: ReadRecord<K, V>, rank: Sequence } | undefined
    for (const record of records) {
      const current = rank(record)
      if (current === undefined) continue
      if (previous !== undefined && !(current > previous.rank)) {
        anomalies.push({ type: 'out-of-order', ...place(record), value: record.value,
          message: `key ${show(record.key)}: ${show(record.value)}${at(record)} comes after ` +
            `${show(previous.record.value)}${at(previous.record)} but is not later in sequence` })
      }
      previous = { record, rank: current }
    }
  }
  return checkResult(anomalies)
}

function rankFunction<K, V>(
  options: PerKeyOrderOptions<K, V>,
): (record: ReadRecord<K, V>) => Sequence | undefined {
  if ('sequence' in options) return options.sequence
  const positions = new Map<string, Map<string, number>>()
  for (const [key, ids] of options.expected) {
    const perKey = new Map<string, number>()
    ids.forEach((id, index) => {
      if (!perKey.has(stableJson(id))) perKey.set(stableJson(id), index)
    })
    positions.set(stableJson(key), perKey)
  }
  const id = options.id ?? valueIdentity
  return record => positions.get(stableJson(record.key))?.get(stableJson(id(record)))
}

/**
 * No read returns a value of an aborted transaction (G1a, "aborted read"): `aborted` is either
 * the identities of every aborted write or a predicate saying whether a read record is one.
 *
 * @example
 * noAbortedReads(readCommitted, abortedOrderIds, { id: record => record.value.orderId })
 * noAbortedReads(readCommitted, record => record.value.startsWith('abort-'))
 */
export function noAbortedReads<R extends CheckedRecord>(
  reads: readonly R[], aborted: Iterable<unknown> | ((record: R) => boolean),
  options: { readonly id?: Identity<R> } = {},
): CheckResult {
  let isAborted: (record: R) => boolean
  if (typeof aborted === 'function') {
    isAborted = aborted
  } else {
    const ids = new Set([...aborted].map(stableJson))
    const id = options.id ?? valueIdentity
    isAborted = record => ids.has(stableJson(id(record)))
  }
  const anomalies: Anomaly[] = reads.filter(isAborted).map(record => ({
    type: 'aborted-read', ...place(record), value: record.value,
    message: `read ${show(record.value)}${at(record)}, written by an aborted transaction`,
  }))
  return checkResult(anomalies)
}

/** A store entry as read back from a state store. */
export interface StoreEntry<K, S> {
  readonly key: K
  readonly value: S
}

/**
 * A store's final entries equal the per-key fold of the inputs, in input order, compared with
 * deep equality. `fold` returning `undefined` means the key is absent (a tombstone).
 * Anomalies: `state-missing` (the fold has the key, the store not), `state-extra` (the store
 * has a key the fold has not, or has it twice), `state-differs` (both have it, unequal).
 * Entries are compared by deep equality only, so they may come untyped (a simulation's stores).
 *
 * @example
 * stateEqualsFold(await readStore('counts'), inputs, (count: number | undefined) =>
 *   (count ?? 0) + 1)
 */
export function stateEqualsFold<K, S, I extends { readonly key: K }>(
  entries: readonly StoreEntry<K, unknown>[], inputs: readonly I[],
  fold: (accumulator: S | undefined, input: I) => S | undefined,
): CheckResult {
  const expected = new Map<string, { key: K, value: S | undefined }>()
  for (const input of inputs) {
    const id = stableJson(input.key)
    const entry = expected.get(id)
    expected.set(id, { key: input.key, value: fold(entry?.value, input) })
  }
  const anomalies: Anomaly[] = []
  const seen = new Set<string>()
  for (const entry of entries) {
    const id = stableJson(entry.key)
    const want = expected.get(id)?.value
    if (seen.has(id) || want === undefined) {
      const why = seen.has(id) ? 'twice' : 'but the fold of the inputs has no such key'
      anomalies.push({ type: 'state-extra', key: entry.key, value: entry.value,
        message: `store holds key ${id} ${why} (value ${show(entry.value)})` })
    } else if (!isDeepStrictEqual(entry.value, want)) {
      anomalies.push({ type: 'state-differs', key: entry.key, value: entry.value,
        message: `key ${id}: store holds ${show(entry.value)}, the fold gives ${show(want)}` })
    }
    seen.add(id)
  }
  for (const [id, { key, value }] of expected) {
    if (value === undefined || seen.has(id)) continue
    anomalies.push({ type: 'state-missing', key, value,
      message: `key ${id} is missing from the store; the fold gives ${show(value)}` })
  }
  return checkResult(anomalies)
}

/**
 * Every acknowledged send is among the final reads (matched by identity): no
 * `lost-acknowledged`. Reads may hold more (unacknowledged sends that still landed).
 *
 * @example
 * noLostAcknowledged(acked, await readTopic('payments'), { id: record => record.value.id })
 */
export function noLostAcknowledged<A extends CheckedRecord, R extends CheckedRecord = A>(
  acknowledged: readonly A[], reads: readonly R[],
  options: { readonly id?: Identity<A | R> } = {},
): CheckResult {
  const id = options.id ?? valueIdentity
  const read = new Set(reads.map(record => stableJson(id(record))))
  const anomalies: Anomaly[] = acknowledged
    .filter(record => !read.has(stableJson(id(record))))
    .map(record => ({ type: 'lost-acknowledged', ...place(record), value: record.value,
      message: `acknowledged ${show(id(record))}${at(record)} is not among the reads` }))
  return checkResult(anomalies)
}
