import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import { type StoreOptions, storeSpec } from './store-internals.ts'

/** Counts the records of each key in a store and emits the new count for every record. */
export function count<V>(options: StoreOptions<number>): OperatorFunction<V, number> {
  const spec = storeSpec('count', options)
  return tagOperator({ kind: 'stateful', name: 'count', stores: [spec] },
    operate<V, number>('count', (subscriber, host) => {
      const store = host.store(spec.name)
      return () => {
        const { key } = currentRecord('count')
        const next = ((store.get(key) as number | undefined) ?? 0) + 1
        store.put(key, next)
        subscriber.next(next)
      }
    }))
}
