/**
 * Goal (issue 9): Weir's CreateTopics (v0–3) and DeleteTopics (v0–1) schemas read what KafkaJS
 * 2.2.4 writes and write what it reads. Method: KafkaJS's own encoders and decoders are the
 * oracle (as in golden.test.ts): its requests are read with Weir's schema of that version with
 * nothing left over, and its decoders read Weir's responses, messages from v1 and throttle time
 * from v2 (CreateTopics) and v1 (DeleteTopics). One CreateTopics v0 response is pinned as hex.
 */
import { describe, expect, it } from 'vitest'
import {
  encodeResponse, kafkaJsDecode, kafkaJsRequest, readKafkaJsBody,
} from './kafkajs-oracle.ts'

describe('topic admin schemas against KafkaJS 2.2.4', () => {
  it.each([0, 1, 2, 3])('CreateTopics v%i: topics with counts, assignments and configs; '
    + 'per-topic errors', async version => {
    const request = kafkaJsRequest('createTopics', version, { timeout: 3000, validateOnly: true,
      topics: [
        { topic: 'a', numPartitions: 3, replicationFactor: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: 'b', replicaAssignment: [{ partition: 0, replicas: [0] }] },
      ] })
    expect(await readKafkaJsBody(request)).toEqual({
      topics: [
        { name: 'a', numPartitions: 3, replicationFactor: 1, assignments: [],
          configs: [{ name: 'cleanup.policy', value: 'compact' }] },
        { name: 'b', numPartitions: -1, replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [0] }], configs: [] },
      ],
      timeoutMs: 3000, ...(version >= 1 ? { validateOnly: true } : {}),
    })
    const decoded = await kafkaJsDecode('createTopics', version, encodeResponse(19, version, {
      throttleTimeMs: 0, topics: [{ name: 'b', errorCode: 36, errorMessage: 'exists' },
        { name: 'a', errorCode: 0, errorMessage: null }] }))
    // KafkaJS sorts the results by topic name.
    expect(decoded.topicErrors).toEqual([{ topic: 'a', errorCode: 0,
      ...(version >= 1 ? { errorMessage: null } : {}) },
    { topic: 'b', errorCode: 36, ...(version >= 1 ? { errorMessage: 'exists' } : {}) }])
    if (version >= 2) expect(decoded.clientSideThrottleTime ?? decoded.throttleTime).toBe(0)
  })

  it.each([0, 1])('DeleteTopics v%i: topic names; per-topic errors', async version => {
    expect(await readKafkaJsBody(kafkaJsRequest('deleteTopics', version,
      { topics: ['a', 'b'], timeout: 1000 }))).toEqual({ topicNames: ['a', 'b'], timeoutMs: 1000 })
    const decoded = await kafkaJsDecode('deleteTopics', version, encodeResponse(20, version, {
      throttleTimeMs: 0, responses: [{ name: 'a', errorCode: 0 }, { name: 'b', errorCode: 3 }] }))
    expect(decoded.topicErrors).toEqual([{ topic: 'a', errorCode: 0 },
      { topic: 'b', errorCode: 3 }])
  })

  it('golden bytes: a CreateTopics v0 response and a DeleteTopics v1 response', () => {
    expect(encodeResponse(19, 0, { topics: [{ name: 't', errorCode: 36 }] }).toString('hex'))
      .toBe('00000001' + '0001' + '74' + '0024')
    expect(encodeResponse(20, 1, { throttleTimeMs: 0, responses: [{ name: 't', errorCode: 3 }] })
      .toString('hex')).toBe('00000000' + '00000001' + '0001' + '74' + '0003')
  })
})
