/**
 * Goal: the client side of transactions through the real Consumer and Admin: a read_committed
 * consumer (the default) skips aborted records and waits at the LSO, read_uncommitted sees
 * everything, `seekToEnd` and lag use the LSO under read_committed, and offsets sent with a
 * consumer's group metadata from an older generation are refused (KIP-447 zombie fencing).
 */
import { describe, expect, it } from 'vitest'
import type { ConsumerBatch } from '../../src/client/fetcher.ts'
import type { Consumer } from '../../src/client/consumer.ts'
import type { Weir } from '../../src/client/weir.ts'
import { FAST, pull, until, withWeir } from '../helpers/client-fixtures.ts'

/** plain p1 p2, committed c1 c2 (+ marker), aborted a1 (+ marker), open o1: offsets 0–7. */
async function writeHistory(weir: Weir) {
  await weir.admin().createTopics([{ topic: 'out', partitions: 1 }])
  await weir.producer().send({ topic: 'out', messages: [{ value: 'p1' }, { value: 'p2' }] })
  const producer = weir.producer({ transactionalId: 'tx' })
  await producer.initTransactions()
  await producer.transaction(async tx => {
    await tx.send({ topic: 'out', messages: [{ value: 'c1' }, { value: 'c2' }] })
  })
  producer.beginTransaction()
  await producer.send({ topic: 'out', messages: [{ value: 'a1' }] })
  await producer.abortTransaction()
  const open = weir.producer({ transactionalId: 'open' })
  await open.initTransactions()
  open.beginTransaction()
  await open.send({ topic: 'out', messages: [{ value: 'o1' }] })
  return open
}

const valuesOf = (records: ConsumerBatch['records']) => records.map(r => r.value?.toString())

async function consumeAll(consumer: Consumer, count: number): Promise<Array<string | undefined>> {
  consumer.assign([{ topic: 'out', partition: 0 }])
  consumer.seekToBeginning([{ topic: 'out', partition: 0 }])
  return valuesOf(await pull(consumer, count))
}

describe('read_committed through the consumer', () => {
  it('skips aborted records and stops at the LSO; read_uncommitted sees everything', async () => {
    await withWeir('weir-rc-', async weir => {
      const open = await writeHistory(weir)
      await until(async () => (await weir.admin().describeTransactions(['tx']))[0]!.state
        === 'CompleteAbort')
      const uncommitted = weir.consumer({ ...FAST, isolationLevel: 'read_uncommitted' })
      expect(await consumeAll(uncommitted, 6)).toEqual(['p1', 'p2', 'c1', 'c2', 'a1', 'o1'])
      const committed = weir.consumer({ ...FAST })
      expect(await consumeAll(committed, 4)).toEqual(['p1', 'p2', 'c1', 'c2'])
      await open.commitTransaction()
      expect(valuesOf(await pull(committed, 1))).toEqual(['o1'])
    })
  })

  it('seekToEnd and lag use the LSO under read_committed, the high watermark otherwise', async () => {
    await withWeir('weir-rc-', async weir => {
      await writeHistory(weir)
      const admin = weir.admin()
      await admin.resetOffsets({ groupId: 'g', topic: 'out', to: { offset: 0 } })
      const lag = async (isolationLevel: 'read_committed' | 'read_uncommitted') =>
        (await admin.lag('g', ['out'], { isolationLevel }))[0]!.lag
      await until(async () => await lag('read_committed') === 7)
      expect(await lag('read_uncommitted')).toBe(8) // o1 at 7 is past the LSO
      const consumer = weir.consumer({ ...FAST })
      consumer.assign([{ topic: 'out', partition: 0 }])
      await consumer.seekToEnd([{ topic: 'out', partition: 0 }])
      expect(consumer.position({ topic: 'out', partition: 0 })).toBe(7)
    })
  })

  it('offsets sent with the group metadata of an older generation are refused (KIP-447)', async () => {
    await withWeir('weir-rc-', async weir => {
      await weir.admin().createTopics([{ topic: 'in', partitions: 2 }])
      const first = weir.consumer({ ...FAST, groupId: 'copier', autoCommit: false })
      first.subscribe({ topics: ['in'] })
      const firstPolling = first.next()
      await until(() => first.groupMetadata().generationId >= 0)
      const stale = first.groupMetadata()
      const second = weir.consumer({ ...FAST, groupId: 'copier', autoCommit: false })
      second.subscribe({ topics: ['in'] })
      const secondPolling = second.next()
      await until(() => second.groupMetadata().generationId > stale.generationId)
      const producer = weir.producer({ transactionalId: 'copier-tx' })
      await producer.initTransactions()
      producer.beginTransaction()
      await expect(producer.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1 }],
        stale)).rejects.toMatchObject({ code: 'ILLEGAL_GENERATION' })
      await expect(producer.commitTransaction())
        .rejects.toMatchObject({ code: 'WEIR_ERR_TRANSACTION_ABORTABLE' })
      await producer.abortTransaction()
      expect(await weir.admin().fetchOffsets('copier')).toEqual([])
      // The polls end once their consumers are closed, before the client closes under them.
      await Promise.all([first.close(), second.close()])
      expect(await firstPolling).toEqual({ done: true, value: undefined })
      expect(await secondPolling).toEqual({ done: true, value: undefined })
    })
  })
})
