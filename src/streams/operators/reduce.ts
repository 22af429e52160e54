import type { OperatorFunction } from 'rxjs'
import { reduceStep, keyedFold, type StoreOptions, storeSpec } from './store-internals.ts'

/**
 * Combines the values of each key (the first value as it is, then `combine(previous, value)`),
 * keeps the result in a store and emits it for every record (Kafka Streams' reduce).
 */
export function reduce<V>(combine: (previous: V, value: V, key: unknown) => V,
  options: StoreOptions<V>): OperatorFunction<V, V> {
  return keyedFold<V, V>('reduce', storeSpec('reduce', options),
    reduceStep(combine))
}
