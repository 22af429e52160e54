/**
 * Goal (issue 9): ListOffsets through the listener answers KafkaJS 2.2.4's admin as Kafka does.
 * Method: an embedded broker in a temp dir with records written by Weir's producer at known
 * timestamps, the listener on 127.0.0.1:0, KafkaJS's admin unchanged (it sends ListOffsets v3
 * with isolation read_committed), plus raw v1–v3 requests for the per-partition errors.
 * - fetchTopicOffsets: per partition the high watermark (offset, high) and the log start (low);
 * - fetchTopicOffsetsByTimestamp: the first offset at or after the timestamp, and the end for a
 *   timestamp past every record;
 * - an unknown partition or topic fails only itself (UNKNOWN_TOPIC_OR_PARTITION, 3).
 */
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, it } from 'vitest'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'

const base = 1_700_000_000_000
const world = listenerWorld('weir-kafka-list-offsets-',
  { topics: [{ topic: 'o', partitions: 3 }] })

beforeAll(async () => {
  await world.weir.producer().send({ topic: 'o', messages: Array.from({ length: 9 },
    (_, i) => ({ value: `v${i}`, partition: i % 2, timestamp: base + i * 1000 })) })
})

describe('ListOffsets over the Kafka listener', () => {
  it('answers KafkaJS admin fetchTopicOffsets and fetchTopicOffsetsByTimestamp', async () => {
    const kafka = new Kafka({ clientId: 'weir-list-offsets', logLevel: logLevel.NOTHING,
      brokers: [`127.0.0.1:${world.listener.port}`], retry: { retries: 0 } })
    const admin = kafka.admin()
    await admin.connect()
    try {
      const offsets = await admin.fetchTopicOffsets('o')
      expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, offset: '5', high: '5', low: '0' },
        { partition: 1, offset: '4', high: '4', low: '0' },
        { partition: 2, offset: '0', high: '0', low: '0' }])
      // Partition 0 holds timestamps base+0, +2000, ...; partition 1 base+1000, +3000, ...
      const byTime = await admin.fetchTopicOffsetsByTimestamp('o', base + 2500)
      expect(byTime.sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, offset: '2' }, { partition: 1, offset: '1' },
        { partition: 2, offset: '0' }])
      const future = await admin.fetchTopicOffsetsByTimestamp('o', base + 1_000_000)
      expect(future.map(p => p.offset).sort()).toEqual(['0', '4', '5'])
    } finally {
      await admin.disconnect()
    }
  })

  it('v1–v3: an unknown partition or topic fails only itself', async () => {
    const socket = await open(world.listener.port)
    const replies = responses(socket)
    for (let version = 1; version <= 3; version++) {
      socket.write(requestFrame(2, version, version, { replicaId: -1, isolationLevel: 0,
        topics: [{ name: 'o', partitions: [{ partitionIndex: 1, timestamp: -2 },
          { partitionIndex: 9, timestamp: -1 }, { partitionIndex: 0, timestamp: -1 }] },
        { name: 'gone', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] }))
    }
    const frames = await replies.frames(3)
    socket.destroy()
    frames.forEach((frame, i) => {
      expect(body(frame, 2, i + 1).value.topics).toEqual([{ name: 'o', partitions: [
        { partitionIndex: 1, errorCode: 0, timestamp: -1, offset: 0 },
        { partitionIndex: 9, errorCode: 3, timestamp: -1, offset: -1 },
        { partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 5 }] },
      { name: 'gone', partitions: [{ partitionIndex: 0, errorCode: 3, timestamp: -1,
        offset: -1 }] }])
    })
  })
})
