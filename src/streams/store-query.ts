/**
 * Interactive queries (Kafka Streams' ReadOnlyKeyValueStore): reads of a store's committed state
 * in this instance's tasks — what has been committed, never a write of an open transaction.
 * A key lives in one task (its partition); ranges and prefixes merge every local task's entries
 * in key-byte order.
 */
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

export function storeQuery<V, K>(spec: StoreSpec, tasks: () => readonly StreamTask[]):
StoreQuery<V, K> {
  const stores = () => tasks().flatMap(task => {
    const store = task.storeNamed(spec.name)
    return store === undefined ? [] : [store.kv]
  })
  const scan = async (query: { from?: Buffer, to?: Buffer, prefix?: Buffer, limit?: number }) => {
    const found = (await Promise.all(stores().map(kv => kv.entries(query)))).flat()
      .sort((a, b) => Buffer.compare(a.key, b.key))
    return found.slice(0, query.limit ?? found.length).map(entry => ({
      key: spec.keySerde.deserialize(entry.key) as K,
      value: spec.valueSerde.deserialize(entry.value) as V }))
  }
  return {
    async get(key) {
      const bytes = spec.keySerde.serialize(key)
      for (const kv of stores()) {
        const found = kv.getCommitted(bytes)
        if (found !== undefined) return spec.valueSerde.deserialize(found) as V
      }
      return undefined
    },
    range: (options = {}) => scan({
      ...(options.from === undefined ? {} : { from: spec.keySerde.serialize(options.from) }),
      ...(options.to === undefined ? {} : { to: spec.keySerde.serialize(options.to) }),
      ...(options.limit === undefined ? {} : { limit: options.limit }) }),
    prefix: (prefix, options = {}) => scan({ prefix: spec.keySerde.serialize(prefix),
      ...(options.limit === undefined ? {} : { limit: options.limit }) }),
    all: () => scan({}),
  }
}
