/**
 * Goal (issue 9): records written with Weir's own producer are read through the listener's
 * Fetch exactly as a KafkaJS 2.2.4 consumer would read them. Method: an embedded broker in a
 * temp dir, the listener on 127.0.0.1:0, and KafkaJS's own Fetch request encoders and response
 * decoders over a raw socket (a KafkaJS consumer needs the group APIs, tested elsewhere), with
 * KafkaJS's consumer-side filters (filterAbortedMessages, control records) applied to the
 * result. Covered:
 * - every served version (4–11) returns identical keys, values, headers, timestamps, offsets;
 * - read_committed drops an aborted Weir transaction (sorted aborted list) and holds back at
 *   the last stable offset while a transaction is open; read_uncommitted sees everything;
 *   ListOffsets latest is the LSO under read_committed, the high watermark otherwise;
 * - long poll: woken by an append, answered empty at max_wait_ms;
 * - OFFSET_OUT_OF_RANGE past the high watermark, UNKNOWN_TOPIC_OR_PARTITION beside a good
 *   partition, FETCH_SESSION_ID_NOT_FOUND for a session Weir never made, KIP-74's whole first
 *   batch under a 1-byte limit, and a malformed Fetch closing only its connection.
 */
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'
import { kafkaJs, kafkaJsFrame, type KafkaJsRequest } from './kafkajs-oracle.ts'

const require = createRequire(import.meta.url)
interface Message {
  offset: string
  key: Buffer | null
  value: Buffer | null
  timestamp: string
  headers: Record<string, Buffer>
  isControlRecord?: boolean
}
type Filter = (options: { messages: Message[], abortedTransactions: unknown[] }) => Message[]
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as Filter

const closes: string[] = []
const world = listenerWorld('weir-kafka-fetch-', {
  topics: [{ topic: 'f', partitions: 2 }, { topic: 'txn' }, { topic: 'open' }, { topic: 'poll' }],
  listener: { onConnectionClosed: reason => closes.push(reason) },
})
let socket: Socket
let replies: ReturnType<typeof responses>
let correlationId = 0

beforeAll(async () => {
  socket = await open(world.listener.port)
  replies = responses(socket)
})

afterAll(() => {
  socket.destroy()
})

interface FetchOptions {
  version?: number
  isolationLevel?: number
  maxWaitTime?: number
  maxBytes?: number
  sessionId?: number
  partitions: Array<{ topic: string, partition: number, fetchOffset: number, maxBytes?: number }>
}

interface DecodedPartition {
  partition: number
  errorCode: number
  highWatermark: string
  lastStableOffset: string
  lastStartOffset?: string
  abortedTransactions: Array<{ producerId: string, firstOffset: string }>
  messages: Message[]
}

/** One Fetch through the listener, encoded and decoded by KafkaJS, on the shared connection. */
async function fetch(options: FetchOptions):
Promise<{ errorCode?: number, sessionId?: number, partitions: DecodedPartition[] }> {
  const version = options.version ?? 11
  const topics = [...new Set(options.partitions.map(p => p.topic))].map(topic => ({ topic,
    partitions: options.partitions.filter(p => p.topic === topic).map(p => ({
      partition: p.partition, fetchOffset: String(p.fetchOffset),
      maxBytes: p.maxBytes ?? 1024 * 1024 })) }))
  const request = kafkaJs<(o: object) => KafkaJsRequest>(`fetch/v${version}/request`)({
    replicaId: -1, maxWaitTime: options.maxWaitTime ?? 0, minBytes: 1,
    maxBytes: options.maxBytes ?? 10 * 1024 * 1024, isolationLevel: options.isolationLevel ?? 1,
    sessionId: options.sessionId ?? 0, topics })
  const id = ++correlationId
  socket.write(await kafkaJsFrame(request, id))
  const frame = (await replies.frames(id)).at(-1)!
  expect(frame.readInt32BE(0)).toBe(id)
  const { decode } = kafkaJs<{ decode(raw: Buffer): Promise<unknown> }>(
    `fetch/v${version}/response`)
  const decoded = await decode(frame.subarray(4)) as { errorCode?: number, sessionId?: number,
    responses: Array<{ partitions: DecodedPartition[] }> }
  return { ...decoded, partitions: decoded.responses.flatMap(r => r.partitions) }
}

/** What a KafkaJS consumer hands the application: aborted and control records dropped. */
function consumed(partition: DecodedPartition): string[] {
  return filterAbortedMessages({ messages: partition.messages,
    abortedTransactions: partition.abortedTransactions })
    .filter(message => message.isControlRecord !== true)
    .map(message => `${message.offset}:${message.value?.toString() ?? 'null'}`)
}

const base = 1_700_000_000_000
const sent = Array.from({ length: 12 }, (_, i) => ({
  key: i % 4 === 0 ? null : `key-${i}`, value: i === 5 ? null : `value-${i}`,
  headers: i % 2 === 0 ? { trace: `t${i}` } : undefined, timestamp: base + i, partition: i % 2,
}))

describe('Fetch over the Kafka listener', () => {
  it('returns what Weir\'s producer wrote, identical, in every version 4–11', async () => {
    const producer = world.weir.producer()
    await producer.send({ topic: 'f', messages: sent })
    for (let version = 4; version <= 11; version++) {
      for (const isolationLevel of [0, 1]) {
        const { partitions } = await fetch({ version, isolationLevel, partitions: [
          { topic: 'f', partition: 0, fetchOffset: 0 }, { topic: 'f', partition: 1,
            fetchOffset: 2 }] })
        expect(partitions.map(p => [p.partition, p.errorCode, p.highWatermark,
          p.lastStableOffset])).toEqual([[0, 0, '6', '6'], [1, 0, '6', '6']])
        if (version >= 5) expect(partitions.map(p => p.lastStartOffset)).toEqual(['0', '0'])
        const got = partitions.flatMap(p => p.messages
          .filter(m => Number(m.offset) >= (p.partition === 1 ? 2 : 0)).map(m => ({
            key: m.key?.toString() ?? null, value: m.value?.toString() ?? null,
            headers: Object.keys(m.headers).length === 0 ? undefined
              : { trace: m.headers.trace!.toString() },
            timestamp: Number(m.timestamp), partition: p.partition })))
        expect(got).toEqual([...sent.filter(m => m.partition === 0),
          ...sent.filter(m => m.partition === 1).slice(2)])
      }
    }
  })

  it('read_committed drops an aborted transaction; read_uncommitted keeps it', async () => {
    const plain = world.weir.producer()
    const transactional = world.weir.producer({ transactionalId: 'fetch-tx' })
    await transactional.initTransactions()
    await plain.send({ topic: 'txn', messages: [{ value: 'a' }] })
    for (const [values, commit] of [[['c1', 'c2'], true], [['x1', 'x2'], false],
      [['c3'], true], [['x3'], false]] as const) {
      transactional.beginTransaction()
      await transactional.send({ topic: 'txn', messages: values.map(value => ({ value })) })
      if (commit) await transactional.commitTransaction()
      else await transactional.abortTransaction()
    }
    await highWatermarkReaches('txn', 11) // the last abort marker has landed, at 10
    await plain.send({ topic: 'txn', messages: [{ value: 'b' }] })
    const [committed] = (await fetch({ isolationLevel: 1, partitions: [{ topic: 'txn',
      partition: 0, fetchOffset: 0 }] })).partitions
    const producerId = String(transactional.producerId)
    expect(committed!.abortedTransactions).toEqual([{ producerId, firstOffset: '4' },
      { producerId, firstOffset: '9' }])
    expect(committed!.lastStableOffset).toBe(committed!.highWatermark)
    expect(consumed(committed!)).toEqual(['0:a', '1:c1', '2:c2', '7:c3', '11:b'])
    const [uncommitted] = (await fetch({ isolationLevel: 0, partitions: [{ topic: 'txn',
      partition: 0, fetchOffset: 0 }] })).partitions
    expect(uncommitted!.abortedTransactions).toEqual([]) // null on the wire: KafkaJS says []
    expect(consumed(uncommitted!)).toEqual(['0:a', '1:c1', '2:c2', '4:x1', '5:x2', '7:c3',
      '9:x3', '11:b'])
  })

  it('an open transaction holds read_committed back at the LSO, also in ListOffsets',
    async () => {
      const plain = world.weir.producer()
      const transactional = world.weir.producer({ transactionalId: 'open-tx' })
      await transactional.initTransactions()
      await plain.send({ topic: 'open', messages: [{ value: 'before' }] })
      transactional.beginTransaction()
      await transactional.send({ topic: 'open', messages: [{ value: 'undecided' }] })
      await plain.send({ topic: 'open', messages: [{ value: 'after' }] })
      const ask = { partitions: [{ topic: 'open', partition: 0, fetchOffset: 0 }] }
      const [held] = (await fetch({ ...ask, isolationLevel: 1 })).partitions
      expect([held!.highWatermark, held!.lastStableOffset]).toEqual(['3', '1'])
      expect(consumed(held!)).toEqual(['0:before'])
      const [all] = (await fetch({ ...ask, isolationLevel: 0 })).partitions
      expect(consumed(all!)).toEqual(['0:before', '1:undecided', '2:after'])
      expect(await latest(1)).toBe(1)
      expect(await latest(0)).toBe(3)
      await transactional.abortTransaction()
      await highWatermarkReaches('open', 4) // the abort marker, written after the decision
      const [after] = (await fetch({ ...ask, isolationLevel: 1 })).partitions
      expect(after!.lastStableOffset).toBe(after!.highWatermark)
      expect(consumed(after!)).toEqual(['0:before', '2:after'])
      expect(await latest(1)).toBe(4)
    })

  it('a long poll is woken by an append, and answered empty at max_wait_ms', async () => {
    const waiting = fetch({ maxWaitTime: 20_000, partitions: [{ topic: 'poll', partition: 0,
      fetchOffset: 0 }] })
    await world.weir.producer().send({ topic: 'poll', messages: [{ value: 'wake' }] })
    expect(consumed((await waiting).partitions[0]!)).toEqual(['0:wake'])
    const empty = await fetch({ maxWaitTime: 50, partitions: [{ topic: 'poll', partition: 0,
      fetchOffset: 1 }] })
    expect(empty.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: '1', messages: [] })
  })

  it('answers errors per partition, refuses sessions, returns one whole batch past limits',
    async () => {
      const { partitions } = await fetch({ partitions: [{ topic: 'f', partition: 0,
        fetchOffset: 99 }, { topic: 'f', partition: 5, fetchOffset: 0 }, { topic: 'gone',
        partition: 0, fetchOffset: 0 }, { topic: 'f', partition: 1, fetchOffset: 0 }] })
      // Topics in request order ('f' then 'gone'), partitions as asked within each.
      expect(partitions.map(p => [p.partition, p.errorCode])).toEqual([[0, 1], [5, 3], [1, 0],
        [0, 3]])
      expect(await fetch({ sessionId: 5, partitions: [] })).toMatchObject({ errorCode: 70,
        sessionId: 0 })
      const [limited] = (await fetch({ maxBytes: 1, partitions: [{ topic: 'f', partition: 0,
        fetchOffset: 0, maxBytes: 1 }] })).partitions
      expect(limited!.messages.map(m => m.offset)).toEqual(['0', '1', '2', '3', '4', '5'])
    })

  it('a malformed Fetch closes its connection; the listener serves the next', async () => {
    const frame = requestFrame(1, 11, 1, { replicaId: -1, maxWaitMs: 0, minBytes: 1,
      maxBytes: 100, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [],
      forgottenTopicsData: [], rackId: '' })
    const truncated = Buffer.from(frame.subarray(0, frame.length - 3))
    truncated.writeInt32BE(truncated.length - 4)
    const absurd = Buffer.from(frame)
    absurd.writeInt32BE(0x7fffffff, absurd.length - 2 - 8) // the topics count
    for (const bad of [truncated, absurd]) {
      const other = await open(world.listener.port)
      const otherReplies = responses(other)
      other.write(bad)
      expect(await otherReplies.closed()).toEqual({ frames: 0, partial: 0 })
    }
    expect(closes).toHaveLength(2)
    expect((await fetch({ partitions: [] })).errorCode).toBe(0)
  })
})

/**
 * Waits (long polls on Weir's transport, woken by appends) until a partition's high watermark
 * reaches `offset`: transaction markers are written after the decision is acknowledged.
 */
async function highWatermarkReaches(topic: string, offset: number): Promise<void> {
  for (let polls = 0; polls < 20; polls++) {
    const [state] = await world.weir.transport.describeTopics([topic])
    const highWatermark = state!.partitionStates[0]!.highWatermark
    if (highWatermark >= offset) return
    await world.weir.transport.fetch({ partitions: [{ topic, partition: 0, offset: highWatermark }],
      maxWaitMs: 5000 })
  }
  throw new Error(`${topic} did not reach offset ${offset}`)
}

/** ListOffsets v3 "latest" for topic 'open' through the listener. */
async function latest(isolationLevel: number): Promise<number> {
  const id = ++correlationId
  socket.write(requestFrame(2, 3, id, { replicaId: -1, isolationLevel, topics: [{ name: 'open',
    partitions: [{ partitionIndex: 0, timestamp: -1 }] }] }))
  const frame = (await replies.frames(id)).at(-1)!
  const { value } = body(frame, 2, 3)
  const topics = value.topics as Array<{ partitions: Array<{ offset: number }> }>
  return topics[0]!.partitions[0]!.offset
}
