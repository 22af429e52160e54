import type { OperatorFunction } from 'rxjs'
import { countStep, keyedFold, type StoreOptions, storeSpec } from './store-internals.ts'

/** Counts the records of each key in a store and emits the new count for every record. */
export function count<V>(options: StoreOptions<number>): OperatorFunction<V, number> {
  return keyedFold<V, number>('count', storeSpec('count', options), countStep)
}
