/**
 * Goal: topic auto-creation through the Kafka listener, as Kafka's auto.create.topics.enable —
 * a Kafka client never produces to a topic Metadata does not list, so with the broker's
 * `autoCreateTopics` the listener's Metadata must create it.
 * - Metadata v1 (creation implied) for a missing topic creates it with the broker's default
 *   partitions and lists it; v4 with allowAutoTopicCreation false does not (UNKNOWN_TOPIC_OR_
 *   PARTITION, nothing created); a name Weir refuses is INVALID_TOPIC_EXCEPTION.
 * - A KafkaJS producer with allowAutoTopicCreation sends to a new topic; Weir reads the
 *   records back.
 * - Without the option (another listener on the same broker) a missing topic stays missing.
 * Method: an embedded broker opened with autoCreateTopics and defaultPartitions 2, the
 * listener on 127.0.0.1:0, raw frames and KafkaJS 2.2.4.
 */
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KafkaListener } from '../../../src/server/kafka/kafka-listener.ts'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'
import { readWithWeir } from './kafkajs-oracle.ts'

const world = listenerWorld('weir-kafka-auto-create-', {
  weir: { autoCreateTopics: true, defaultPartitions: 2 },
  listener: { autoCreateTopics: true },
})

type MetadataTopic = { errorCode: number, name: string, partitions: unknown[] }

async function metadata(port: number, version: number, topics: string[],
  allowAutoTopicCreation?: boolean): Promise<MetadataTopic[]> {
  const socket = await open(port)
  try {
    const replies = responses(socket)
    socket.write(requestFrame(3, version, 1, { topics: topics.map(name => ({ name })),
      ...(allowAutoTopicCreation === undefined ? {} : { allowAutoTopicCreation }) }))
    const [frame] = await replies.frames(1)
    return (body(frame!, 3, version).value as { topics: MetadataTopic[] }).topics
  } finally {
    socket.destroy()
  }
}

const names = async () => (await world.weir.admin().listTopics()).map(topic => topic.name)

describe('topic auto-creation through the Kafka listener', () => {
  it('Metadata creates a missing topic when the request allows it, and only then',
    async () => {
      const port = world.listener.port
      const [created] = await metadata(port, 1, ['fresh'])
      expect(created).toMatchObject({ errorCode: 0, name: 'fresh' })
      expect(created!.partitions).toHaveLength(2)
      expect(await metadata(port, 4, ['not-asked'], false)).toMatchObject([
        { errorCode: 3, name: 'not-asked' }])
      expect(await metadata(port, 4, ['asked'], true)).toMatchObject([
        { errorCode: 0, name: 'asked' }])
      expect(await metadata(port, 1, ['bad name!'])).toMatchObject([
        { errorCode: 17, name: 'bad name!' }])
      expect((await names()).sort()).toEqual(['asked', 'fresh'])
    })

  it('a KafkaJS producer sends to a topic that did not exist', async () => {
    const kafka = new Kafka({ clientId: 'weir-auto-create-test', logLevel: logLevel.NOTHING,
      brokers: [`127.0.0.1:${world.listener.port}`] })
    const producer = kafka.producer({ allowAutoTopicCreation: true })
    await producer.connect()
    try {
      await producer.send({ topic: 'made-by-kafkajs', messages: [{ value: 'hello' }],
        acks: -1 })
    } finally {
      await producer.disconnect()
    }
    const [topic] = await world.weir.admin().describeTopics(['made-by-kafkajs'])
    const stored = await Promise.all(topic!.partitionStates.map(state =>
      readWithWeir(world.weir.transport, 'made-by-kafkajs', state.partition,
        state.logEndOffset)))
    expect(stored.flat().map(record => record.value?.toString())).toEqual(['hello'])
  })

  describe('a listener without autoCreateTopics', () => {
    let plain: KafkaListener | undefined
    beforeAll(async () => {
      plain = await KafkaListener.start({ transport: world.weir.transport, port: 0 })
    })
    afterAll(async () => plain?.close())

    it('answers a missing topic UNKNOWN_TOPIC_OR_PARTITION and creates nothing', async () => {
      expect(await metadata(plain!.port, 1, ['still-missing'])).toMatchObject([
        { errorCode: 3, name: 'still-missing' }])
      expect(await names()).not.toContain('still-missing')
    })
  })
})
