/**
 * Goal (issue 9): KafkaJS 2.2.4's admin, unchanged, sees Weir's consumer groups through the
 * Kafka listener: describeGroups (state, protocol, members with their metadata and assignment
 * bytes as KafkaJS's own AssignerProtocol reads them), listGroups, fetchOffsets (−1 where none
 * is committed), and setOffsets / resetOffsets (which join the group with a temporary KafkaJS
 * consumer, so they also run JoinGroup, SyncGroup, OffsetCommit, ListOffsets and Fetch).
 * Method: the group's member joins and commits through Weir's own transport, and offsets set by
 * KafkaJS are read back with Weir's admin.
 */
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { listenerWorld } from './kafka-wire.ts'

const world = listenerWorld('weir-kafkajs-group-admin-',
  { topics: [{ topic: 'orders', partitions: 3 }] })

function kafkaAdmin() {
  return new Kafka({ clientId: 'weir-test', brokers: [`127.0.0.1:${world.listener.port}`],
    logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin()
}

const subscription = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['orders'],
  userData: Buffer.alloc(0) })
const assignment = AssignerProtocol.MemberAssignment.encode({ version: 0,
  assignment: { orders: [0, 1, 2] }, userData: Buffer.alloc(0) })

describe('KafkaJS admin and Weir groups through the Kafka listener', () => {
  it('describes and lists a group Weir runs, and fetches its committed offsets', async () => {
    const joined = await world.weir.transport.joinGroup({ groupId: 'billing', memberId: '',
      clientId: 'weir-client', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata: subscription }] })
    const { memberId, generationId } = joined
    await world.weir.transport.syncGroup({ groupId: 'billing', generationId, memberId,
      assignments: [{ memberId, assignment }] })
    await world.weir.transport.commitOffsets({ groupId: 'billing', generationId, memberId,
      offsets: [{ topic: 'orders', partition: 0, offset: 5 },
        { topic: 'orders', partition: 1, offset: 7, metadata: 'x' }] })

    const admin = kafkaAdmin()
    await admin.connect()
    try {
      const { groups } = await admin.describeGroups(['billing', 'nobody'])
      expect(groups).toEqual([
        { errorCode: 0, groupId: 'billing', state: 'Stable', protocolType: 'consumer',
          protocol: 'RoundRobinAssigner', members: [{ memberId, clientId: 'weir-client',
            clientHost: '', memberMetadata: subscription, memberAssignment: assignment }] },
        { errorCode: 0, groupId: 'nobody', state: 'Dead', protocolType: '', protocol: '',
          members: [] }])
      expect(AssignerProtocol.MemberAssignment.decode(groups[0]!.members[0]!.memberAssignment))
        .toMatchObject({ assignment: { orders: [0, 1, 2] } })
      expect((await admin.listGroups()).groups).toEqual([
        { groupId: 'billing', protocolType: 'consumer' }])
      expect(await admin.fetchOffsets({ groupId: 'billing', topics: ['orders'] })).toEqual([
        { topic: 'orders', partitions: [{ partition: 0, offset: '5', metadata: null },
          { partition: 1, offset: '7', metadata: 'x' },
          { partition: 2, offset: '-1', metadata: null }] }])
    } finally {
      await admin.disconnect()
      await world.weir.transport.leaveGroup({ groupId: 'billing', members: [{ memberId }] })
    }
  })

  it('setOffsets and resetOffsets of a group with no members, read back by Weir',
    async () => {
      const producer = world.weir.producer()
      await producer.send({ topic: 'orders', messages: Array.from({ length: 9 },
        (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 3 })) })
      const admin = kafkaAdmin()
      await admin.connect()
      try {
        await admin.setOffsets({ groupId: 'audit', topic: 'orders',
          partitions: [{ partition: 0, offset: '2' }, { partition: 2, offset: '1' }] })
        const offsets = async () => (await world.weir.admin().fetchOffsets('audit'))
          .map(({ partition, offset }) => [partition, offset])
        expect(await offsets()).toEqual([[0, 2], [2, 1]])
        expect((await world.weir.admin().describeGroup('audit')).state).toBe('Empty')
        await admin.resetOffsets({ groupId: 'audit', topic: 'orders', earliest: true })
        expect(await offsets()).toEqual([[0, 0], [1, 0], [2, 0]])
      } finally {
        await admin.disconnect()
      }
    })
})
