/**
 * Interactive queries (Kafka Streams' ReadOnlyKeyValueStore): reads of a store's committed state
 * in this instance's tasks — what has been committed, never a write of an open transaction.
 * A key lives in one task (its partition); ranges and prefixes merge every local task's entries
 * in key-byte order.
 *
 * A rebalance closes and reopens tasks. Kafka Streams throws InvalidStateStoreException then and
 * leaves the retry to the caller; here a read waits for the assignment to settle and reads again
 * when a store closed under it, so it never returns a partial table. It gives up after
 * `settleTimeoutMs` with REBALANCE_IN_PROGRESS (retriable).
 */
import { WeirError } from '../errors.ts'
import type { KeyValueStore } from '../state/key-value-store.ts'
import { sleep, type Scheduler } from '../util/clock.ts'
import type { StoreSpec } from './operator-info.ts'
import type { StreamTask } from './runtime/stream-task.ts'

export interface KeyValue<K, V> {
  readonly key: K
  readonly value: V
}

export interface StoreQuery<V, K = string> {
  get(key: K): Promise<V | undefined>
  /** Keys from `from` (inclusive) to `to` (exclusive), in key-byte order. */
  range(options?: { from?: K, to?: K, limit?: number }): Promise<Array<KeyValue<K, V>>>
  /** Keys whose bytes start with those of `prefix` (a string prefix of string keys). */
  prefix(prefix: K | string, options?: { limit?: number }): Promise<Array<KeyValue<K, V>>>
  all(): Promise<Array<KeyValue<K, V>>>
}

/** What a query needs of the running app. */
export interface QueryAccess {
  tasks(): readonly StreamTask[]
  /** Joined, and every assigned task restored and running. */
  settled(): boolean
  /** Throws when the app is closed or failed (no wait helps then). */
  checkRunning(): void
  scheduler: Scheduler
  /** How long a read waits for a rebalance to end (default 10 s). */
  settleTimeoutMs?: number
}

const SETTLE_POLL_MS = 10

export function storeQuery<V, K>(spec: StoreSpec, access: QueryAccess): StoreQuery<V, K> {
  const settledRead = async <T>(read: (stores: KeyValueStore[]) => Promise<T>): Promise<T> => {
    const timeoutMs = access.settleTimeoutMs ?? 10_000
    const deadline = Date.now() + timeoutMs
    for (;;) {
      access.checkRunning()
      if (access.settled()) {
        const stores = access.tasks().flatMap(task => {
          const store = task.storeNamed(spec.name)
          return store === undefined ? [] : [store.kv]
        })
        try {
          const result = await read(stores)
          if (stores.every(kv => !kv.isClosed) && access.settled()) return result
        } catch (error) {
          // A store closed under the read: its task moved; read the new assignment's stores.
          if (!stores.some(kv => kv.isClosed)) throw error
        }
      }
      if (Date.now() > deadline) {
        throw new WeirError('REBALANCE_IN_PROGRESS', `Store ${spec.name} could not be read: `
          + `the app's assignment did not settle within ${timeoutMs} ms; retry the query.`)
      }
      await sleep(access.scheduler, SETTLE_POLL_MS)
    }
  }
  const scan = (query: { from?: Buffer, to?: Buffer, prefix?: Buffer, limit?: number }) =>
    settledRead(async stores => {
      const found = (await Promise.all(stores.map(kv => kv.entries(query)))).flat()
        .sort((a, b) => Buffer.compare(a.key, b.key))
      return found.slice(0, query.limit ?? found.length).map(entry => ({
        key: spec.keySerde.deserialize(entry.key) as K,
        value: spec.valueSerde.deserialize(entry.value) as V }))
    })
  return {
    get: key => settledRead(async stores => {
      const bytes = spec.keySerde.serialize(key)
      for (const kv of stores) {
        const found = kv.getCommitted(bytes)
        if (found !== undefined) return spec.valueSerde.deserialize(found) as V
      }
      return undefined
    }),
    range: (options = {}) => scan({
      ...(options.from === undefined ? {} : { from: spec.keySerde.serialize(options.from) }),
      ...(options.to === undefined ? {} : { to: spec.keySerde.serialize(options.to) }),
      ...(options.limit === undefined ? {} : { limit: options.limit }) }),
    prefix: (prefix, options = {}) => scan({ prefix: spec.keySerde.serialize(prefix),
      ...(options.limit === undefined ? {} : { limit: options.limit }) }),
    all: () => scan({}),
  }
}
