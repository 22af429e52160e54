import type { OperatorFunction } from 'rxjs'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord, type SinkTarget } from '../processing-context.ts'
import { defaultKeySerde, json, type Serde } from '../serdes.ts'

export interface ToOptions<V> {
  /** JSON by default. */
  readonly serde?: Serde<V>
  /** The default key serde (strings as UTF-8) by default. */
  readonly keySerde?: Serde<unknown>
}

export function sinkTarget<V>(topic: string, options: ToOptions<V>): SinkTarget {
  const keySerde = options.keySerde ?? defaultKeySerde()
  const serde = (options.serde ?? json<V>()) as Serde<unknown>
  return {
    topic,
    serializeKey: key => key === undefined || key === null ? null : keySerde.serialize(key),
    serializeValue: value => value === null ? null : serde.serialize(value),
  }
}

/**
 * Sends each record to `topic` with its current key and timestamp (partitioned by the key's
 * murmur2 hash, like a Kafka producer), inside the task's transaction under exactly-once. Values
 * pass on unchanged, so a pipeline may continue after it.
 */
export function to<V>(topic: string, options: ToOptions<V> = {}): OperatorFunction<V, V> {
  const target = sinkTarget(topic, options)
  return tagOperator({ kind: 'sink', topic },
    operate<V, V>('to', (subscriber, host) => value => {
      const record = currentRecord('to')
      host.send(target, record.key, value, record.timestamp)
      subscriber.next(value)
    }))
}
