/**
 * Reading partitions the way a read_committed consumer does (fetch with isolation, then the
 * client's aborted-transaction filter), and a scheduler ticked by hand, for transaction tests.
 */
import type { LogRecord } from '../../src/log/record-batch.ts'
import { filterAbortedTransactions } from '../../src/client/aborted-transaction-filter.ts'
import type { Transport } from '../../src/client/transport/transport.ts'
import type { Scheduler } from '../../src/util/clock.ts'
import { immediateScheduler } from './client-fixtures.ts'

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

/** A scheduler whose periodic tasks run only on `tick()`; one-shot timers run at once. */
export function manualTicks(): Scheduler & { tick(): void } {
  const tasks = new Set<() => void>()
  return {
    every(_intervalMs, task) {
      tasks.add(task)
      return () => tasks.delete(task)
    },
    after: immediateScheduler.after,
    tick() {
      for (const task of [...tasks]) task()
    },
  }
}
