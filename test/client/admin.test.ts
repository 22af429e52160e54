/**
 * Goal: the admin client reports and changes group and topic state correctly. Lag is the log end
 * minus the committed offset per partition (the whole partition where nothing is committed);
 * resetOffsets moves an inactive group to the earliest or latest offset, a timestamp or an
 * offset, and is refused with NON_EMPTY_GROUP while a member is active; listGroups and
 * describeGroup show members and their decoded assignments; deleteGroups removes a group and its
 * offsets. Across a restart on the same directory, topics (partition count and config), committed
 * offsets and the idempotent-producer dedup state survive.
 *
 * Method: a real broker in a temp dir over the transport under test (embedded, or a WeirServer
 * over HTTP in the 'remote' project), real consumers with short timings on the system
 * scheduler, and reopening the same directory for the restart (remotely: a new server on it). Waits are for conditions (bounded
 * by the test timeout); nothing asserts on time.
 */
import { describe, expect, it } from 'vitest'
import type { Message } from '../../src/client/producer.ts'
import type { Weir } from '../../src/client/weir.ts'
import { encodeBatch } from '../../src/log/record-batch.ts'
import {
  FAST, openWeir, produce, pull, readPartition, sorted, until, withWeir,
} from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { overKafka } from '../helpers/remote-fixtures.ts'

/** `count` records for each of `partitions` partitions: value `p:i`, timestamp base + 100 i. */
function perPartition(partitions: number, count: number, base = 1_700_000_000_000): Message[] {
  return Array.from({ length: partitions }, (_, p) => Array.from({ length: count }, (_, i) =>
    ({ partition: p, value: `${p}:${i}`, timestamp: base + 100 * i }))).flat()
}

/**
 * A member of group `g` joins `topic`, waits until it owns all `partitions` of it, commits
 * `offsets` (partition → offset) and leaves.
 */
async function commitAsMember(weir: Weir, topic: string, partitions: number,
  offsets: Record<number, number>): Promise<void> {
  const consumer = weir.consumer({ ...FAST, groupId: 'g', autoCommit: false })
  consumer.subscribe({ topics: [topic] })
  await until(() => consumer.assignment().length === partitions)
  await consumer.commit(Object.entries(offsets).map(([partition, offset]) =>
    ({ topic, partition: Number(partition), offset })))
  await consumer.close()
}

/** Committed offsets of a group as `topic/partition → offset`. */
async function committed(weir: Weir, groupId: string): Promise<Record<string, number>> {
  const offsets = await weir.admin().fetchOffsets(groupId)
  return Object.fromEntries(offsets.map(o => [`${o.topic}/${o.partition}`, o.offset]))
}

describe('admin: lag and offsets', () => {
  it('lag per partition is the log end minus the committed offset, or the whole partition '
    + 'where the group committed nothing', async () => {
    await withWeir('weir-admin-', async weir => {
      const admin = weir.admin()
      await admin.createTopics([{ topic: 't', partitions: 3 }, { topic: 'u' }])
      await produce(weir, 't', [...perPartition(1, 10), ...perPartition(2, 20).slice(20),
        ...perPartition(3, 30).slice(60)])
      await produce(weir, 'u', perPartition(1, 4))
      await commitAsMember(weir, 't', 3, { 0: 4, 1: 20 })

      const byPartition = (lags: Awaited<ReturnType<typeof admin.lag>>): unknown[] =>
        [...lags].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
          .map(({ topic, partition, committedOffset, logEndOffset, lag }) =>
            [`${topic}/${partition}`, committedOffset, logEndOffset, lag])
      // Only topics the group committed to, unless asked for others.
      expect(byPartition(await admin.lag('g'))).toEqual([
        ['t/0', 4, 10, 6], ['t/1', 20, 20, 0], ['t/2', -1, 30, 30]])
      expect(byPartition(await admin.lag('g', ['u']))).toEqual([['u/0', -1, 4, 4]])
      await produce(weir, 't', [{ partition: 1, value: 'more' }, { partition: 1, value: 'more' }])
      expect(byPartition(await admin.lag('g', ['t']))).toEqual([
        ['t/0', 4, 10, 6], ['t/1', 20, 22, 2], ['t/2', -1, 30, 30]])
      expect(await admin.lag('nobody')).toEqual([])
    })
  })

  it('resetOffsets moves an inactive group to earliest, latest, a timestamp or an offset, and a '
    + 'consumer of the group then starts there', async () => {
    await withWeir('weir-admin-', async weir => {
      const admin = weir.admin()
      const base = 1_700_000_000_000
      await admin.createTopics([{ topic: 't', partitions: 2 }])
      await produce(weir, 't', perPartition(2, 5, base))

      await admin.resetOffsets({ groupId: 'g', topic: 't', to: 'latest' })
      expect(await committed(weir, 'g')).toEqual({ 't/0': 5, 't/1': 5 })
      await admin.resetOffsets({ groupId: 'g', topic: 't', to: 'earliest' })
      expect(await committed(weir, 'g')).toEqual({ 't/0': 0, 't/1': 0 })
      // The first record at or after the timestamp: base + 300 is record 3.
      await admin.resetOffsets({ groupId: 'g', topic: 't', to: { timestamp: base + 250 } })
      expect(await committed(weir, 'g')).toEqual({ 't/0': 3, 't/1': 3 })
      await admin.resetOffsets({ groupId: 'g', topic: 't', partitions: [1], to: { offset: 1 } })
      expect(await committed(weir, 'g')).toEqual({ 't/0': 3, 't/1': 1 })
      await expect(admin.resetOffsets({ groupId: 'g', topic: 't', to: { offset: 6 } }))
        .rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' })
      await expect(admin.resetOffsets({ groupId: 'g', topic: 't', to: { offset: -1 } }))
        .rejects.toMatchObject({ code: 'INVALID_REQUEST' })
      expect(await committed(weir, 'g')).toEqual({ 't/0': 3, 't/1': 1 })

      const consumer = weir.consumer({ ...FAST, groupId: 'g', autoCommit: false })
      consumer.subscribe({ topics: ['t'] })
      const records = await pull(consumer, 2 + 4)
      expect(records.map(r => r.value!.toString()).sort()).toEqual(
        ['0:3', '0:4', '1:1', '1:2', '1:3', '1:4'])
      await consumer.close()
    })
  })

  it('resetOffsets is refused with NON_EMPTY_GROUP while the group has an active member, and '
    + 'works again once it left', async () => {
    await withWeir('weir-admin-', async weir => {
      const admin = weir.admin()
      await admin.createTopics([{ topic: 't' }])
      await produce(weir, 't', perPartition(1, 3))
      const consumer = weir.consumer({ ...FAST, groupId: 'g', autoCommit: false })
      consumer.subscribe({ topics: ['t'] })
      await until(() => consumer.assignment().length === 1)
      await expect(admin.resetOffsets({ groupId: 'g', topic: 't', to: 'earliest' }))
        .rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' })
      expect(await committed(weir, 'g')).toEqual({})
      await consumer.close()
      await admin.resetOffsets({ groupId: 'g', topic: 't', to: 'latest' })
      expect(await committed(weir, 'g')).toEqual({ 't/0': 3 })
    })
  })
})

describe('admin: groups', () => {
  it('listGroups and describeGroup show the members, their client ids and their decoded '
    + 'assignments, which match what each consumer owns', async () => {
    await withWeir('weir-admin-', async weir => {
      const admin = weir.admin()
      await admin.createTopics([{ topic: 't', partitions: 4 }])
      await admin.resetOffsets({ groupId: 'idle', topic: 't', to: 'earliest' })
      const consumers = new Map(['c1', 'c2'].map(clientId => [clientId,
        weir.consumer({ ...FAST, groupId: 'g', clientId })]))
      for (const consumer of consumers.values()) consumer.subscribe({ topics: ['t'] })
      // Cooperative rebalancing takes two rounds; wait for the balanced, stable result.
      await until(async () => {
        const group = await admin.describeGroup('g')
        return group.state === 'Stable' && group.members.length === 2
          && group.assignments.every(a => a.partitions.length === 2)
      })
      const group = await admin.describeGroup('g')
      expect(group).toMatchObject({ groupId: 'g', state: 'Stable', protocolType: 'consumer',
        protocol: 'cooperative-sticky' })
      if (!overKafka) { // DescribeGroups gives Kafka clients no generation or leader
        expect(group.generationId).toBeGreaterThan(0)
        expect(group.members.map(m => m.memberId)).toContain(group.leader)
      }
      expect(group.members.map(m => m.clientId).sort()).toEqual(['c1', 'c2'])
      const all: string[] = []
      for (const member of group.members) {
        const decoded = group.assignments.find(a => a.memberId === member.memberId)!.partitions
        expect(sorted(decoded)).toEqual(sorted(consumers.get(member.clientId)!.assignment()))
        all.push(...sorted(decoded))
      }
      expect(all.sort()).toEqual(['t/0', 't/1', 't/2', 't/3'])

      expect(await admin.listGroups()).toEqual([
        { groupId: 'g', state: 'Stable', protocolType: 'consumer' },
        { groupId: 'idle', state: 'Empty', protocolType: '' },
      ])
      expect(await admin.describeGroup('idle')).toMatchObject({ state: 'Empty', members: [],
        assignments: [] })
      expect(await admin.describeGroup('nobody')).toMatchObject({ state: 'Dead', members: [] })
    })
  })

  it('deleteGroups removes an inactive group and its offsets; it refuses an active group '
    + '(NON_EMPTY_GROUP) and an unknown one (GROUP_ID_NOT_FOUND)', async () => {
    await withWeir('weir-admin-', async weir => {
      const admin = weir.admin()
      await admin.createTopics([{ topic: 't' }])
      await produce(weir, 't', perPartition(1, 3))
      const config = { ...FAST, groupId: 'g', autoCommit: false,
        autoOffsetReset: 'earliest' as const }
      const consumer = weir.consumer(config)
      consumer.subscribe({ topics: ['t'] })
      await pull(consumer, 3)
      await consumer.commit()
      await expect(admin.deleteGroups(['g'])).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' })
      await expect(admin.deleteGroups(['nobody'])).rejects.toMatchObject(
        { code: 'GROUP_ID_NOT_FOUND' })
      expect(await committed(weir, 'g')).toEqual({ 't/0': 3 })
      await consumer.close()

      await admin.deleteGroups(['g'])
      expect(await admin.listGroups()).toEqual([])
      expect(await admin.fetchOffsets('g')).toEqual([])
      expect(await admin.describeGroup('g')).toMatchObject({ state: 'Dead', members: [] })
      // A new member of the same group id starts without offsets: from the beginning again.
      const fresh = weir.consumer(config)
      fresh.subscribe({ topics: ['t'] })
      expect((await pull(fresh, 3)).map(r => r.offset)).toEqual([0, 1, 2])
    })
  })
})

describe('admin: restart', () => {
  it('after close and reopen on the same directory, topics (partition count and config), '
    + 'committed offsets and producer dedup state are as before', async () => {
    await withTempDir('weir-admin-restart-', async dir => {
      const config = { retentionMs: 3_600_000, recordBytesMax: 4096 }
      let before: Weir | undefined = await openWeir(dir)
      let after: Weir | undefined
      try {
        await before.admin().createTopics([{ topic: 'orders', partitions: 3, config },
          { topic: 'plain' }])
        await produce(before, 'orders', perPartition(3, 4))
        await commitAsMember(before, 'orders', 3, { 0: 1, 2: 4 })
        // A raw idempotent batch, as a producer would send it; the broker stamps the base
        // offset into the buffer it is given, so the retry after the restart sends a copy.
        const { producerId, producerEpoch } = await before.transport.initProducerId()
        const batch = (baseSequence: number, values: string[]): Buffer => encodeBatch(
          values.map(value => ({ value: Buffer.from(value) })),
          { timestamp: 1_700_000_000_000, producerId, producerEpoch, baseSequence })
        const original = batch(0, ['x', 'y'])
        const retry = Buffer.from(original)
        const first = await before.transport.produce({ topic: 'plain', partition: 0,
          batch: original, acks: 'all' })
        expect(first).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: false })
        const topicsBefore = await before.admin().listTopics()
        await before.close()
        before = undefined

        after = await openWeir(dir)
        expect(await after.admin().listTopics()).toEqual(topicsBefore)
        const [orders] = await after.admin().describeTopics(['orders'])
        // Kafka clients read topic configs through DescribeConfigs, which Weir.kafka does not use.
        expect(orders).toMatchObject({ name: 'orders', partitions: 3,
          ...(overKafka ? {} : { config }) })
        expect(orders!.partitionStates.map(s => s.logEndOffset)).toEqual([4, 4, 4])
        expect(await committed(after, 'g')).toEqual({ 'orders/0': 1, 'orders/2': 4 })
        // The topic config still applies, not just reads back.
        await expect(after.producer().send({ topic: 'orders', messages: [
          { partition: 0, value: 'z'.repeat(5000) }] })).rejects.toMatchObject(
          { code: 'MESSAGE_TOO_LARGE' })

        const again = await after.transport.produce({ topic: 'plain', partition: 0,
          batch: retry, acks: 'all' })
        // A Kafka broker answers a duplicate as a success at its first offsets, unflagged.
        expect(again).toEqual({ baseOffset: 0, lastOffset: 1, duplicate: !overKafka })
        // The producer's sequence also carries on where it was.
        const next = await after.transport.produce({ topic: 'plain', partition: 0,
          batch: batch(2, ['z']), acks: 'all' })
        expect(next).toEqual({ baseOffset: 2, lastOffset: 2, duplicate: false })
        expect((await readPartition(after.transport, 'plain', 0))
          .map(r => [r.offset, r.value!.toString()])).toEqual([[0, 'x'], [1, 'y'], [2, 'z']])
        // Producer ids are never handed out twice, across restarts too.
        expect((await after.transport.initProducerId()).producerId).not.toBe(producerId)
      } finally {
        await before?.close()
        await after?.close()
      }
    })
  })
})

describe('admin: topics', () => {
  // BUG (src/broker/broker.ts, Broker.createTopic): the topic is put in the registry
  // (`await this.registry.put(topic)`), and so listed by listTopics/describeTopics, before
  // `await this.openPartitions(topic, 0)` has opened its partitions. In between, every partition
  // call (listOffsets, fetch, produce, commitOffsets) fails with UNKNOWN_TOPIC_OR_PARTITION
  // "Topic 'x' has no partition 0; it has 0." A consumer whose pattern refresh lands in that
  // window is assigned the partition and fails. createPartitions has the same ordering.
  it('a topic is listed only once its partitions can be used', async () => {
    await withWeir('weir-admin-', async weir => {
      const creating = weir.admin().createTopics([{ topic: 'fresh', partitions: 2 }])
      while (!(await weir.transport.listTopics()).some(topic => topic.name === 'fresh')) {
        await new Promise(resolve => setImmediate(resolve))
      }
      expect(await weir.transport.listOffsets([{ topic: 'fresh', partition: 1,
        spec: 'latest' }])).toEqual([{ topic: 'fresh', partition: 1, offset: 0 }])
      await creating
    })
  })
})
