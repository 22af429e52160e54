/**
 * Goal (issue 9): Weir's schemas of the transactional APIs (InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn, TxnOffsetCommit, v0–1 each) read what KafkaJS 2.2.4 writes and write
 * what it reads. Method: as golden.test.ts, KafkaJS's own encoders and decoders are the oracle;
 * each request it encodes is read with Weir's schema of that version (nothing left over), each
 * response Weir encodes is decoded by KafkaJS's decoder of that version. One InitProducerId
 * frame is pinned as hex, and ApiVersions is checked to advertise exactly the Profile A ranges
 * of these APIs and of CreateTopics and DeleteTopics.
 */
import { describe, expect, it } from 'vitest'
import { advertisedVersions, schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import { readRequestHeader } from '../../../src/protocol/kafka/header.ts'
import { FrameReader, readMessage } from '../../../src/protocol/kafka/schema.ts'
import {
  encodeResponse, kafkaJsDecode, kafkaJsRequest, readKafkaJsBody,
} from './kafkajs-oracle.ts'

const versions = [0, 1]
const producer = { transactionalId: 'tx-ü', producerId: 4321, producerEpoch: 7 }

describe('transaction API schemas against KafkaJS 2.2.4', () => {
  it('ApiVersions advertises Profile A for the transaction and topic-admin APIs, with '
    + 'TxnOffsetCommit up to v3 (KIP-447), DeleteGroups and the transaction listings', () => {
    const ranges = advertisedVersions().filter(range => [19, 20, 22, 24, 25, 26, 28, 42, 65, 66]
      .includes(range.apiKey)).map(r => [r.apiKey, r.minVersion, r.maxVersion])
    expect(ranges).toEqual([[19, 0, 3], [20, 0, 1], [22, 0, 1], [24, 0, 1], [25, 0, 1],
      [26, 0, 1], [28, 0, 3], [42, 0, 1], [65, 0, 0], [66, 0, 0]])
  })

  it.each(versions)('InitProducerId v%i: transactional and idempotent requests; the response',
    async version => {
      expect(await readKafkaJsBody(kafkaJsRequest('initProducerId', version,
        { transactionalId: 'tx-ü', transactionTimeout: 60000 })))
        .toEqual({ transactionalId: 'tx-ü', transactionTimeoutMs: 60000 })
      expect(await readKafkaJsBody(kafkaJsRequest('initProducerId', version,
        { transactionalId: null, transactionTimeout: 5000 })))
        .toEqual({ transactionalId: null, transactionTimeoutMs: 5000 })
      const decoded = await kafkaJsDecode('initProducerId', version, encodeResponse(22, version,
        { throttleTimeMs: 0, errorCode: 0, producerId: 2 ** 40 + 1, producerEpoch: 3 }))
      expect(decoded).toMatchObject({ errorCode: 0, producerId: String(2 ** 40 + 1),
        producerEpoch: 3 })
    })

  it.each(versions)('AddPartitionsToTxn v%i: topics and partitions; per-partition errors',
    async version => {
      const topics = [{ topic: 'a', partitions: [0, 2] }, { topic: 'b', partitions: [1] }]
      expect(await readKafkaJsBody(kafkaJsRequest('addPartitionsToTxn', version,
        { ...producer, topics }))).toEqual({ ...producer,
        topics: [{ name: 'a', partitions: [0, 2] }, { name: 'b', partitions: [1] }] })
      const decoded = await kafkaJsDecode('addPartitionsToTxn', version, encodeResponse(24,
        version, { throttleTimeMs: 0, results: [{ name: 'a', results: [
          { partitionIndex: 0, errorCode: 0 }, { partitionIndex: 2, errorCode: 3 }] }] }))
      expect(decoded.errors).toEqual([{ topic: 'a', partitionErrors: [
        { partition: 0, errorCode: 0 }, { partition: 2, errorCode: 3 }] }])
    })

  it.each(versions)('AddOffsetsToTxn and EndTxn v%i: requests and error codes',
    async version => {
      expect(await readKafkaJsBody(kafkaJsRequest('addOffsetsToTxn', version,
        { ...producer, groupId: 'g1' }))).toEqual({ ...producer, groupId: 'g1' })
      expect(await kafkaJsDecode('addOffsetsToTxn', version, encodeResponse(25, version,
        { throttleTimeMs: 0, errorCode: 47 }))).toMatchObject({ errorCode: 47 })
      for (const transactionResult of [true, false]) {
        expect(await readKafkaJsBody(kafkaJsRequest('endTxn', version,
          { ...producer, transactionResult }))).toEqual({ ...producer,
          committed: transactionResult })
      }
      expect(await kafkaJsDecode('endTxn', version, encodeResponse(26, version,
        { throttleTimeMs: 0, errorCode: 51 }))).toMatchObject({ errorCode: 51 })
    })

  it.each(versions)('TxnOffsetCommit v%i: offsets with metadata (also null); per-partition errors',
    async version => {
      const request = kafkaJsRequest('txnOffsetCommit', version, { ...producer, groupId: 'g1',
        topics: [{ topic: 'a', partitions: [{ partition: 0, offset: '42', metadata: 'm' },
          { partition: 1, offset: '7', metadata: null }] }] })
      expect(await readKafkaJsBody(request)).toEqual({ ...producer, groupId: 'g1',
        topics: [{ name: 'a', partitions: [
          { partitionIndex: 0, committedOffset: 42, committedMetadata: 'm' },
          { partitionIndex: 1, committedOffset: 7, committedMetadata: null }] }] })
      const decoded = await kafkaJsDecode('txnOffsetCommit', version, encodeResponse(28, version,
        { throttleTimeMs: 0, topics: [{ name: 'a', partitions: [
          { partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 48 }] }] }))
      expect(decoded.topics).toEqual([{ topic: 'a', partitions: [
        { partition: 0, errorCode: 0 }, { partition: 1, errorCode: 48 }] }])
    })

  it('golden bytes: an idempotent InitProducerId v1 request and a fenced EndTxn v1 response',
    () => {
      const frame = Buffer.from('0016' + '0001' + '00000003' + 'ffff' + 'ffff' + '0000ea60',
        'hex')
      const reader = new FrameReader(frame)
      expect(readRequestHeader(reader, false)).toEqual({ apiKey: 22, apiVersion: 1,
        correlationId: 3, clientId: null })
      expect(readMessage(reader, schemaFor(22, 1)!.request)).toEqual({ transactionalId: null,
        transactionTimeoutMs: 60000 })
      expect(encodeResponse(26, 1, { throttleTimeMs: 0, errorCode: 47 }).toString('hex'))
        .toBe('00000000' + '002f')
    })
})
