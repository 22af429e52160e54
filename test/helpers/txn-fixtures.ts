/**
 * Reading partitions the way a read_committed consumer does (fetch with isolation, then the
 * client's aborted-transaction filter), for transaction tests.
 */
import type { LogRecord } from '../../src/log/record-batch.ts'
import { filterAbortedTransactions } from '../../src/client/aborted-transaction-filter.ts'
import type { Transport } from '../../src/client/transport/transport.ts'

/** Every record a read_committed reader sees in the partition now, up to its LSO. */
export async function readCommitted(transport: Transport, topic: string, partition: number):
Promise<LogRecord[]> {
  const records: LogRecord[] = []
  let offset = 0
  for (;;) {
    const [result] = await transport.fetch({ isolationLevel: 'read_committed',
      partitions: [{ topic, partition, offset, maxBytes: 1024 * 1024 }] })
    if (result === undefined || result.error !== undefined) throw result?.error
    filterAbortedTransactions(result.bytes,
      { abortedTransactions: result.abortedTransactions ?? [], fromOffset: offset },
      record => records.push(record))
    if (result.nextOffset <= offset || result.nextOffset >= result.lastStableOffset) break
    offset = result.nextOffset
  }
  return records
}

/** The values (as strings) a read_committed reader sees in the partition. */
export async function committedValues(transport: Transport, topic: string, partition: number):
Promise<string[]> {
  return (await readCommitted(transport, topic, partition)).map(r => r.value?.toString() ?? '')
}
