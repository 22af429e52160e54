/** Shared by the stateful operators: store declarations and typed access to a task's store. */
import { WeirError } from '../../errors.ts'
import type { StoreSpec } from '../operator-info.ts'
import { defaultKeySerde, json, type Serde } from '../serdes.ts'
import type { TaskStore } from '../runtime/task-store.ts'

/** Options every stateful operator takes. */
export interface StoreOptions<V> {
  /** Names the changelog `<appId>-<store>-changelog`; `app.query(store)` reads the store. */
  readonly store: string
  /** How the store's values become bytes; JSON by default. */
  readonly serde?: Serde<V>
  /** How the store's keys become bytes; the default key serde (strings as UTF-8) by default. */
  readonly keySerde?: Serde<unknown>
}

/** A task's store, typed (what `process()` gets from `context.store(name)`). */
export interface StateStore<K, V> {
  get(key: K): V | undefined
  put(key: K, value: V): void
  delete(key: K): void
}

const storeName = /^[a-zA-Z0-9._-]{1,200}$/

export function storeSpec<V>(operator: string, options: StoreOptions<V>): StoreSpec {
  if (typeof options?.store !== 'string' || !storeName.test(options.store)) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `${operator}() needs a store name of `
      + `letters, digits, '.', '_' or '-' (got ${JSON.stringify(options?.store)}); it names the `
      + 'changelog topic and the queryable state.')
  }
  return { name: options.store, keySerde: options.keySerde ?? defaultKeySerde(),
    valueSerde: (options.serde ?? json<V>()) as Serde<unknown> }
}

export function typedStore<K, V>(store: TaskStore): StateStore<K, V> {
  return store as unknown as StateStore<K, V>
}
