import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, withRecord } from '../processing-context.ts'

/**
 * Gives each record a new key computed from its value (and old key). A later stateful step
 * (aggregate, count, ...) then repartitions by the new key, as in Kafka Streams.
 */
export function selectKey<V, K = unknown>(keyOf: (value: V, key: unknown) => K):
OperatorFunction<V, V> {
  return tagOperator({ kind: 'select-key', name: 'selectKey' },
    operate<V, V>('selectKey', subscriber => value => {
      const record = currentRecord('selectKey')
      const key = keyOf(value, record.key)
      withRecord({ ...record, key }, () => subscriber.next(value))
    }))
}
