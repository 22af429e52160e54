/**
 * Goal (issue 9): the group API schemas (FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups) read what real clients
 * write and write what they read, at every advertised version.
 * Method: KafkaJS 2.2.4's own encoders and decoders are the oracle, as in golden.test.ts: each
 * request KafkaJS encodes is read with Weir's schema of that version (exactly, to the last
 * byte), and each response Weir encodes is decoded by KafkaJS's decoder of that version. Opaque
 * bytes (protocol metadata, assignments) must come back byte for byte. A few frames are pinned
 * as hex, and the advertised ranges are checked against the reference's Profile A.
 */
import { describe, expect, it } from 'vitest'
import { groupApis } from '../../../src/protocol/kafka/apis/group-apis.ts'
import { advertisedVersions, schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import { readRequestHeader } from '../../../src/protocol/kafka/header.ts'
import { FrameReader, readMessage } from '../../../src/protocol/kafka/schema.ts'
import {
  encodeResponse, kafkaJs, type KafkaJsRequest, readKafkaJsBody,
} from './kafkajs-oracle.ts'

async function decodeWithKafkaJs(path: string, raw: Buffer): Promise<Record<string, unknown>> {
  const { decode } = kafkaJs<{ decode(raw: Buffer): Promise<Record<string, unknown>> }>(
    `${path}/response`)
  return decode(raw)
}

/** One API version: KafkaJS's request arguments, what Weir reads, what Weir answers, and what
 * KafkaJS must decode from it. */
interface GoldenCase {
  readonly api: string
  readonly apiKey: number
  readonly versions: readonly number[]
  readonly args: (version: number) => object
  readonly read: (version: number) => object
  readonly response: object
  readonly decoded: (version: number) => object
}

const metadata = Buffer.from('0000000000010002' + '6b74' + '00000000', 'hex')
const assignment = Buffer.from('0000000000010006' + '6f7264657273' + '0000000100000002'
  + '00000000', 'hex')
const since = (version: number, first: number, fields: object): object =>
  version >= first ? fields : {}

const cases: GoldenCase[] = [
  { api: 'findCoordinator', apiKey: 10, versions: [0, 1, 2],
    args: v => v === 0 ? { groupId: 'g' } : { coordinatorKey: 'tx', coordinatorType: 1 },
    read: v => v === 0 ? { key: 'g' } : { key: 'tx', keyType: 1 },
    response: { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 0,
      host: '127.0.0.1', port: 19092 },
    decoded: v => ({ errorCode: 0, coordinator: { nodeId: 0, host: '127.0.0.1', port: 19092 },
      ...since(v, 1, { errorMessage: null }) }) },
  { api: 'joinGroup', apiKey: 11, versions: [0, 1, 2, 3, 4, 5],
    args: () => ({ groupId: 'g', sessionTimeout: 30000, rebalanceTimeout: 60000, memberId: '',
      groupInstanceId: null, protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata }, { name: 'empty' }] }),
    read: v => ({ groupId: 'g', sessionTimeoutMs: 30000,
      ...since(v, 1, { rebalanceTimeoutMs: 60000 }), memberId: '',
      ...since(v, 5, { groupInstanceId: null }), protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata }, { name: 'empty',
        metadata: Buffer.alloc(0) }] }),
    response: { throttleTimeMs: 0, errorCode: 0, generationId: 3,
      protocolName: 'RoundRobinAssigner', leader: 'm1', memberId: 'm2',
      members: [{ memberId: 'm1', groupInstanceId: 'i1', metadata },
        { memberId: 'm2', groupInstanceId: null, metadata: Buffer.alloc(0) }] },
    decoded: v => ({ errorCode: 0, generationId: 3, groupProtocol: 'RoundRobinAssigner',
      leaderId: 'm1', memberId: 'm2',
      members: [{ memberId: 'm1', memberMetadata: metadata, ...since(v, 5,
        { groupInstanceId: 'i1' }) }, { memberId: 'm2', memberMetadata: Buffer.alloc(0),
        ...since(v, 5, { groupInstanceId: null }) }] }) },
  { api: 'syncGroup', apiKey: 14, versions: [0, 1, 2, 3],
    args: () => ({ groupId: 'g', generationId: 3, memberId: 'm1', groupInstanceId: null,
      groupAssignment: [{ memberId: 'm1', memberAssignment: assignment },
        { memberId: 'm2', memberAssignment: Buffer.alloc(0) }] }),
    read: v => ({ groupId: 'g', generationId: 3, memberId: 'm1',
      ...since(v, 3, { groupInstanceId: null }),
      assignments: [{ memberId: 'm1', assignment }, { memberId: 'm2',
        assignment: Buffer.alloc(0) }] }),
    response: { throttleTimeMs: 0, errorCode: 0, assignment },
    decoded: () => ({ errorCode: 0, memberAssignment: assignment }) },
  { api: 'heartbeat', apiKey: 12, versions: [0, 1, 2, 3],
    args: () => ({ groupId: 'g', groupGenerationId: 3, memberId: 'm1', groupInstanceId: 'i1' }),
    read: v => ({ groupId: 'g', generationId: 3, memberId: 'm1',
      ...since(v, 3, { groupInstanceId: 'i1' }) }),
    response: { throttleTimeMs: 0, errorCode: 27 },
    decoded: () => ({ errorCode: 27 }) },
  { api: 'leaveGroup', apiKey: 13, versions: [0, 1, 2, 3],
    args: () => ({ groupId: 'g', memberId: 'm1',
      members: [{ memberId: 'm1' }, { memberId: '', groupInstanceId: 'i2' }] }),
    read: v => v < 3 ? { groupId: 'g', memberId: 'm1' } : { groupId: 'g',
      members: [{ memberId: 'm1', groupInstanceId: null },
        { memberId: '', groupInstanceId: 'i2' }] },
    response: { throttleTimeMs: 0, errorCode: 0, members: [
      { memberId: 'm1', groupInstanceId: null, errorCode: 0 },
      { memberId: '', groupInstanceId: 'i2', errorCode: 25 }] },
    decoded: v => ({ errorCode: 0, ...since(v, 3, { members: [
      { memberId: 'm1', groupInstanceId: null, errorCode: 0 },
      { memberId: '', groupInstanceId: 'i2', errorCode: 25 }] }) }) },
  { api: 'offsetCommit', apiKey: 8, versions: [2, 3, 4, 5],
    args: () => ({ groupId: 'g', groupGenerationId: -1, memberId: '', retentionTime: -1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '42' },
        { partition: 1, offset: '9007199254740991', metadata: 'ünï' }] }] }),
    read: v => ({ groupId: 'g', generationId: -1, memberId: '',
      ...(v < 5 ? { retentionTimeMs: -1 } : {}),
      topics: [{ name: 'orders', partitions: [
        { partitionIndex: 0, committedOffset: 42, committedMetadata: null },
        { partitionIndex: 1, committedOffset: Number.MAX_SAFE_INTEGER,
          committedMetadata: 'ünï' }] }] }),
    response: { throttleTimeMs: 0, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 3 }] }] },
    decoded: () => ({ responses: [{ topic: 'orders', partitions: [
      { partition: 0, errorCode: 0 }, { partition: 1, errorCode: 3 }] }] }) },
  { api: 'offsetFetch', apiKey: 9, versions: [1, 2, 3, 4],
    args: () => ({ groupId: 'g', topics: [{ topic: 'orders',
      partitions: [{ partition: 0 }, { partition: 1 }] }] }),
    read: () => ({ groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1] }] }),
    response: { throttleTimeMs: 0, errorCode: 0, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, committedOffset: 42, metadata: 'm', errorCode: 0 },
      { partitionIndex: 1, committedOffset: -1, metadata: '', errorCode: 0 }] }] },
    decoded: v => ({ responses: [{ topic: 'orders', partitions: [
      { partition: 0, offset: '42', metadata: 'm', errorCode: 0 },
      { partition: 1, offset: '-1', metadata: '', errorCode: 0 }] }],
    ...since(v, 2, { errorCode: 0 }) }) },
  { api: 'describeGroups', apiKey: 15, versions: [0, 1, 2],
    args: () => ({ groupIds: ['g', 'missing'] }),
    read: () => ({ groups: ['g', 'missing'] }),
    response: { throttleTimeMs: 0, groups: [
      { errorCode: 0, groupId: 'g', groupState: 'Stable', protocolType: 'consumer',
        protocolData: 'RoundRobinAssigner', members: [{ memberId: 'm1', clientId: 'c',
          clientHost: '', memberMetadata: metadata, memberAssignment: assignment }] },
      { errorCode: 0, groupId: 'missing', groupState: 'Dead', protocolType: '',
        protocolData: '', members: [] }] },
    decoded: () => ({ groups: [
      { errorCode: 0, groupId: 'g', state: 'Stable', protocolType: 'consumer',
        protocol: 'RoundRobinAssigner', members: [{ memberId: 'm1', clientId: 'c',
          clientHost: '', memberMetadata: metadata, memberAssignment: assignment }] },
      { errorCode: 0, groupId: 'missing', state: 'Dead', protocolType: '', protocol: '',
        members: [] }] }) },
  { api: 'listGroups', apiKey: 16, versions: [0, 1, 2],
    args: () => ({}),
    read: () => ({}),
    response: { throttleTimeMs: 0, errorCode: 0, groups: [{ groupId: 'g',
      protocolType: 'consumer' }, { groupId: 'offsets-only', protocolType: '' }] },
    decoded: () => ({ errorCode: 0, groups: [{ groupId: 'g', protocolType: 'consumer' },
      { groupId: 'offsets-only', protocolType: '' }] }) },
]

describe('group API schemas against KafkaJS 2.2.4', () => {
  for (const golden of cases) {
    it(`${golden.api} v${golden.versions.join(', v')}: KafkaJS requests read exactly; `
      + 'KafkaJS decodes our responses', async () => {
      for (const version of golden.versions) {
        const path = `${golden.api}/v${version}`
        const request = kafkaJs<(args: object) => KafkaJsRequest>(`${path}/request`)(
          golden.args(version))
        expect(request.apiKey).toBe(golden.apiKey)
        expect(request.apiVersion).toBe(version)
        expect(await readKafkaJsBody(request), path).toEqual(golden.read(version))
        const decoded = await decodeWithKafkaJs(path,
          encodeResponse(golden.apiKey, version, golden.response))
        expect(decoded, path).toMatchObject(golden.decoded(version))
      }
    })
  }

  it('every group schema is covered here or in flexible-golden, and the advertised ranges are '
    + 'Profile A with OffsetFetch up to v7 (KIP-447 require_stable)', () => {
    const covered = new Set(cases.flatMap(golden =>
      golden.versions.map(version => `${golden.apiKey}/${version}`)))
    // OffsetFetch v5–7 are beyond KafkaJS: flexible-golden.test.ts checks them.
    const beyondKafkaJs = ['9/5', '9/6', '9/7']
    expect(groupApis.map(api => `${api.apiKey}/${api.version}`)
      .filter(key => !beyondKafkaJs.includes(key)).sort()).toEqual([...covered].sort())
    expect(groupApis.filter(api => api.request.flexible || api.response.flexible)
      .map(api => `${api.apiKey}/${api.version}`)).toEqual(['9/6', '9/7'])
    const ranges = advertisedVersions().filter(range => range.apiKey >= 8 && range.apiKey <= 16)
    expect(ranges).toEqual([
      { apiKey: 8, minVersion: 2, maxVersion: 5 }, { apiKey: 9, minVersion: 1, maxVersion: 7 },
      { apiKey: 10, minVersion: 0, maxVersion: 2 }, { apiKey: 11, minVersion: 0, maxVersion: 5 },
      { apiKey: 12, minVersion: 0, maxVersion: 3 }, { apiKey: 13, minVersion: 0, maxVersion: 3 },
      { apiKey: 14, minVersion: 0, maxVersion: 3 }, { apiKey: 15, minVersion: 0, maxVersion: 2 },
      { apiKey: 16, minVersion: 0, maxVersion: 2 }])
  })

  it('golden bytes: FindCoordinator v2 and LeaveGroup v3 responses, an OffsetFetch v3 request '
    + 'with null topics', () => {
    expect(encodeResponse(10, 2, { throttleTimeMs: 0, errorCode: 0, errorMessage: null,
      nodeId: 0, host: 'h', port: 9092 }).toString('hex')).toBe('00000000' + '0000' + 'ffff'
      + '00000000' + '0001' + '68' + '00002384')
    expect(encodeResponse(13, 3, { throttleTimeMs: 0, errorCode: 0, members: [
      { memberId: 'm', groupInstanceId: null, errorCode: 25 }] }).toString('hex'))
      .toBe('00000000' + '0000' + '00000001' + '0001' + '6d' + 'ffff' + '0019')
    const frame = Buffer.from('0009' + '0003' + '00000005' + 'ffff' + '0001' + '67'
      + 'ffffffff', 'hex')
    const reader = new FrameReader(frame)
    expect(readRequestHeader(reader, false)).toEqual({ apiKey: 9, apiVersion: 3,
      correlationId: 5, clientId: null })
    expect(readMessage(reader, schemaFor(9, 3)!.request)).toEqual({ groupId: 'g', topics: null })
    // v1 topics are not nullable: a null array is malformed there.
    const v1 = new FrameReader(frame, 10)
    expect(() => readMessage(v1, schemaFor(9, 1)!.request)).toThrow(/null/)
  })
})
