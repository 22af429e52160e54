/**
 * Valid request bodies for the server's fuzz properties, the seeds their mutations start from:
 * one JSON body for every JSON POST/PUT endpoint, a produce body of two batches and a fetch body
 * (protobuf, built with the real encoders), and stream subscriptions. They name the topics of
 * test/server/produce-defects.ts, `grow`, the groups `fz-stable` (one member, protocol type
 * 'consumer') and `fz-commit` (offsets only), which fuzz.test.ts sets up.
 */
import { encodeBatch } from '../../src/log/record-batch.ts'
import {
  encodeFetchRequest, encodeProduceRequest, encodeStreamFetchRequest,
} from '../../src/protocol/weir-proto.ts'
import type { Json } from './body-mutations.ts'
import { TIMESTAMP } from './produce-defects.ts'

/** Only the add-partitions seed names it (a mutated count may grow it). */
export const GROW = { topic: 'grow', partitions: 1 }

export interface Endpoint {
  readonly method: 'POST' | 'PUT'
  readonly path: string
}

export interface JsonSeed extends Endpoint {
  readonly body: Json
}

const txn = { transactionalId: 'fz-txn', producerId: 1, producerEpoch: 0 }

/**
 * A valid body for every JSON endpoint. Each is answered at once: a 2xx, or a 4xx from the
 * broker's state (the topic exists, no such transactional id or member). The join names the
 * stable group `fz-stable` with another protocol type, so it is refused before it could start a
 * rebalance; its timeouts are the smallest allowed, so even a mutated join is short.
 */
export const JSON_SEEDS: readonly JsonSeed[] = [
  { method: 'POST', path: '/v1/topics', body: { topics: [{ topic: 'a', partitions: 3,
    config: { retentionMs: 60_000, cleanupPolicy: 'delete', flush: { intervalMs: 100 } } }] } },
  { method: 'POST', path: '/v1/topics/describe', body: { topics: ['a', 'b'] } },
  { method: 'POST', path: '/v1/topics/delete', body: { topics: ['fz-absent'] } },
  { method: 'POST', path: '/v1/topics/grow/partitions', body: { count: 1 } },
  { method: 'POST', path: '/v1/offsets/list', body: { requests: [
    { topic: 'a', partition: 0, spec: 'latest', isolationLevel: 'read_committed' },
    { topic: 'b', partition: 1, spec: { timestamp: 0 } }] } },
  { method: 'POST', path: '/v1/producers/init', body: { transactionTimeoutMs: 60_000 } },
  { method: 'POST', path: '/v1/transactions/add-partitions',
    body: { ...txn, partitions: [{ topic: 'a', partition: 0 }] } },
  { method: 'POST', path: '/v1/transactions/add-offsets', body: { ...txn, groupId: 'fz-commit' } },
  { method: 'POST', path: '/v1/transactions/commit-offsets', body: { ...txn, groupId: 'fz-commit',
    generationId: -1, memberId: '', offsets: [{ topic: 'a', partition: 0, offset: 0,
      metadata: 'm' }] } },
  { method: 'POST', path: '/v1/transactions/end', body: { ...txn, commit: true } },
  { method: 'POST', path: '/v1/transactions/describe', body: { transactionalIds: ['fz-txn'] } },
  { method: 'POST', path: '/v1/groups/join', body: { groupId: 'fz-stable', memberId: '',
    groupInstanceId: 'fz-instance', clientId: 'fz', sessionTimeoutMs: 100,
    rebalanceTimeoutMs: 100, protocolType: 'connect',
    protocols: [{ name: 'other', metadata: 'AAEC' }] } },
  { method: 'POST', path: '/v1/groups/sync', body: { groupId: 'fz-stable', generationId: 1,
    memberId: 'fz-nobody', assignments: [{ memberId: 'fz-nobody', assignment: 'AAEC' }] } },
  { method: 'POST', path: '/v1/groups/heartbeat', body: { groupId: 'fz-stable', generationId: 1,
    memberId: 'fz-nobody', groupInstanceId: 'fz-instance' } },
  { method: 'POST', path: '/v1/groups/leave', body: { groupId: 'fz-stable',
    members: [{ memberId: 'fz-nobody' }] } },
  { method: 'POST', path: '/v1/groups/offsets/commit', body: { groupId: 'fz-commit',
    generationId: -1, memberId: '', offsets: [{ topic: 'a', partition: 0, offset: 0,
      metadata: '' }] } },
  { method: 'POST', path: '/v1/groups/offsets/fetch', body: { groupId: 'fz-commit',
    partitions: [{ topic: 'a', partition: 0 }], requireStable: true } },
  { method: 'PUT', path: '/v1/groups/fz-commit/offsets',
    body: { offsets: [{ topic: 'a', partition: 1, offset: 0 }] } },
  { method: 'POST', path: '/v1/groups/delete', body: { groupIds: ['fz-absent'] } },
]

export const PRODUCE: Endpoint = { method: 'POST', path: '/v1/produce' }
export const FETCH: Endpoint = { method: 'POST', path: '/v1/fetch' }
export const ENDPOINTS: readonly Endpoint[] = [...JSON_SEEDS, PRODUCE, FETCH]

const bytesOf = (text: string): Buffer => Buffer.from(text)

/** A valid produce body: two batches, one with keys and headers. */
export const PRODUCE_SEED = encodeProduceRequest({ acks: 'all', partitions: [
  { topic: 'a', partition: 0, batch: encodeBatch([{ value: bytesOf('v0') },
    { value: null, key: bytesOf('k') }], { timestamp: TIMESTAMP }) },
  { topic: 'b', partition: 1, batch: encodeBatch([
    { key: bytesOf('k1'), value: bytesOf('one'), headers: [{ key: 'h', value: bytesOf('x') }] },
    { key: null, value: bytesOf('two'), timestamp: TIMESTAMP + 5 },
    { key: bytesOf('k3'), value: bytesOf('three') }], { timestamp: TIMESTAMP }) }] })

export const FETCH_SEED = encodeFetchRequest({ partitions: [
  { topic: 'a', partition: 0, offset: 0, maxBytes: 4096 }, { topic: 'b', partition: 1, offset: 0 }],
isolationLevel: 'read_committed', maxWaitMs: 10, minBytes: 1, maxBytes: 8192 })

export const GROW_FROM_START = encodeStreamFetchRequest({ partitions: [{ topic: GROW.topic,
  partition: 0, offset: 0 }], isolationLevel: 'read_uncommitted' })
export const A0_FROM_START = encodeStreamFetchRequest({ partitions: [{ topic: 'a', partition: 0,
  offset: 0 }], isolationLevel: 'read_uncommitted' })

/** Repeated message fields parsed one level down: ProduceRequest 2, Fetch/StreamFetch 1. */
export const NESTED = { produce: new Set([2]), fetch: new Set([1]) }
