import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import { type StoreOptions, storeSpec } from './store-internals.ts'

/**
 * Combines the values of each key (the first value as it is, then `combine(previous, value)`),
 * keeps the result in a store and emits it for every record (Kafka Streams' reduce).
 */
export function reduce<V>(combine: (previous: V, value: V, key: unknown) => V,
  options: StoreOptions<V>): OperatorFunction<V, V> {
  const spec = storeSpec('reduce', options)
  return tagOperator({ kind: 'stateful', name: 'reduce', stores: [spec] },
    operate<V, V>('reduce', (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const { key } = currentRecord('reduce')
        const current = store.get(key) as V | undefined
        const next = current === undefined ? value : combine(current, value, key)
        store.put(key, next)
        subscriber.next(next)
      }
    }))
}
