/**
 * Goal: Kafka clients of transaction version 1 (EndTxn < v5, through the Kafka listener) run
 * transaction after transaction on one epoch. With `keepEpoch`, an EndTxn leaves the producer's
 * epoch as it was, its markers carry that epoch, the next transaction's batches go on with the
 * same epoch and the next sequence numbers, a retried EndTxn of the ended transaction is
 * answered as done, and read_committed readers see exactly the committed transactions. A new
 * instance (InitProducerId) still fences the old epoch. Without `keepEpoch` (Weir's own
 * clients) the end moves the epoch, as before.
 * Method: the embedded transport, batches encoded by hand with the producer's id, epoch and
 * sequences.
 */
import { describe, expect, it } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import type { Transport } from '../../src/client/transport/transport.ts'
import { encodeBatch } from '../../src/log/record-batch.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { committedValues } from '../helpers/txn-fixtures.ts'

const TOPIC = 'keep-epoch'

async function transaction(transport: Transport, producer: { producerId: number,
  producerEpoch: number }, sequence: number, value: string, commit: boolean): Promise<void> {
  const request = { transactionalId: 'tv1', ...producer }
  await whenReady(() => transport.addPartitionsToTxn({ ...request, partitions: [{ topic: TOPIC,
    partition: 0 }] }))
  await transport.produce({ topic: TOPIC, partition: 0, acks: 'all', batch: encodeBatch(
    [{ key: null, value: Buffer.from(value) }], { timestamp: Date.now(), ...producer,
      baseSequence: sequence, transactional: true }) })
  await whenReady(() => transport.endTxn({ ...request, commit, keepEpoch: true }))
}

/**
 * A transactional request, retried while the previous transaction's markers are still being
 * written (CONCURRENT_TRANSACTIONS, which Kafka clients retry too).
 */
async function whenReady<T>(request: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await request()
    } catch (error) {
      if ((error as { code?: string }).code !== 'CONCURRENT_TRANSACTIONS') throw error
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  }
}

describe('transactions that keep their epoch (Kafka transaction version 1)', () => {
  it('run one after another on one epoch; a retried EndTxn is done; a new instance fences',
    async () => {
      await withTempDir('weir-keep-epoch-', async dir => {
        const weir = await Weir.open({ dir })
        try {
          const transport = weir.transport
          await weir.admin().createTopics([{ topic: TOPIC, partitions: 1 }])
          const producer = await transport.initProducerId({ transactionalId: 'tv1',
            transactionTimeoutMs: 60_000 })
          await transaction(transport, producer, 0, 'one', true)
          await transaction(transport, producer, 1, 'aborted', false)
          await transaction(transport, producer, 2, 'three', true)
          const [described] = await transport.describeTransactions(['tv1'])
          expect(described).toMatchObject({ producerId: producer.producerId,
            producerEpoch: producer.producerEpoch })
          // The client did not hear the answer and sends the same EndTxn again.
          await expect(whenReady(() => transport.endTxn({ transactionalId: 'tv1', ...producer,
            commit: true, keepEpoch: true }))).resolves.toMatchObject(
            { producerEpoch: producer.producerEpoch })
          // EndTxn answers once the decision is durable; the markers follow.
          await expect.poll(() => committedValues(transport, TOPIC, 0)).toEqual(['one', 'three'])

          const successor = await whenReady(() => transport.initProducerId({
            transactionalId: 'tv1', transactionTimeoutMs: 60_000 }))
          expect(successor.producerEpoch).toBeGreaterThan(producer.producerEpoch)
          await expect(transport.addPartitionsToTxn({ transactionalId: 'tv1', ...producer,
            partitions: [{ topic: TOPIC, partition: 0 }] })).rejects.toMatchObject(
            { code: 'PRODUCER_FENCED' })
          // Without keepEpoch the end moves the epoch, as Weir's own clients expect.
          await transport.addPartitionsToTxn({ transactionalId: 'tv1', ...successor,
            partitions: [{ topic: TOPIC, partition: 0 }] })
          const next = await whenReady(() => transport.endTxn({ transactionalId: 'tv1',
            ...successor, commit: false }))
          expect(next.producerEpoch).toBe(successor.producerEpoch + 1)
        } finally {
          await weir.close()
        }
      })
    })
})
