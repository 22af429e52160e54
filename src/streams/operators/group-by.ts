import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, withRecord } from '../processing-context.ts'
import type { Serde } from '../serdes.ts'

export interface GroupByOptions<V> {
  /** Names the repartition topic `<appId>-<name>-repartition`; derived from the next store. */
  readonly name?: string
  /** Serdes of the repartition topic: the default key serde and JSON by default. */
  readonly keySerde?: Serde<unknown>
  readonly serde?: Serde<V>
}

/**
 * Keys records by `keyOf(value)` and repartitions them through an internal topic
 * (`<appId>-<name>-repartition`), so every record of a key reaches the same task: what
 * `aggregate`, `reduce`, `count` after it need (Kafka Streams' groupBy).
 */
export function groupBy<V, K = unknown>(keyOf: (value: V, key: unknown) => K,
  options: GroupByOptions<V> = {}): OperatorFunction<V, V> {
  return tagOperator({ kind: 'group-by', name: options.name, keySerde: options.keySerde,
    valueSerde: options.serde as Serde<unknown> | undefined },
  operate<V, V>('groupBy', subscriber => value => {
    const record = currentRecord('groupBy')
    withRecord({ ...record, key: keyOf(value, record.key) }, () => subscriber.next(value))
  }))
}
