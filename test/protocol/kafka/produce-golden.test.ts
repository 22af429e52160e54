/**
 * Goal (issue 9): Weir's Produce schemas (v0–v7) read what KafkaJS 2.2.4 writes and write what
 * it reads. Method as in golden.test.ts: KafkaJS's own request encoders build the frames (for
 * v3+ with a RecordBatch v2 that KafkaJS encodes itself, plain and gzip), Weir's schema reads
 * them, and the batch inside is checked with Weir's record-batch codec (CRC, records, headers);
 * each response Weir encodes is decoded by KafkaJS's decoder of the same version. One v7
 * response is pinned as hex.
 */
import { describe, expect, it } from 'vitest'
import { batchDefect, decodeRecords, readBatchHeader } from '../../../src/log/record-batch.ts'
import {
  encodeResponse, kafkaJs, type KafkaJsRequest, readKafkaJsRequest,
} from './kafkajs-oracle.ts'

const messages = [
  { key: 'k1', value: 'v1', timestamp: 1_700_000_000_000, headers: { h: 'x' } },
  { key: null, value: 'v2', timestamp: 1_700_000_000_005 },
]

interface ProduceBody {
  transactionalId?: string | null
  acks: number
  timeoutMs: number
  topicData: Array<{ name: string, partitionData: Array<{ index: number, records: Buffer }> }>
}

type ProduceRequestFactory = (options: object) => KafkaJsRequest

describe('Produce schemas against KafkaJS 2.2.4', () => {
  it('v3–v7 requests: the record batch KafkaJS builds (none and gzip) arrives whole',
    async () => {
    for (let version = 3; version <= 7; version++) {
      for (const compression of [0, 1]) {
        const request = kafkaJs<ProduceRequestFactory>(`produce/v${version}/request`)({
          acks: -1, timeout: 30000, transactionalId: 'tx', compression,
          topicData: [{ topic: 'orders', partitions: [{ partition: 2, messages }] }] })
        const { body } = await readKafkaJsRequest<ProduceBody>(request)
        expect(body).toMatchObject({ transactionalId: 'tx', acks: -1, timeoutMs: 30000 })
        const [topic] = body.topicData
        expect(topic!.name).toBe('orders')
        const batch = topic!.partitionData[0]!.records
        expect(topic!.partitionData[0]!.index).toBe(2)
        expect(batchDefect(batch, 0)).toBeUndefined()
        expect(readBatchHeader(batch).attributes & 0x17).toBe(0x10 | compression)
        const records = decodeRecords(batch)
        expect(records.map(r => [r.key?.toString() ?? null, r.value?.toString(), r.timestamp]))
          .toEqual([['k1', 'v1', 1_700_000_000_000], [null, 'v2', 1_700_000_000_005]])
        expect(records[0]!.headers.map(h => [h.key, h.value?.toString()])).toEqual([['h', 'x']])
      }
    }
  })

  it('v0–v2 requests (message sets) parse; the handler only needs to refuse them', async () => {
    for (let version = 0; version <= 2; version++) {
      const request = kafkaJs<ProduceRequestFactory>(`produce/v${version}/request`)({
        acks: 1, timeout: 1000,
        topicData: [{ topic: 'orders', partitions: [{ partition: 0, messages }] }] })
      const { body } = await readKafkaJsRequest<ProduceBody>(request)
      expect(body).toMatchObject({ acks: 1, timeoutMs: 1000,
        topicData: [{ name: 'orders', partitionData: [{ index: 0 }] }] })
    }
  })

  it('v0–v7 responses decode in KafkaJS', async () => {
    const response = { throttleTimeMs: 0, responses: [{ name: 'orders', partitionResponses: [
      { index: 2, errorCode: 0, baseOffset: 41, logAppendTimeMs: -1, logStartOffset: 3 },
      { index: 3, errorCode: 45, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }] }] }
    for (let version = 0; version <= 7; version++) {
      const { decode } = kafkaJs<{ decode(raw: Buffer): Promise<unknown> }>(
        `produce/v${version}/response`)
      const decoded = await decode(encodeResponse(0, version, response)) as {
        topics: Array<{ topicName: string, partitions: Array<Record<string, unknown>> }> }
      expect(decoded.topics[0]!.topicName).toBe('orders')
      const [ok, bad] = decoded.topics[0]!.partitions
      expect(ok).toMatchObject({ partition: 2, errorCode: 0 })
      expect(ok!.baseOffset ?? ok!.offset).toBe('41')
      expect(bad).toMatchObject({ partition: 3, errorCode: 45 })
      if (version >= 2) expect(ok!.logAppendTime ?? ok!.timestamp).toBe('-1')
      if (version >= 5) expect(ok!.logStartOffset).toBe('3')
    }
  })

  it('golden bytes: a Produce v7 response', () => {
    const bytes = encodeResponse(0, 7, { throttleTimeMs: 0, responses: [{ name: 'a',
      partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5, logAppendTimeMs: -1,
        logStartOffset: 0 }] }] })
    expect(bytes.toString('hex')).toBe('00000001' + '0001' + '61' + '00000001' + '00000000'
      + '0000' + '0000000000000005' + 'ffffffffffffffff' + '0000000000000000' + '00000000')
  })
})
