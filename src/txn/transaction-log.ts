/**
 * Transaction metadata in the compacted internal topic `__transaction_state` (Kafka's
 * TransactionStateManager): one record per change, keyed by transactional id, the latest record
 * per key being the state. A transactional id lives in partition
 * abs(javaStringHashCode(id)) mod partitions, as in Kafka.
 *
 * `write` resolves once the record is durable (the topic is flush 'always'): the coordinator acts
 * on a state — answers the client, writes markers — only after it is on disk, so recovery never
 * finds less than what anyone was told. `load` replays every partition from its start.
 */
import { partitionForGroup } from '../group/offset-record.ts'
import type { PartitionLog } from '../log/partition-log.ts'
import { assert } from '../util/assert.ts'
import {
  decodeTransactionKey, decodeTransactionValue, encodeTransactionKey, encodeTransactionValue,
  type TransactionMetadata,
} from './transaction-metadata.ts'

export const TRANSACTION_STATE_TOPIC = '__transaction_state'

export class TransactionLog {
  constructor(private readonly logs: readonly PartitionLog[]) {
    assert(logs.length > 0, 'the transaction state topic has at least one partition')
  }

  partitionFor(transactionalId: string): number {
    return partitionForGroup(transactionalId, this.logs.length) // the same hash as Kafka's
  }

  /** Every transactional id's latest state. */
  async load(): Promise<Map<string, TransactionMetadata>> {
    const states = new Map<string, TransactionMetadata>()
    for (const log of this.logs) {
      let offset = log.logStartOffset
      const end = log.highWatermark
      while (offset < end) {
        const { records, nextOffset } = await log.readRecords(offset, { maxOffset: end })
        assert(nextOffset > offset, 'reading __transaction_state must advance')
        for (const record of records) {
          if (record.key === null) continue
          const transactionalId = decodeTransactionKey(record.key)
          if (record.value === null) states.delete(transactionalId)
          else states.set(transactionalId, decodeTransactionValue(record.value))
        }
        offset = nextOffset
      }
    }
    return states
  }

  /** Appends `metadata` as the id's new state; resolves once durable. */
  async write(metadata: TransactionMetadata): Promise<void> {
    const log = this.logs[this.partitionFor(metadata.transactionalId)]!
    await log.appendRecords([{ key: encodeTransactionKey(metadata.transactionalId),
      value: encodeTransactionValue(metadata) }], { timestamp: metadata.updatedAtMs })
    if (log.config.flush !== 'always') await log.flush()
  }
}
