/**
 * Goal (issue 9): Weir's ListOffsets schemas (v1–v3) read what KafkaJS 2.2.4 writes (the
 * isolation level from v2) and write what it reads (throttle time from v2). Same method as
 * golden.test.ts, plus one v3 response pinned as hex.
 */
import { describe, expect, it } from 'vitest'
import {
  encodeResponse, kafkaJs, type KafkaJsRequest, readKafkaJsRequest,
} from './kafkajs-oracle.ts'

describe('ListOffsets schemas against KafkaJS 2.2.4', () => {
  it('v1–v3 requests and responses round-trip through KafkaJS', async () => {
    for (let version = 1; version <= 3; version++) {
      const request = kafkaJs<(options: object) => KafkaJsRequest>(
        `listOffsets/v${version}/request`)({ replicaId: -1, isolationLevel: 1, topics: [
        { topic: 'orders', partitions: [{ partition: 0, timestamp: -2 },
          { partition: 1, timestamp: 1_700_000_000_000 }] }] })
      const { body } = await readKafkaJsRequest<Record<string, unknown>>(request)
      expect(body).toEqual({ replicaId: -1, ...(version >= 2 ? { isolationLevel: 1 } : {}),
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -2 },
          { partitionIndex: 1, timestamp: 1_700_000_000_000 }] }] })
      const { decode } = kafkaJs<{ decode(raw: Buffer): Promise<unknown> }>(
        `listOffsets/v${version}/response`)
      const decoded = await decode(encodeResponse(2, version, { throttleTimeMs: 0, topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1,
          offset: 42 }, { partitionIndex: 1, errorCode: 3, timestamp: -1, offset: -1 }] }] }))
      expect(decoded).toMatchObject({ responses: [{ topic: 'orders', partitions: [
        { partition: 0, errorCode: 0, timestamp: '-1', offset: '42' },
        { partition: 1, errorCode: 3, offset: '-1' }] }] })
    }
  })

  it('golden bytes: a ListOffsets v3 response', () => {
    expect(encodeResponse(2, 3, { throttleTimeMs: 0, topics: [{ name: 'a', partitions: [
      { partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 7 }] }] }).toString('hex'))
      .toBe('00000000' + '00000001' + '000161' + '00000001' + '00000000' + '0000'
        + 'ffffffffffffffff' + '0000000000000007')
  })
})
