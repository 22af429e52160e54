import type { OperatorFunction } from 'rxjs'
import { aggregateStep, keyedFold, type StoreOptions, storeSpec } from './store-internals.ts'

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
  return keyedFold<V, A>('aggregate', storeSpec('aggregate', options),
    aggregateStep(initial, add))
}
