import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import { type StoreOptions, storeSpec } from './store-internals.ts'

/**
 * Folds the values of each key into an aggregate kept in a store, and emits the new aggregate for
 * every record (Kafka Streams' aggregate; updates, not final results). Records must be keyed by
 * the grouping key: after `groupBy` or `selectKey` the topology repartitions first.
 * @example
 * orders.pipe(groupBy(o => o.userId),
 *   aggregate(() => 0, (sum, o) => sum + o.total, { store: 'spend' }))
 */
export function aggregate<V, A>(initial: () => A, add: (aggregate: A, value: V, key: unknown) => A,
  options: StoreOptions<A>): OperatorFunction<V, A> {
  const spec = storeSpec('aggregate', options)
  return tagOperator({ kind: 'stateful', name: 'aggregate', stores: [spec] },
    operate<V, A>('aggregate', (subscriber, host) => {
      const store = host.store(spec.name)
      return value => {
        const { key } = currentRecord('aggregate')
        const current = store.get(key) as A | undefined
        const next = add(current === undefined ? initial() : current, value, key)
        store.put(key, next)
        subscriber.next(next)
      }
    }))
}
