/**
 * Goal: a transactional id whose epoch reaches int16 max keeps working: the coordinator hands the
 * producer a new producer id at the next transaction end (Kafka's epoch exhaustion), the markers
 * of that transaction still carry the old id, and nothing is lost or torn across the switch.
 *
 * Method: the near-exhausted epoch is written straight into the transaction log of a broker on a
 * temp dir (setup, always embedded); then a producer over the transport under test (embedded, or
 * a WeirServer over HTTP in the 'remote' project) runs transactions across the switch.
 */
import { describe, expect, it } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import { EmbeddedTransport } from '../../src/client/transport/embedded.ts'
import { EPOCH_MAX } from '../../src/txn/transaction-metadata.ts'
import { TransactionLog, TRANSACTION_STATE_TOPIC } from '../../src/txn/transaction-log.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { openBrokerUnderTest, overKafka } from '../helpers/remote-fixtures.ts'
import { committedValues } from '../helpers/txn-fixtures.ts'

// Epochs run out only where every EndTxn moves to a new one (Weir's own clients, transaction
// version 2); Kafka's classic EndTxn keeps the epoch, so Weir.kafka never gets there.
describe.skipIf(overKafka)('epoch exhaustion', () => {
  it('the transaction that would pass the highest epoch ends with a new producer id', async () => {
    await withTempDir('weir-txn-epoch-', async dir => {
      const setup = await EmbeddedTransport.open({ dir })
      await new Weir(setup).admin().createTopics([{ topic: 'out', partitions: 1 }])
      // An id that has used almost every epoch (32,765 transactions would take too long).
      const txnLog = new TransactionLog(setup.broker.partitionsOf(TRANSACTION_STATE_TOPIC)
        .map(partition => partition.log))
      await txnLog.write({ transactionalId: 'old', producerId: 900_000,
        producerEpoch: EPOCH_MAX - 3, lastProducerId: -1, lastProducerEpoch: -1,
        timeoutMs: 60_000, state: 'CompleteCommit', partitions: [], startedAtMs: -1,
        updatedAtMs: Date.now(), timedOut: false })
      await setup.close()

      const { weir, broker } = await openBrokerUnderTest(dir)
      try {
        const producer = weir.producer({ transactionalId: 'old' })
        await producer.initTransactions()
        const described = async () => (await weir.admin().describeTransactions(['old']))[0]!
        expect(await described()).toMatchObject({ producerId: 900_000,
          producerEpoch: EPOCH_MAX - 2 })
        for (const value of ['a', 'b', 'c']) {
          await producer.transaction(async tx => {
            await tx.send({ topic: 'out', messages: [{ value, partition: 0 }] })
          })
        }
        const after = await described()
        expect(after.producerId).not.toBe(900_000)
        expect(after.producerEpoch).toBeLessThan(3)
        producer.beginTransaction()
        await producer.send({ topic: 'out', messages: [{ value: 'aborted', partition: 0 }] })
        await producer.abortTransaction()
        await broker.transactions.settled()
        expect(await committedValues(weir.transport, 'out', 0)).toEqual(['a', 'b', 'c'])
      } finally {
        await weir.close()
      }
    })
  })
})
