/**
 * Goal (issue 9): a real KafkaJS 2.2.4 consumer (a group member, read_committed by default)
 * reads through the listener what a KafkaJS transactional producer committed, and never what
 * it aborted; a read_uncommitted consumer reads both. This runs Fetch v11 and ListOffsets v3
 * as KafkaJS's consumer drives them, on top of the group and transaction APIs that other parts
 * of issue 9 add: it is skipped until the listener advertises them.
 * Method: an embedded broker in a temp dir, the listener on 127.0.0.1:0, KafkaJS unchanged.
 */
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, it } from 'vitest'
import { advertisedVersions } from '../../../src/protocol/kafka/apis/index.ts'
import { listenerWorld } from './kafka-wire.ts'

/** FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, InitProducerId, AddPartitionsToTxn,
 * EndTxn. */
const needed = [10, 11, 14, 9, 22, 24, 26]
const served = needed.every(key => advertisedVersions().some(range => range.apiKey === key))

let kafka: Kafka

describe.skipIf(!served)('a KafkaJS consumer against the Kafka listener', () => {
  const world = listenerWorld('weir-kafkajs-consumer-',
    { topics: [{ topic: 'events', partitions: 2 }] })

  beforeAll(() => {
    kafka = new Kafka({ clientId: 'weir-consumer-test', logLevel: logLevel.NOTHING,
      brokers: [`127.0.0.1:${world.listener.port}`], retry: { retries: 3 } })
  })

  /** Consumes from the beginning until `count` records arrived; returns their values. */
  async function consume(groupId: string, readUncommitted: boolean, count: number):
  Promise<string[]> {
    const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic: 'events', fromBeginning: true })
    const values: string[] = []
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message, partition }) => {
        values.push(`${partition}:${message.value!.toString()}`)
        if (values.length === count) resolve()
      } }).catch(reject)
    })
    await consumer.disconnect()
    return values.sort()
  }

  it('read_committed sees committed and plain records only; read_uncommitted sees all',
    async () => {
      const plain = kafka.producer()
      const transactional = kafka.producer({ transactionalId: 'kjs-tx', idempotent: true,
        maxInFlightRequests: 1 })
      for (const producer of [plain, transactional]) await producer.connect()
      try {
        await plain.send({ topic: 'events', messages: [{ value: 'p0', partition: 0 }] })
        const committed = await transactional.transaction()
        await committed.send({ topic: 'events', messages: [{ value: 'c0', partition: 0 },
          { value: 'c1', partition: 1 }] })
        await committed.commit()
        const aborted = await transactional.transaction()
        await aborted.send({ topic: 'events', messages: [{ value: 'a0', partition: 0 },
          { value: 'a1', partition: 1 }] })
        await aborted.abort()
        await plain.send({ topic: 'events', messages: [{ value: 'p1', partition: 1 }] })
      } finally {
        for (const producer of [plain, transactional]) await producer.disconnect()
      }
      expect(await consume('committed-readers', false, 4))
        .toEqual(['0:c0', '0:p0', '1:c1', '1:p1'])
      expect(await consume('all-readers', true, 6))
        .toEqual(['0:a0', '0:c0', '0:p0', '1:a1', '1:c1', '1:p1'])
    })
})
