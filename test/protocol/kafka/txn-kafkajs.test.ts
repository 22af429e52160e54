/**
 * Goal (issue 9): KafkaJS 2.2.4's transactional producer, unchanged, runs transactions on Weir
 * through the Kafka listener (FindCoordinator type 1, InitProducerId, AddPartitionsToTxn,
 * Produce with transactional batches, AddOffsetsToTxn, TxnOffsetCommit, EndTxn), and Weir's own
 * read_committed consumer sees exactly the committed records, its admin the offsets sent with
 * the committed transaction and none of the aborted one; a second producer with the same
 * transactional id fences the first (INVALID_PRODUCER_EPOCH at its commit, reference §10.14).
 * Method: an embedded broker in a temp dir, the listener on 127.0.0.1:0, KafkaJS producers
 * with `idempotent: true, maxInFlightRequests: 1`, Weir's consumer reading from the beginning.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Consumer } from '../../../src/client/consumer.ts'
import { FAST, pull } from '../../helpers/client-fixtures.ts'
import { listenerWorld } from './kafka-wire.ts'

const world = listenerWorld('weir-kafkajs-txn-', { topics: [
  { topic: 'payments', partitions: 1 }, { topic: 'fencing', partitions: 1 }] })
let kafka: Kafka
const producers: Producer[] = []

beforeAll(() => {
  kafka = new Kafka({ clientId: 'weir-txn-test', brokers: [`127.0.0.1:${world.listener.port}`],
    logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 20 } })
})

afterAll(async () => {
  await Promise.allSettled(producers.map(producer => producer.disconnect()))
})

async function transactionalProducer(transactionalId: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
  producers.push(producer)
  await producer.connect()
  return producer
}

async function readFromStart(consumer: Consumer, topic: string, count: number) {
  consumer.assign([{ topic, partition: 0 }])
  await consumer.seekToBeginning([{ topic, partition: 0 }])
  return (await pull(consumer, count)).map(record => record.value?.toString())
}

describe('KafkaJS transactional producer against the Kafka listener', () => {
  it('commits one transaction and aborts another: read_committed sees only the committed '
    + 'records, the group only the committed offsets', async () => {
    const committing = await transactionalProducer('kafkajs-commit')
    const commit = await committing.transaction()
    await commit.send({ topic: 'payments', messages: [{ value: 'c1' }, { value: 'c2' }] })
    await commit.sendOffsets({ consumerGroupId: 'billing', topics: [{ topic: 'payments',
      partitions: [{ partition: 0, offset: '2' }] }] })
    await commit.commit()
    const aborting = await transactionalProducer('kafkajs-abort')
    const abort = await aborting.transaction()
    await abort.send({ topic: 'payments', messages: [{ value: 'a1' }] })
    await abort.sendOffsets({ consumerGroupId: 'audit', topics: [{ topic: 'payments',
      partitions: [{ partition: 0, offset: '3' }] }] })
    await abort.abort()
    const after = world.weir.producer()
    await after.send({ topic: 'payments', messages: [{ value: 'after' }] })
    await after.close()

    const committed = world.weir.consumer({ ...FAST })
    expect(await readFromStart(committed, 'payments', 3)).toEqual(['c1', 'c2', 'after'])
    await committed.close()
    const uncommitted = world.weir.consumer({ ...FAST, isolationLevel: 'read_uncommitted' })
    expect(await readFromStart(uncommitted, 'payments', 4)).toEqual(['c1', 'c2', 'a1', 'after'])
    await uncommitted.close()
    const billing = await world.weir.admin().fetchOffsets('billing', undefined,
      { requireStable: true })
    expect(billing.map(({ topic, partition, offset }) => ({ topic, partition, offset })))
      .toEqual([{ topic: 'payments', partition: 0, offset: 2 }])
    expect(await world.weir.admin().fetchOffsets('audit', undefined, { requireStable: true }))
      .toEqual([])
    const states = Object.fromEntries((await world.weir.admin().listTransactions())
      .map(each => [each.transactionalId, each.state]))
    expect(states['kafkajs-commit']).toMatch(/Commit$/)
    expect(states['kafkajs-abort']).toMatch(/Abort$/)
  })

  it('a second producer with the same transactional id fences the first at its commit',
    async () => {
      const zombie = await transactionalProducer('kafkajs-fenced')
      const zombieTransaction = await zombie.transaction()
      await zombieTransaction.send({ topic: 'fencing', messages: [{ value: 'zombie' }] })
      const successor = await transactionalProducer('kafkajs-fenced')
      const transaction = await successor.transaction()
      await expect(zombieTransaction.commit()).rejects.toMatchObject({
        type: 'INVALID_PRODUCER_EPOCH' })
      await transaction.send({ topic: 'fencing', messages: [{ value: 'successor' }] })
      await transaction.commit()
      const consumer = world.weir.consumer({ ...FAST })
      expect(await readFromStart(consumer, 'fencing', 1)).toEqual(['successor'])
      await consumer.close()
    })

  // KafkaJS speaks EndTxn v1, which cannot report a new epoch: the listener ends its
  // transactions keeping the epoch (Kafka's transaction version 1), so the next one goes on.
  it('runs transactions one after another on the same producer: commit, abort, commit',
    async () => {
      await world.weir.admin().createTopics([{ topic: 'sequence', partitions: 1 }])
      const producer = await transactionalProducer('kafkajs-three')
      for (const [value, commit] of [['one', true], ['two', false], ['three', true]] as const) {
        const transaction = await producer.transaction()
        await transaction.send({ topic: 'sequence', messages: [{ value }] })
        if (commit) await transaction.commit()
        else await transaction.abort()
      }
      const consumer = world.weir.consumer({ ...FAST })
      const seen = await readFromStart(consumer, 'sequence', 2)
      await consumer.close()
      expect(seen).toEqual(['one', 'three'])
    })
})
