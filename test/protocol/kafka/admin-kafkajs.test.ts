/**
 * Goal (issue 9): KafkaJS 2.2.4's admin creates and deletes topics on a Weir broker through the
 * Kafka listener (CreateTopics v3, DeleteTopics v1, sent to the controller from Metadata), and
 * Weir's own admin sees the result. Method: an embedded broker in a temp dir, the listener on
 * 127.0.0.1:0, KafkaJS with retries off (an error is the broker's answer, not a retry's).
 * Covered: partitions and Kafka-named configs, validateOnly, an existing topic (false), per-topic
 * refusals (replication factor, unknown config, bad partition count), delete and a missing topic.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenerWorld } from './kafka-wire.ts'

const world = listenerWorld('weir-kafkajs-admin-')
let admin: Admin

beforeAll(async () => {
  const kafka = new Kafka({ clientId: 'weir-admin-test',
    brokers: [`127.0.0.1:${world.listener.port}`], logLevel: logLevel.NOTHING,
    retry: { retries: 0 } })
  admin = kafka.admin()
  await admin.connect()
})

afterAll(async () => {
  await admin.disconnect()
})

async function weirTopics(): Promise<string[]> {
  return (await world.weir.admin().listTopics()).map(topic => topic.name).sort()
}

describe('KafkaJS admin createTopics and deleteTopics against the Kafka listener', () => {
  it('creates topics with partition counts and Kafka-named configs', async () => {
    // segment.bytes must leave room for a whole batch (batchBytesMax, 1 MiB + 64 KiB).
    expect(await admin.createTopics({ topics: [
      { topic: 'orders', numPartitions: 4, replicationFactor: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' },
          { name: 'retention.ms', value: '3600000' },
          { name: 'segment.bytes', value: '16777216' }] },
      { topic: 'events' },
    ] })).toBe(true)
    const [orders, events] = await world.weir.admin().describeTopics(['orders', 'events'])
    expect(orders).toMatchObject({ name: 'orders', partitions: 4,
      config: { cleanupPolicy: 'compact', retentionMs: 3_600_000, segmentBytesMax: 16_777_216 } })
    expect(orders!.partitionStates).toHaveLength(4)
    expect(events).toMatchObject({ name: 'events', partitions: 1, config: {} })
    const { topics } = await admin.fetchTopicMetadata({ topics: ['orders'] })
    expect(topics[0]!.partitions).toHaveLength(4)
  })

  it('validateOnly checks without creating, and reports what would fail', async () => {
    expect(await admin.createTopics({ validateOnly: true, waitForLeaders: false,
      topics: [{ topic: 'dry-run', numPartitions: 2 }] })).toBe(true)
    expect(await weirTopics()).not.toContain('dry-run')
    await expect(admin.createTopics({ validateOnly: true, waitForLeaders: false,
      topics: [{ topic: 'dry-run', configEntries: [{ name: 'retention.ms', value: '-7' }] }] }))
      .rejects.toMatchObject({ errors: [{ type: 'INVALID_CONFIG', topic: 'dry-run' }] })
    expect(await admin.createTopics({ validateOnly: true, waitForLeaders: false,
      topics: [{ topic: 'orders' }] })).toBe(false)
  })

  it('creating an existing topic returns false and changes nothing', async () => {
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 9 }] }))
      .toBe(false)
    const [orders] = await world.weir.admin().describeTopics(['orders'])
    expect(orders!.partitions).toBe(4)
  })

  it('refuses, per topic, a replication factor above 1, unknown configs, bad counts and names',
    async () => {
      const error = await admin.createTopics({ waitForLeaders: false, topics: [
        { topic: 'replicated', replicationFactor: 3 },
        { topic: 'configured', configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
        { topic: 'empty', numPartitions: 0 },
        { topic: 'bad name!' },
        { topic: 'fine', numPartitions: 2 },
      ] }).then(() => undefined, (caught: unknown) => caught as { errors: unknown[] })
      expect(error?.errors).toEqual(expect.arrayContaining([
        expect.objectContaining({ type: 'INVALID_REPLICATION_FACTOR', topic: 'replicated' }),
        expect.objectContaining({ type: 'INVALID_CONFIG', topic: 'configured' }),
        expect.objectContaining({ type: 'INVALID_PARTITIONS', topic: 'empty' }),
        expect.objectContaining({ type: 'INVALID_TOPIC_EXCEPTION', topic: 'bad name!' }),
      ]))
      expect(error?.errors).toHaveLength(4)
      // The valid entry of the same request was created.
      expect(await weirTopics()).toEqual(['events', 'fine', 'orders'])
    })

  it('deletes topics, and a missing topic is UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await admin.deleteTopics({ topics: ['events', 'fine'] })
    expect(await weirTopics()).toEqual(['orders'])
    // KafkaJS retries 3 (retriable for it); with retries off it wraps the broker's error.
    await expect(admin.deleteTopics({ topics: ['never-created'] }))
      .rejects.toMatchObject({ cause: { type: 'UNKNOWN_TOPIC_OR_PARTITION' } })
    expect((await admin.listTopics()).sort()).toEqual(['orders'])
  })
})
