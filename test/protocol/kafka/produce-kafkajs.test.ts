/**
 * Goal (issue 9): records a real KafkaJS 2.2.4 producer sends through the Kafka listener are
 * stored exactly: read back with Weir's own transport, keys, values, headers and timestamps
 * are identical. Covered: a plain producer (acks −1 and 1), gzip compression, and an idempotent
 * producer (when the listener serves InitProducerId, which another part of issue 9 adds). The
 * error paths are in produce-listener.test.ts (KafkaJS never sends to a partition missing from
 * Metadata: it drops such messages itself). Method: an embedded Weir broker
 * in a temp dir, the listener on 127.0.0.1:0, KafkaJS unchanged.
 */
import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs'
import { beforeAll, describe, expect, it } from 'vitest'
import { advertisedVersions } from '../../../src/protocol/kafka/apis/index.ts'
import { listenerWorld } from './kafka-wire.ts'
import { readWithWeir } from './kafkajs-oracle.ts'

const INIT_PRODUCER_ID = 22
const initProducerIdServed = advertisedVersions().some(range => range.apiKey === INIT_PRODUCER_ID)

const world = listenerWorld('weir-kafkajs-produce-', { topics: [
  { topic: 'plain', partitions: 2 }, { topic: 'gzip' }, { topic: 'idempotent' }] })
let kafka: Kafka

beforeAll(() => {
  kafka = new Kafka({ clientId: 'weir-produce-test',
    brokers: [`127.0.0.1:${world.listener.port}`], logLevel: logLevel.NOTHING,
    retry: { retries: 0 } })
})

const base = 1_700_000_000_000
const messages = Array.from({ length: 20 }, (_, i) => ({
  key: i % 3 === 0 ? null : `key-${i}`,
  value: i === 7 ? null : `value-${i}-${'x'.repeat(i * 10)}`,
  headers: i % 2 === 0 ? { trace: `t${i}`, 'ünï': Buffer.from([0, 1, 2]) } : undefined,
  timestamp: String(base + i * 1000),
}))

/** The stored records in KafkaJS's message shape, for comparison with what was sent. */
async function stored(topic: string, partition: number, end: number) {
  return (await readWithWeir(world.weir.transport, topic, partition, end)).map(record => ({
    key: record.key?.toString() ?? null,
    value: record.value?.toString() ?? null,
    headers: record.headers.length === 0 ? undefined : Object.fromEntries(record.headers
      .map(h => [h.key, h.key === 'ünï' ? h.value : h.value?.toString()])),
    timestamp: String(record.timestamp),
  }))
}

async function withProducer(options: Parameters<Kafka['producer']>[0],
  work: (producer: Producer) => Promise<void>): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, ...options })
  await producer.connect()
  try {
    await work(producer)
  } finally {
    await producer.disconnect()
  }
}

describe('a KafkaJS producer against the Kafka listener', () => {
  it('plain sends (acks −1 and 1) are stored exactly, in order, at the offsets KafkaJS reports',
    async () => {
      await withProducer({}, async producer => {
        const first = await producer.send({ topic: 'plain', acks: -1,
          messages: messages.slice(0, 10).map(m => ({ ...m, partition: 1 })) })
        expect(first).toEqual([expect.objectContaining({ topicName: 'plain', partition: 1,
          errorCode: 0, baseOffset: '0', logStartOffset: '0' })])
        const second = await producer.send({ topic: 'plain', acks: 1,
          messages: messages.slice(10).map(m => ({ ...m, partition: 1 })) })
        expect(second[0]!.baseOffset).toBe('10')
      })
      expect(await stored('plain', 1, 20)).toEqual(messages)
      expect(await stored('plain', 0, 0)).toEqual([])
    })

  it('gzip batches are stored compressed and read back identical', async () => {
    await withProducer({}, async producer => {
      await producer.send({ topic: 'gzip', compression: CompressionTypes.GZIP, messages })
    })
    const [result] = await world.weir.transport.fetch({ partitions: [{ topic: 'gzip', partition: 0,
      offset: 0 }] })
    expect(result!.bytes.readInt16BE(21) & 0x07).toBe(1) // attributes: gzip, as sent
    expect(await stored('gzip', 0, 20)).toEqual(messages)
  })

  it.skipIf(!initProducerIdServed)('an idempotent producer stores each record once',
    async () => {
      // KafkaJS refuses an idempotent producer without retries.
      const options = { idempotent: true, maxInFlightRequests: 1, retry: { retries: 2 } }
      await withProducer(options, async producer => {
        for (let i = 0; i < 4; i++) {
          await producer.send({ topic: 'idempotent', acks: -1,
            messages: messages.slice(i * 5, i * 5 + 5) })
        }
      })
      const [result] = await world.weir.transport.fetch({ partitions: [{ topic: 'idempotent',
        partition: 0, offset: 0 }] })
      expect(result!.bytes.readBigInt64BE(43)).toBeGreaterThanOrEqual(0n) // a producer id
      expect(await stored('idempotent', 0, 20)).toEqual(messages)
    })
})
