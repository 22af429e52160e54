/**
 * Stream–table joins (Kafka Streams' KStream#join / #leftJoin with a KTable): each stream record
 * is joined with the table's value for its key; table updates only change the table and emit
 * nothing. The output keeps the record's key and event time. Records with a null key are
 * dropped, as in Kafka. The table's topic and the stream must be co-partitioned (same partition
 * count, checked at start: WEIR_ERR_STREAMS_COPARTITION); a stream whose key was changed
 * (selectKey) is repartitioned by its new key first.
 *
 * Which table value a record sees:
 * - By default the table's current value when the record is processed (Kafka's join with a
 *   plain KTable). A task reads its stream and table partitions in arrival order — Weir does
 *   not synchronize them by timestamp (Kafka's max.task.idle.ms) — so a table update produced
 *   before a record can still arrive after it.
 * - With `versioned`, the value at the record's time: the join keeps each key's table versions
 *   for `historyRetentionMs` of stream time in a store of its own (Kafka's versioned key-value
 *   store, KIP-889, and its join lookup, KIP-914) and takes the newest version whose timestamp
 *   is at or before the record's. An out-of-order table update within the history then lands in
 *   its place. As in Kafka, a record older than stream time − history finds no version (no
 *   match), and a table update that old is not kept.
 */
import type { OperatorFunction } from 'rxjs'
import { WeirError } from '../../errors.ts'
import { KStream, type KTable } from '../kstream.ts'
import { type StoreSpec, tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import type { Serde } from '../serdes.ts'
import { storeSpec, sweepInterval } from '../operators/store-internals.ts'
import type { TaskStore } from '../runtime/task-store.ts'

export interface VersionedLookup<T> {
  /** The store holding the table's versions (named for its changelog, like every store). */
  readonly store: string
  /** How long, in stream time, a version stays visible after a newer one replaced it. */
  readonly historyRetentionMs: number
  /** How the table's values are stored in the versions store; JSON by default. */
  readonly serde?: Serde<T>
}

export interface StreamTableJoinOptions<T> {
  /** Look the table up at the record's time rather than at processing time. */
  readonly versioned?: VersionedLookup<T>
  /**
   * Names the repartition topic of a re-keyed stream, `<appId>-<name>-repartition`; by default
   * the versions store's name, else `join-<n>` with n the node's position in the topology.
   */
  readonly name?: string
}

/** One version of a table key: its timestamp and value (null: deleted then). */
type Version = readonly [timestamp: number, value: unknown]

export type StreamTableJoinKind = 'inner' | 'left'

export function joinStreamTable<V, T, J, K>(kind: StreamTableJoinKind, stream: KStream<V, K>,
  table: KTable<T, K>, joiner: (value: V, tableValue: T | null, key: K) => J,
  options: StreamTableJoinOptions<T> = {}): KStream<J, K> {
  const versions = options.versioned === undefined ? undefined
    : versionsSpec(options.versioned)
  const retention = options.versioned?.historyRetentionMs ?? 0
  const name = kind === 'inner' ? 'join' : 'leftJoin'
  const lookup = tagOperator({ kind: 'stateful', name, stores: versions ? [versions] : [],
    ...options.name === undefined ? {} : { repartitionName: options.name } },
    operate<V, J>(name, (subscriber, host) => {
      const current = host.store(table.store)
      const history = versions && host.store(versions.name)
      return value => {
        const { key, timestamp } = currentRecord(name)
        if (key === null || key === undefined) return
        const found = history === undefined ? current.get(key)
          : versionAt(history.get(key) as Version[] | undefined, timestamp,
            host.streamTimeMs - retention)
        if (found === undefined && kind === 'inner') return
        subscriber.next(joiner(value, (found ?? null) as T | null, key as K))
      }
    }))
  const record = tagOperator({ kind: 'stateful', name: `${name} (table side)`, stores: [] },
    operate<T | null, never>(name, (_subscriber, host) => {
      const history = versions && host.store(versions.name)
      return value => {
        if (history !== undefined) addVersion(history, value, host.streamTimeMs - retention)
      }
    }))
  const node = stream.topology.joinNode(stream.node, [lookup as OperatorFunction<unknown,
    unknown>], table.toStream().node, [record as OperatorFunction<unknown, unknown>])
  return new KStream<J, K>(stream.topology, node)
}

function versionsSpec<T>(versioned: VersionedLookup<T>): StoreSpec {
  const { historyRetentionMs } = versioned
  if (!Number.isSafeInteger(historyRetentionMs) || historyRetentionMs < 0) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', 'versioned.historyRetentionMs must be an '
      + `integer number of milliseconds ≥ 0, got ${historyRetentionMs}.`)
  }
  const spec = storeSpec('join', { store: versioned.store })
  const values = versioned.serde as Serde<unknown> | undefined
  return { ...spec, valueSerde: values === undefined ? spec.valueSerde : versionsSerde(values),
    // A key whose newest version is a delete older than the history has nothing to show.
    expiry: { sweepIntervalMs: sweepInterval(historyRetentionMs),
      expiresAtMs: (_key, stored) => {
        const newest = (stored as Version[]).at(-1)
        return newest === undefined || newest[1] === null
          ? (newest?.[0] ?? 0) + historyRetentionMs : Number.POSITIVE_INFINITY
      } } }
}

/** Versions as JSON `[timestamp, value bytes as base64 | null]` pairs around `serde`. */
function versionsSerde(serde: Serde<unknown>): Serde<unknown> {
  return {
    name: `versions of ${serde.name}`,
    serialize: stored => Buffer.from(JSON.stringify((stored as Version[]).map(([at, value]) =>
      [at, value === null ? null : serde.serialize(value).toString('base64')]))),
    deserialize: bytes => (JSON.parse(bytes.toString()) as Array<[number, string | null]>)
      .map(([at, value]) => [at, value === null ? null
        : serde.deserialize(Buffer.from(value, 'base64'))]),
  }
}

/** The value at `timestamp`: the newest version at or before it, unless older than `oldest`. */
function versionAt(stored: readonly Version[] | undefined, timestamp: number, oldest: number):
unknown {
  if (stored === undefined || timestamp < oldest) return undefined
  let found: unknown
  for (const [at, value] of stored) {
    if (at > timestamp) break
    found = value
  }
  return found === null ? undefined : found
}

/**
 * Adds the current table record as a version (replacing one at the same time), then drops the
 * versions no lookup can reach: all but the newest at or before `oldest` (it is the value there).
 */
function addVersion(history: TaskStore, value: unknown, oldest: number): void {
  const { key, timestamp } = currentRecord('join (table side)')
  if (key === null || key === undefined || timestamp < oldest) return
  const stored = (history.get(key) ?? []) as Version[]
  const next = [...stored.filter(([at]) => at !== timestamp), [timestamp, value] as const]
    .sort((a, b) => a[0] - b[0])
  const firstVisible = next.findIndex(([at]) => at > oldest)
  const keepFrom = firstVisible === -1 ? next.length - 1 : Math.max(0, firstVisible - 1)
  history.put(key, next.slice(keepFrom))
}
