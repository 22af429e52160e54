/**
 * Reads what a read_committed consumer sees in a topic, now, without a group: every partition
 * from a given offset up to its last stable offset, aborted transactions' records and markers
 * left out, values decoded with a serde. What a test checks outputs with.
 */
import type { Weir } from '../client/weir.ts'
import { filterAbortedTransactions } from '../client/aborted-transaction-filter.ts'
import type { LogRecord } from '../log/record-batch.ts'
import { defaultKeySerde, json, type Serde } from '../streams/serdes.ts'
import type { ReadRecord } from './model.ts'

const PARTITION_BYTES = 1024 * 1024

export interface ReadTopicOptions<K, V> {
  /** Default: Weir's key serde (UTF-8 strings). */
  readonly keySerde?: Serde<K>
  /** Default: JSON. */
  readonly valueSerde?: Serde<V>
  /** Per partition, the first offset to read; 0 where not given. */
  readonly from?: ReadonlyMap<number, number>
}

export interface TopicRead<K, V> {
  /** By partition, then offset. */
  readonly records: Array<ReadRecord<K, V>>
  /** Per partition, the offset after what was read (the next call's `from`). */
  readonly next: Map<number, number>
}

/** Every committed record of one partition from `offset` up to its last stable offset. */
async function readPartition(weir: Weir, topic: string, partition: number, from: number):
Promise<{ records: LogRecord[], next: number }> {
  const records: LogRecord[] = []
  let offset = from
  for (;;) {
    const [result] = await weir.transport.fetch({ isolationLevel: 'read_committed',
      partitions: [{ topic, partition, offset, maxBytes: PARTITION_BYTES }] })
    if (result === undefined) throw new Error(`No fetch answer for ${topic}/${partition}`)
    if (result.error !== undefined) throw result.error
    filterAbortedTransactions(result.bytes,
      { abortedTransactions: result.abortedTransactions ?? [], fromOffset: offset },
      record => records.push(record))
    const moved = result.nextOffset > offset
    offset = Math.max(offset, result.nextOffset)
    if (!moved || offset >= result.lastStableOffset) return { records, next: offset }
  }
}

/**
 * @example
 * const { records } = await readTopic<string, number>(weir, 'counts')
 * @throws UNKNOWN_TOPIC when the topic does not exist
 */
export async function readTopic<K = string, V = unknown>(weir: Weir, topic: string,
  options: ReadTopicOptions<K, V> = {}): Promise<TopicRead<K, V>> {
  const keySerde = options.keySerde ?? defaultKeySerde() as Serde<K>
  const valueSerde = options.valueSerde ?? json<V>()
  const [description] = await weir.admin().describeTopics([topic])
  const records: Array<ReadRecord<K, V>> = []
  const next = new Map<number, number>()
  for (let partition = 0; partition < description!.partitions; partition++) {
    const read = await readPartition(weir, topic, partition, options.from?.get(partition) ?? 0)
    next.set(partition, read.next)
    for (const record of read.records) {
      records.push({ topic, partition, offset: record.offset, timestamp: record.timestamp,
        key: (record.key === null ? null : keySerde.deserialize(record.key)) as K,
        value: (record.value === null ? null : valueSerde.deserialize(record.value)) as V })
    }
  }
  return { records, next }
}
