/**
 * Shared by the stateful operators: store declarations, typed access to a task's store, and the
 * read-compute-store-emit step of aggregate, reduce and count.
 */
import type { OperatorFunction } from 'rxjs'
import { WeirError } from '../../errors.ts'
import { type StoreSpec, tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
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

/** How a fold takes the next value: the current result (undefined at first) → the next. */
export type FoldStep<V, A> = (current: A | undefined, value: V, key: unknown) => A

/** aggregate's step: `initial()` first, then `add`. */
export function aggregateStep<V, A>(initial: () => A,
  add: (aggregate: A, value: V, key: unknown) => A): FoldStep<V, A> {
  return (current, value, key) => add(current === undefined ? initial() : current, value, key)
}

/** reduce's step: the first value as it is, then `combine`. */
export function reduceStep<V>(combine: (current: V, value: V, key: unknown) => V):
FoldStep<V, V> {
  return (current, value, key) => current === undefined ? value : combine(current, value, key)
}

/** count's step. */
export const countStep: FoldStep<unknown, number> = current => (current ?? 0) + 1

/**
 * How far stream time moves between expiry sweeps of a store with this retention: half of it,
 * as Kafka's segmented window stores drop a segment (retention / 2) at a time.
 */
export function sweepInterval(retentionMs: number): number {
  return Math.max(1, Math.ceil(retentionMs / 2))
}

export function typedStore<K, V>(store: TaskStore): StateStore<K, V> {
  return store as unknown as StateStore<K, V>
}

/**
 * What aggregate, reduce and count share: read the current value of the record's key, compute
 * the next one, store it and emit it.
 */
export function keyedFold<V, A>(name: string, spec: StoreSpec,
  next: (current: A | undefined, value: V, key: unknown) => A): OperatorFunction<V, A> {
  return tagOperator({ kind: 'stateful', name, stores: [spec] },
    operate<V, A>(name, (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const { key } = currentRecord(name)
        const folded = next(store.get(key) as A | undefined, value, key)
        store.put(key, folded)
        subscriber.next(folded)
      }
    }))
}
