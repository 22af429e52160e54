/**
 * Goal (issue 9): a KafkaJS 2.2.4 consumer group, unchanged, runs on Weir through the Kafka
 * listener: three members share six partitions, and when one leaves the other two take over its
 * partitions from the committed offsets.
 * Method: records are produced with Weir's own producer; three KafkaJS consumers (fromBeginning,
 * auto-commit after each batch) join one group. Phase 1: they split the partitions two each and
 * consume every record once; their commits reach Weir's offset store (read with Weir's admin).
 * Then one member disconnects (LeaveGroup); once Weir shows the group Stable with two members,
 * phase 2's records are produced: the survivors consume each of them exactly once, including
 * those of the leaver's partitions, and re-read no record of phase 1. Waiting on Weir's view is
 * a bounded poll of the coordinator state, not a sleep in place of a condition.
 */
import { type Consumer, Kafka, logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { listenerWorld } from './kafka-wire.ts'

const PARTITIONS = 6
const PER_PARTITION = 5
const world = listenerWorld('weir-kafkajs-group-', {
  // A short initial delay lets the three first joins land in one generation, as Kafka's
  // group.initial.rebalance.delay.ms does (3 s there).
  weir: { group: { initialRebalanceDelayMs: 300 } },
  topics: [{ topic: 'events', partitions: PARTITIONS }],
})

interface Seen {
  readonly member: number
  readonly partition: number
  readonly offset: number
  readonly value: string
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let turn = 0; turn < 600; turn++) {
    if (await condition()) return
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function produce(phase: number): Promise<void> {
  const producer = world.weir.producer()
  await producer.send({ topic: 'events', messages: Array.from(
    { length: PARTITIONS * PER_PARTITION }, (_, i) => ({ key: `k${i}`,
      value: `p${phase}-${i}`, partition: i % PARTITIONS })) })
  await producer.close()
}

function member(kafka: Kafka, index: number, assignments: Map<number, number[]>): Consumer {
  const consumer = kafka.consumer({ groupId: 'trio', sessionTimeout: 10_000,
    rebalanceTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 })
  consumer.on(consumer.events.GROUP_JOIN, event => {
    assignments.set(index, event.payload.memberAssignment['events'] ?? [])
  })
  return consumer
}

describe('a KafkaJS consumer group on the Kafka listener', () => {
  it('shares six partitions among three members and takes over from committed offsets '
    + 'when one leaves', async () => {
    const kafka = new Kafka({ clientId: 'trio', brokers: [`127.0.0.1:${world.listener.port}`],
      logLevel: logLevel.NOTHING })
    const seen: Seen[] = []
    const assignments = new Map<number, number[]>()
    const consumers = [0, 1, 2].map(index => member(kafka, index, assignments))
    await produce(1)
    try {
      await Promise.all(consumers.map(async (consumer, index) => {
        await consumer.connect()
        await consumer.subscribe({ topics: ['events'], fromBeginning: true })
        await consumer.run({ eachMessage: async ({ partition, message }) => {
          seen.push({ member: index, partition, offset: Number(message.offset),
            value: message.value!.toString() })
        } })
      }))
      const committedAll = async (expected: number) => {
        const offsets = await world.weir.admin().fetchOffsets('trio')
        return offsets.length === PARTITIONS && offsets.every(o => o.offset === expected)
      }
      await until(() => committedAll(PER_PARTITION), 'phase 1 commits')
      await until(async () => {
        const now = await world.weir.admin().describeGroup('trio')
        return now.state === 'Stable' && now.members.length === 3
      }, 'a stable group of three')
      expect(await world.weir.admin().describeGroup('trio')).toMatchObject({
        protocolType: 'consumer', protocol: 'RoundRobinAssigner' })
      expect([...assignments.values()].map(partitions => partitions.length)).toEqual([2, 2, 2])
      expect([...assignments.values()].flat().sort()).toEqual([0, 1, 2, 3, 4, 5])
      // At least once in phase 1 (a rebalance while joining may repeat an uncommitted batch).
      const phase1 = new Set(seen.map(record => record.value))
      expect([...phase1].sort()).toEqual(Array.from(
        { length: PARTITIONS * PER_PARTITION }, (_, i) => `p1-${i}`).sort())
      const phase1Reads = seen.length

      const leaver = consumers[2]!
      const leaverPartitions = assignments.get(2)!
      await leaver.disconnect()
      await until(async () => {
        const now = await world.weir.admin().describeGroup('trio')
        return now.state === 'Stable' && now.members.length === 2
      }, 'a stable group of two')
      await produce(2)
      await until(() => committedAll(2 * PER_PARTITION), 'phase 2 commits')
      const phase2 = seen.filter(record => record.value.startsWith('p2-'))
      expect(phase2.map(record => record.value).sort()).toEqual(Array.from(
        { length: PARTITIONS * PER_PARTITION }, (_, i) => `p2-${i}`).sort())
      expect(phase2.every(record => record.member !== 2)).toBe(true)
      expect([0, 1].flatMap(index => assignments.get(index)!).sort())
        .toEqual([0, 1, 2, 3, 4, 5])
      expect(leaverPartitions).toHaveLength(2)
      expect(phase2.filter(record => leaverPartitions.includes(record.partition))
        .every(record => record.offset >= PER_PARTITION)).toBe(true)
      expect(seen.filter(record => record.value.startsWith('p1-'))).toHaveLength(phase1Reads)
    } finally {
      await Promise.all(consumers.map(consumer => consumer.disconnect()))
    }
  }, 60_000)
})
