/**
 * Goal: a producer's sends are appended in the order they were called, per partition, even
 * when an earlier send waits longer to be ready (Kafka's ordering promise). The test kit found
 * the break: a send whose partitions were all in the transaction already overtook an earlier
 * send still adding a new partition, so a streams app wrote one key's results out of order.
 * Method: a transactional producer has partition 0 in its transaction; AddPartitionsToTxn is
 * held back 50 ms; send A writes to partitions 1 (new: it waits) and 0, send B right after
 * writes to partition 0 only. Partition 0 must hold A's record before B's.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import { interceptedTransport } from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { openBrokerUnderTest } from '../helpers/remote-fixtures.ts'
import { committedValues } from '../helpers/txn-fixtures.ts'

it('sends append in call order per partition, whatever each waited for', async () => {
  await withTempDir('weir-producer-order-', async dir => {
    const { weir: client, broker } = await openBrokerUnderTest(dir)
    try {
      await client.admin().createTopics([{ topic: 'out', partitions: 2 }])
      let slow = false
      const transport = interceptedTransport(client.transport, {
        addPartitionsToTxn: async (next, request) => {
          if (slow) await sleep(50)
          await next(request)
        },
      })
      const producer = new Weir(transport).producer({ transactionalId: 'ordered' })
      await producer.initTransactions()
      await producer.transaction(async tx => {
        await tx.send({ topic: 'out', messages: [{ value: 'first', partition: 0 }] })
        slow = true
        const a = tx.send({ topic: 'out', messages: [{ value: 'a1', partition: 1 },
          { value: 'a0', partition: 0 }] })
        const b = tx.send({ topic: 'out', messages: [{ value: 'b0', partition: 0 }] })
        await Promise.all([a, b])
      })
      await producer.close()
      await broker.transactions.settled()
      expect(await committedValues(client.transport, 'out', 0)).toEqual(['first', 'a0', 'b0'])
      expect(await committedValues(client.transport, 'out', 1)).toEqual(['a1'])
    } finally {
      await client.close()
    }
  })
})
