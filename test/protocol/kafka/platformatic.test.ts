/**
 * Goal: @platformatic/kafka 2.12.1, a third real client (besides KafkaJS and kcat), runs
 * unchanged on Weir through the Kafka listener: its idempotent producer, a consumer group of two
 * of its consumers with manual commits, and a later member of that group resuming from the
 * committed offsets.
 * Method: an embedded Weir with the listener on 127.0.0.1:0 (listenerWorld) and two 4-partition
 * topics ('produced' for the producer test, 'orders' for the group tests). The client is loaded
 * after the Promise.withResolvers polyfill (it declares Node >= 22.22 and calls it unguarded;
 * Weir runs on Node 20) and used with string serialisers and explicit partitions. Produced
 * records are read back with Weir's own transport (not the listener) and compared field by field
 * (key, value, headers, timestamp); consumed records are compared with what was sent, and the
 * offsets the consumers commit are read with Weir's admin. The group's records are produced once
 * Weir shows the group Stable with both members, so no rebalance can excuse a duplicate. Waiting
 * is a bounded poll of a condition (Weir's group state, the records seen, the committed offsets)
 * that fails naming what it waited for, never a sleep in place of a check.
 */
import './promise-with-resolvers.ts'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka'
import { afterAll, describe, expect, it } from 'vitest'
import { forEachBatch, readBatchHeader } from '../../../src/log/record-batch.ts'
import { listenerWorld } from './kafka-wire.ts'
import { readWithWeir } from './kafkajs-oracle.ts'

// Loaded only now: static imports are evaluated first, so the polyfill is in place before the
// client's modules run.
const kafka = await import('@platformatic/kafka')

const PARTITIONS = 4
const world = listenerWorld('weir-platformatic-', {
  // Joins within 300 ms land in one generation (as Kafka's group.initial.rebalance.delay.ms).
  weir: { group: { initialRebalanceDelayMs: 300 } },
  topics: [{ topic: 'produced', partitions: PARTITIONS },
    { topic: 'orders', partitions: PARTITIONS }],
})

/**
 * The (API key, version) of every request the client sends, from its diagnostics channel
 * (platformatic publishes each request's context on `plt:kafka:connections:api`).
 */
const requests: Array<readonly [number, number]> = []
const API_START = 'tracing:plt:kafka:connections:api:start'
function onRequest(message: unknown): void {
  const { apiKey, apiVersion } = message as { apiKey?: unknown, apiVersion?: unknown }
  if (typeof apiKey === 'number' && typeof apiVersion === 'number') {
    requests.push([apiKey, apiVersion])
  }
}
subscribe(API_START, onRequest)
afterAll(() => { unsubscribe(API_START, onRequest) })

function apiKeysSentSince(mark: number): number[] {
  return [...new Set(requests.slice(mark).map(([apiKey]) => apiKey))].sort((a, b) => a - b)
}

/** A record as sent and as it must come back; `key: null` is sent without a key. */
interface Rec {
  readonly partition: number
  readonly key: string | null
  readonly value: string
  readonly headers: Readonly<Record<string, string>>
  readonly timestamp: number
}

const BASE_TIMESTAMP = 1_700_000_000_000

function records(tag: string, count: number): Rec[] {
  return Array.from({ length: count }, (_, i): Rec => ({
    partition: i % PARTITIONS,
    key: i % 5 === 3 ? null : `${tag}-key-${i}`,
    value: `${tag}-value-${i}-ü-${'x'.repeat(i * 7)}`,
    headers: i % 3 === 0 ? {} : { trace: `${tag}-t${i}`, 'ünï': `h${i % 2}` },
    timestamp: BASE_TIMESTAMP + i * 1000,
  }))
}

function brokers(): string[] {
  return [`127.0.0.1:${world.listener.port}`]
}

type StringProducer = InstanceType<typeof kafka.Producer<string, string, string, string>>
type StringConsumer = Consumer<string, string, string, string>
type StringMessage = Message<string, string, string, string>

function producer(clientId: string): StringProducer {
  return new kafka.Producer({ clientId, bootstrapBrokers: brokers(), idempotent: true,
    serializers: kafka.stringSerializers })
}

async function send(client: StringProducer, topic: string, batch: readonly Rec[]) {
  return client.send({ messages: batch.map(rec => ({ topic, partition: rec.partition,
    key: rec.key ?? undefined, value: rec.value, headers: rec.headers,
    timestamp: BigInt(rec.timestamp) })) })
}

/** A partition's records below `end` as Weir itself stores them, in the shape of `Rec`. */
async function storedByWeir(topic: string, partition: number, end: number): Promise<Rec[]> {
  return (await readWithWeir(world.weir.transport, topic, partition, end)).map(record => ({
    partition,
    key: record.key?.toString() ?? null,
    value: record.value?.toString() ?? '<null>',
    headers: Object.fromEntries(record.headers.map(h => [h.key, h.value?.toString() ?? '<null>'])),
    timestamp: record.timestamp,
  }))
}

function received(message: StringMessage): Rec & { readonly offset: number } {
  return { partition: message.partition, key: message.key ?? null, value: message.value,
    headers: Object.fromEntries(message.headers), timestamp: Number(message.timestamp),
    offset: Number(message.offset) }
}

async function until(condition: () => boolean | Promise<boolean>, what: string,
  state: () => unknown = () => undefined, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state: `
        + JSON.stringify(state()))
    }
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Per partition, how many of `batch` it holds. */
function perPartition(batch: readonly Rec[]): number[] {
  return Array.from({ length: PARTITIONS }, (_, p) => batch.filter(r => r.partition === p).length)
}

function byPosition(a: { partition: number, offset: number }, b: typeof a): number {
  return a.partition - b.partition || a.offset - b.offset
}

/** The group's committed offsets on 'orders' by partition (-1: none), from Weir's admin. */
async function committed(groupId: string): Promise<number[]> {
  const offsets = await world.weir.admin().fetchOffsets(groupId)
  return Array.from({ length: PARTITIONS }, (_, p) =>
    offsets.find(o => o.topic === 'orders' && o.partition === p)?.offset ?? -1)
}

async function untilCommitted(groupId: string, ends: readonly number[]): Promise<void> {
  let last: number[] = []
  await until(async () => (last = await committed(groupId)).join() === ends.join(),
    `group ${groupId}'s commits at ${ends.join()}`, () => last)
}

/** A group member: its consumer, its stream, what it read and any error it reported. */
interface Member {
  readonly consumer: StringConsumer
  readonly stream: MessagesStream<string, string, string, string>
  readonly seen: Array<Rec & { readonly offset: number }>
  readonly errors: Error[]
}

/**
 * A platformatic consumer of group `groupId` on 'orders', as a user resuming a group would run
 * it: mode 'committed' (OffsetFetch), 'earliest' when the group has no offset yet, no
 * autocommit: each message is committed once it has been handled.
 */
async function join(groupId: string, clientId: string): Promise<Member> {
  const consumer: StringConsumer = new kafka.Consumer({ clientId, groupId,
    bootstrapBrokers: brokers(), deserializers: kafka.stringDeserializers,
    sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 200, maxWaitTime: 200 })
  const errors: Error[] = []
  consumer.on('error', (error: Error) => errors.push(error))
  const stream = await consumer.consume({ topics: ['orders'], mode: 'committed',
    fallbackMode: 'earliest', autocommit: false })
  const seen: Member['seen'] = []
  stream.on('error', error => errors.push(error))
  stream.on('data', message => {
    seen.push(received(message))
    void message.commit(error => {
      if (error !== undefined && error !== null) errors.push(error)
    })
  })
  return { consumer, stream, seen, errors }
}

async function leave(member: Member): Promise<void> {
  await member.stream.close() // sends the commits still queued
  await member.consumer.close() // LeaveGroup
}

describe('@platformatic/kafka 2.12.1 against the Kafka listener', () => {
  it('an idempotent producer\'s records are stored exactly, as Weir\'s own client reads them',
    async () => {
      const sent = records('a', 24)
      const mark = requests.length
      const client = producer('weir-plt-producer')
      try {
        const first = await send(client, 'produced', sent.slice(0, 12))
        expect(first.offsets?.map(o => [o.partition, o.offset]).sort())
          .toEqual([[0, 0n], [1, 0n], [2, 0n], [3, 0n]])
        const second = await send(client, 'produced', sent.slice(12))
        expect(second.offsets?.map(o => [o.partition, o.offset]).sort())
          .toEqual([[0, 3n], [1, 3n], [2, 3n], [3, 3n]])
        expect(client.producerId).toBeGreaterThanOrEqual(0n)
        expect(apiKeysSentSince(mark)).toEqual(expect.arrayContaining([0, 22])) // InitProducerId
        for (let partition = 0; partition < PARTITIONS; partition++) {
          expect(await storedByWeir('produced', partition, 6))
            .toEqual(sent.filter(rec => rec.partition === partition))
          // Both batches carry the producer id InitProducerId gave, with sequences 0 and 3.
          const [result] = await world.weir.transport.fetch({ partitions: [{ topic: 'produced',
            partition, offset: 0 }] })
          const batches: Array<[number, number, number]> = []
          forEachBatch(result!.bytes, position => {
            const header = readBatchHeader(result!.bytes, position)
            batches.push([header.baseOffset, header.producerId, header.baseSequence])
          })
          const pid = Number(client.producerId)
          expect(batches).toEqual([[0, pid, 0], [3, pid, 3]])
        }
      } finally {
        await client.close()
      }
    }, 20_000)

  // The two group tests run in order: the second resumes from the offsets the first commits.
  const GROUP = 'pair'
  const phase1 = records('p1', 20)
  const phase2 = records('p2', 12)

  it('two consumers of one group split the partitions, read each record once, identical, '
    + 'and commit', async () => {
    const members = await Promise.all([join(GROUP, 'plt-a'), join(GROUP, 'plt-b')])
    try {
      const assigned = () => members.map(m => m.consumer.assignments
        ?.find(a => a.topic === 'orders')?.partitions.slice().sort() ?? [])
      const generations = () => members.map(m => m.consumer.generationId)
      await until(async () => {
        const group = await world.weir.admin().describeGroup(GROUP)
        return group.state === 'Stable' && group.members.length === 2
          && generations().every(generation => generation === group.generationId)
          && assigned().flat().length === PARTITIONS
      }, 'a Stable group of two members, both in its generation, all partitions assigned',
      () => ({ generations: generations(), assigned: assigned() }))
      expect(await world.weir.admin().describeGroup(GROUP)).toMatchObject({
        protocolType: 'consumer', protocol: 'roundrobin' })
      expect(assigned().map(partitions => partitions.length)).toEqual([2, 2])
      expect(assigned().flat().sort()).toEqual([0, 1, 2, 3])
      // The members stay in the group: each has had a Heartbeat answered without error.
      await until(() => members.every(m => m.consumer.lastHeartbeat !== null),
        'a successful Heartbeat from each member', () => members.map(m => m.errors.map(String)))

      // Produced once the group is stable, so no rebalance can hand a record to both members.
      const client = producer('weir-plt-group-producer')
      try {
        await send(client, 'orders', phase1)
      } finally {
        await client.close()
      }
      const seen = () => members.flatMap(m => m.seen)
      await until(() => seen().length >= phase1.length, `${phase1.length} records consumed`,
        () => members.map(m => m.seen.length))
      await untilCommitted(GROUP, perPartition(phase1))

      const all = seen().sort(byPosition)
      expect(all.map(({ offset: _, ...rec }) => rec))
        .toEqual(phase1.slice().sort((a, b) => a.partition - b.partition))
      expect(all.map(r => `${r.partition}:${r.offset}`)).toEqual(perPartition(phase1)
        .flatMap((count, p) => Array.from({ length: count }, (_, o) => `${p}:${o}`)))
      members.forEach((member, index) => {
        expect(member.seen.length).toBeGreaterThan(0)
        expect(member.seen.every(r => assigned()[index]!.includes(r.partition))).toBe(true)
      })
      expect(members.flatMap(m => m.errors)).toEqual([])
    } finally {
      await Promise.all(members.map(leave))
    }
    // Both left with LeaveGroup: the group is empty, its offsets stay.
    expect(await world.weir.admin().describeGroup(GROUP)).toMatchObject({ state: 'Empty',
      members: [] })
    expect(await committed(GROUP)).toEqual(perPartition(phase1))
  }, 20_000)

  it('a new member of the group resumes from the committed offsets: it reads only later records',
    async () => {
      const start = perPartition(phase1)
      // The previous test's commits, which this one resumes from.
      expect(await committed(GROUP)).toEqual(start)
      const client = producer('weir-plt-resume-producer')
      try {
        await send(client, 'orders', phase2)
      } finally {
        await client.close()
      }
      const mark = requests.length
      const member = await join(GROUP, 'plt-c')
      try {
        await until(() => member.seen.length >= phase2.length,
          `${phase2.length} records consumed`, () => member.seen.length)
        const ends = perPartition(phase1).map((count, p) => count + perPartition(phase2)[p]!)
        await untilCommitted(GROUP, ends)
        const all = member.seen.slice().sort(byPosition)
        expect(all.map(({ offset: _, ...rec }) => rec))
          .toEqual(phase2.slice().sort((a, b) => a.partition - b.partition))
        expect(all.map(r => `${r.partition}:${r.offset}`)).toEqual(perPartition(phase2)
          .flatMap((count, p) => Array.from({ length: count }, (_, i) => `${p}:${start[p]! + i}`)))
        expect(member.errors).toEqual([])
        // It asked the coordinator for the group's offsets (mode 'committed') and committed.
        expect(apiKeysSentSince(mark)).toEqual(expect.arrayContaining([8, 9]))
      } finally {
        await leave(member)
      }
    }, 20_000)
})
