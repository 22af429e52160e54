import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import type { Serde } from '../serdes.ts'
import { storeSpec } from './store-internals.ts'

export interface ToTableOptions<V> {
  readonly serde?: Serde<V>
  readonly keySerde?: Serde<unknown>
}

/**
 * Materializes the stream as a table: the latest value of each key in the store `name`
 * (queryable with `app.query(name)`, backed by `<appId>-<name>-changelog`). A `null` value
 * deletes the key. Values pass on unchanged.
 */
export function toTable<V>(name: string, options: ToTableOptions<V> = {}):
OperatorFunction<V, V> {
  const spec = storeSpec('toTable', { store: name, ...options })
  return tagOperator({ kind: 'stateful', name: 'toTable', stores: [spec] },
    operate<V, V>('toTable', (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const { key } = currentRecord('toTable')
        if (value === null) store.delete(key)
        else store.put(key, value)
        subscriber.next(value)
      }
    }))
}
