/**
 * Goal (issue 9): Weir's Kafka schemas read what real clients write and write what they read.
 * The oracle is KafkaJS 2.2.4's own protocol encoders and decoders (its src/protocol), used
 * byte for byte: each request it encodes is read with Weir's schema of that API version, and
 * each response Weir encodes is decoded by KafkaJS's decoder of that version. A few frames are
 * also pinned as hex (golden bytes), so a change to the interpreter that both sides would
 * follow is still caught.
 */
import { describe, expect, it } from 'vitest'
import { schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import { readRequestHeader } from '../../../src/protocol/kafka/header.ts'
import { FrameReader, readMessage } from '../../../src/protocol/kafka/schema.ts'
import {
  encodeResponse, kafkaJs, type KafkaJsRequest, readKafkaJsRequest,
} from './kafkajs-oracle.ts'

const ranges = [{ apiKey: 3, minVersion: 0, maxVersion: 6 },
  { apiKey: 18, minVersion: 0, maxVersion: 3 }]

describe('Kafka schemas against KafkaJS 2.2.4', () => {
  it('ApiVersions v0–v2: KafkaJS requests read as empty bodies; its decoder reads our responses',
    async () => {
      for (const version of [0, 1, 2]) {
        const request = kafkaJs<(() => KafkaJsRequest)>(`apiVersions/v${version}/request`)()
        const { header, body } = await readKafkaJsRequest(request)
        expect(header).toEqual({ apiKey: 18, apiVersion: version, correlationId: 7,
          clientId: 'golden' })
        expect(body).toEqual({})
        const { decode } = kafkaJs<{ decode(raw: Buffer): Promise<unknown> }>(
          `apiVersions/v${version}/response`)
        const decoded = await decode(encodeResponse(18, version,
          { errorCode: 0, apiKeys: ranges, throttleTimeMs: 0 })) as Record<string, unknown>
        expect(decoded).toMatchObject({ errorCode: 0, apiVersions: ranges })
        if (version > 0) expect(decoded.throttleTime).toBe(0)
      }
    })

  it('Metadata v0–v6: topics (and auto-creation from v4) round-trip; KafkaJS decodes brokers, '
    + 'controller, cluster id and partitions', async () => {
    for (let version = 0; version <= 6; version++) {
      const request = kafkaJs<(options: object) => KafkaJsRequest>(
        `metadata/v${version}/request`)({ topics: ['orders', 'ünïcode'],
        allowAutoTopicCreation: false })
      const { body } = await readKafkaJsRequest(request)
      expect(body).toEqual({ topics: [{ name: 'orders' }, { name: 'ünïcode' }],
        ...(version >= 4 ? { allowAutoTopicCreation: false } : {}) })
      const response = { throttleTimeMs: 0, clusterId: 'weir', controllerId: 0,
        brokers: [{ nodeId: 0, host: '127.0.0.1', port: 19092, rack: null }],
        topics: [{ errorCode: 0, name: 'orders', isInternal: false, partitions: [
          { errorCode: 0, partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0],
            offlineReplicas: [] }] }] }
      const { decode } = kafkaJs<{ decode(raw: Buffer): Promise<unknown> }>(
        `metadata/v${version}/response`)
      const decoded = await decode(encodeResponse(3, version, response)) as {
        brokers: unknown[], topicMetadata: unknown[], controllerId?: number, clusterId?: string }
      expect(decoded.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: 19092,
        ...(version >= 1 ? { rack: null } : {}) }])
      expect(decoded.topicMetadata).toMatchObject([{ topicErrorCode: 0, topic: 'orders',
        partitionMetadata: [{ partitionErrorCode: 0, partitionId: 0, leader: 0, replicas: [0],
          isr: [0] }] }])
      if (version >= 1) expect(decoded.controllerId).toBe(0)
      if (version >= 2) expect(decoded.clusterId).toBe('weir')
    }
  })

  it('golden bytes: ApiVersions v0 and v3 responses, a Metadata v1 request with null topics',
    () => {
      expect(encodeResponse(18, 0, { errorCode: 0, apiKeys: [ranges[1]] }).toString('hex'))
        .toBe('0000' + '00000001' + '0012' + '0000' + '0003')
      // v3: compact array (count + 1), each element and the body end with empty tagged fields.
      expect(encodeResponse(18, 3, { errorCode: 0, apiKeys: [ranges[1]], throttleTimeMs: 0 })
        .toString('hex')).toBe('0000' + '02' + '0012' + '0000' + '0003' + '00' + '00000000'
        + '00')
      const frame = Buffer.from('0003' + '0001' + '00000009' + '0001' + '63' + 'ffffffff', 'hex')
      const reader = new FrameReader(frame)
      expect(readRequestHeader(reader, false)).toEqual({ apiKey: 3, apiVersion: 1,
        correlationId: 9, clientId: 'c' })
      expect(readMessage(reader, schemaFor(3, 1)!.request)).toEqual({ topics: null })
    })
})
