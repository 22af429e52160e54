/**
 * Goal (issue 9): KafkaJS 2.2.4, unchanged, talks to a Weir broker through the Kafka listener.
 * So far the listener serves ApiVersions and Metadata, so this covers what KafkaJS's admin does
 * with them: connect (ApiVersions, then Metadata), describeCluster (the broker at the advertised
 * address, the controller), listTopics and fetchTopicMetadata (partitions led by node 0), and
 * the error for a topic that does not exist.
 */
import { Kafka, logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { listenerWorld } from './kafka-wire.ts'

const world = listenerWorld('weir-kafkajs-', { topics: [{ topic: 'orders', partitions: 3 },
  { topic: 'payments', partitions: 1 }] })

describe('KafkaJS admin against the Kafka listener', () => {
  it('connects, describes the cluster and lists topics with their partitions', async () => {
    const kafka = new Kafka({ clientId: 'weir-test', brokers: [`127.0.0.1:${world.listener.port}`],
      logLevel: logLevel.NOTHING, retry: { retries: 0 } })
    const admin = kafka.admin()
    await admin.connect()
    try {
      expect(await admin.describeCluster()).toEqual({ clusterId: 'weir', controller: 0,
        brokers: [{ nodeId: 0, host: '127.0.0.1', port: world.listener.port }] })
      expect((await admin.listTopics()).sort()).toEqual(['orders', 'payments'])
      const { topics } = await admin.fetchTopicMetadata({ topics: ['orders'] })
      expect(topics).toHaveLength(1)
      expect(topics[0]!.name).toBe('orders')
      expect(topics[0]!.partitions.map(p => [p.partitionId, p.leader, p.replicas, p.isr]))
        .toEqual([[0, 0, [0], [0]], [1, 0, [0], [0]], [2, 0, [0], [0]]])
      await expect(admin.fetchTopicMetadata({ topics: ['missing'] })).rejects.toMatchObject({
        type: 'UNKNOWN_TOPIC_OR_PARTITION' })
    } finally {
      await admin.disconnect()
    }
  })
})
