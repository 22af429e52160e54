/**
 * Goal (issue 9): Weir's Fetch schemas (v4–v11) read what KafkaJS 2.2.4 writes and write what
 * it reads. KafkaJS's request encoders build each version (isolation level, sessions from v7,
 * leader epoch from v9, rack from v11) and Weir's schema reads them; a response Weir encodes
 * around a batch from Weir's own encoder is decoded by KafkaJS's decoder, records included,
 * with the aborted transactions and the last stable offset. A v4 and a v11 response are pinned
 * as hex (empty records).
 */
import { describe, expect, it } from 'vitest'
import { encodeBatch } from '../../../src/log/record-batch.ts'
import {
  encodeResponse, kafkaJs, type KafkaJsRequest, readKafkaJsRequest,
} from './kafkajs-oracle.ts'

const batch = encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v'),
  headers: [{ key: 'h', value: Buffer.from('x') }] }, { value: Buffer.from('w') }],
{ timestamp: 1_700_000_000_000, baseOffset: 10 })

function fetchResponse(records: Buffer | null) {
  return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 'orders',
    partitions: [{ partitionIndex: 1, errorCode: 0, highWatermark: 12, lastStableOffset: 11,
      logStartOffset: 2, abortedTransactions: [{ producerId: 7, firstOffset: 4 }],
      preferredReadReplica: -1, records }] }] }
}

interface DecodedFetch {
  errorCode?: number
  sessionId?: number
  responses: Array<{ topicName: string, partitions: Array<Record<string, unknown> & {
    messages: Array<{ offset: string, key: Buffer | null, value: Buffer,
      headers: Record<string, Buffer> }> }> }>
}

describe('Fetch schemas against KafkaJS 2.2.4', () => {
  it('v4–v11 requests read back field by field', async () => {
    for (let version = 4; version <= 11; version++) {
      const request = kafkaJs<(options: object) => KafkaJsRequest>(`fetch/v${version}/request`)({
        replicaId: -1, maxWaitTime: 5000, minBytes: 1, maxBytes: 10485760, isolationLevel: 1,
        topics: [{ topic: 'orders', partitions: [{ partition: 1, fetchOffset: '10',
          maxBytes: 1048576 }] }], rackId: 'r1' })
      const { body } = await readKafkaJsRequest<Record<string, unknown>>(request)
      expect(body).toMatchObject({ replicaId: -1, maxWaitMs: 5000, minBytes: 1,
        maxBytes: 10485760, isolationLevel: 1, topics: [{ topic: 'orders', partitions: [
          { partition: 1, fetchOffset: 10, partitionMaxBytes: 1048576 }] }] })
      if (version >= 7) {
        expect(body).toMatchObject({ sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [] })
      }
      if (version >= 9) expect(body).toMatchObject({ topics: [{ partitions: [
        { currentLeaderEpoch: -1, logStartOffset: -1 }] }] })
      if (version === 11) expect(body.rackId).toBe('r1')
    }
  })

  it('v4–v11 responses decode in KafkaJS, records and aborted transactions included',
    async () => {
      for (let version = 4; version <= 11; version++) {
        const { decode } = kafkaJs<{ decode(raw: Buffer): Promise<unknown> }>(
          `fetch/v${version}/response`)
        const decoded = await decode(encodeResponse(1, version, fetchResponse(batch))) as
          DecodedFetch
        if (version >= 7) expect(decoded).toMatchObject({ errorCode: 0, sessionId: 0 })
        const [partition] = decoded.responses[0]!.partitions
        expect(decoded.responses[0]!.topicName).toBe('orders')
        expect(partition).toMatchObject({ partition: 1, errorCode: 0, highWatermark: '12',
          lastStableOffset: '11',
          abortedTransactions: [{ producerId: '7', firstOffset: '4' }] })
        if (version >= 5) expect(partition!.lastStartOffset).toBe('2')
        if (version >= 11) expect(partition!.preferredReadReplica).toBe(-1)
        const messages = partition!.messages
        expect(messages.map(m => [m.offset, m.key?.toString() ?? null, m.value.toString()]))
          .toEqual([['10', 'k', 'v'], ['11', null, 'w']])
        expect(messages[0]!.headers.h!.toString()).toBe('x')
      }
    })

  it('golden bytes: v4 and v11 responses with null aborted transactions and no records', () => {
    const empty = { ...fetchResponse(Buffer.alloc(0)) }
    empty.responses[0]!.partitions[0] = { ...empty.responses[0]!.partitions[0]!,
      abortedTransactions: null as never }
    const partitionV4 = '00000001' + '0000' + '000000000000000c' + '000000000000000b'
    expect(encodeResponse(1, 4, empty).toString('hex')).toBe('00000000' + '00000001'
      + '00066f7264657273' + '00000001' + partitionV4 + 'ffffffff' + '00000000')
    expect(encodeResponse(1, 11, empty).toString('hex')).toBe('00000000' + '0000' + '00000000'
      + '00000001' + '00066f7264657273' + '00000001' + partitionV4 + '0000000000000002'
      + 'ffffffff' + 'ffffffff' + '00000000')
  })
})
