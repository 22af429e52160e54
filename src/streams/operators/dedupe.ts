import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import { type StoreOptions, storeSpec } from './store-internals.ts'

export interface DedupeOptions<V> extends StoreOptions<number> {
  /**
   * The identity of a record; its key by default. Identities are remembered per task, so records
   * that must be recognised as duplicates need the same key (the same partition).
   */
  readonly id?: (value: V, key: unknown) => unknown
}

/**
 * Passes the first record of each identity and drops the later ones; the store maps each seen
 * identity to the timestamp of its first record. Nothing is forgotten: bound the identities
 * (a window, issue 7) when they grow without end.
 */
export function dedupe<V>(options: DedupeOptions<V>): OperatorFunction<V, V> {
  const spec = storeSpec('dedupe', options)
  return tagOperator({ kind: 'stateful', name: 'dedupe', stores: [spec] },
    operate<V, V>('dedupe', (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const record = currentRecord('dedupe')
        const id = options.id === undefined ? record.key : options.id(value, record.key)
        if (store.get(id) !== undefined) return
        store.put(id, record.timestamp)
        subscriber.next(value)
      }
    }))
}
