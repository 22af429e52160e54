/**
 * Goal (issue 9): a Kafka client's transaction runs on Weir through the listener's
 * InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn (v0 and v1),
 * with the outcome Weir itself reports: describeTransactions, and the group's committed offsets
 * (visible after a commit, never after an abort). Fencing and refusals carry the codes Kafka
 * gives these versions (INVALID_PRODUCER_EPOCH 47, INVALID_TXN_STATE 48,
 * INVALID_PRODUCER_ID_MAPPING 49, CONCURRENT_TRANSACTIONS 51, per-partition 3 and 55).
 * Method: an embedded broker in a temp dir, the listener on 127.0.0.1:0, requests framed with
 * Weir's schemas over real TCP (kafka-wire.ts), one connection per simulated producer.
 */
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'

const world = listenerWorld('weir-kafka-txn-', { topics: [{ topic: 'orders', partitions: 2 }] })

/** One connection answering one request at a time, as a client's coordinator connection. */
async function client(version: number) {
  const socket: Socket = await open(world.listener.port)
  const replies = responses(socket)
  let sent = 0
  return {
    async call(apiKey: number, request: object): Promise<Record<string, unknown>> {
      socket.write(requestFrame(apiKey, version, ++sent, request))
      const frames = await replies.frames(sent)
      expect(frames).toHaveLength(sent)
      const { correlationId, value } = body(frames[sent - 1]!, apiKey, version)
      expect(correlationId).toBe(sent)
      return value
    },
    close: () => socket.destroy(),
  }
}
type Client = Awaited<ReturnType<typeof client>>

async function init(c: Client, transactionalId: string | null) {
  return await c.call(22, { transactionalId, transactionTimeoutMs: 60_000 }) as
    { errorCode: number, producerId: number, producerEpoch: number }
}

function codes(value: Record<string, unknown>, list: 'results' | 'topics'): number[] {
  const topics = value[list] as Array<Record<string, Array<{ errorCode: number }>>>
  return topics.flatMap(topic => (topic.results ?? topic.partitions)!.map(p => p.errorCode))
}

async function runTransaction(version: number, transactionalId: string, groupId: string,
  committed: boolean): Promise<void> {
  const c = await client(version)
  const { errorCode, producerId, producerEpoch } = await init(c, transactionalId)
  expect(errorCode).toBe(0)
  const producer = { transactionalId, producerId, producerEpoch }
  expect(codes(await c.call(24, { ...producer, topics: [{ name: 'orders',
    partitions: [0, 1] }] }), 'results')).toEqual([0, 0])
  const [ongoing] = await world.weir.admin().describeTransactions([transactionalId])
  expect(ongoing).toMatchObject({ producerId, producerEpoch, state: 'Ongoing',
    partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }] })
  expect(await c.call(25, { ...producer, groupId })).toEqual({ throttleTimeMs: 0, errorCode: 0 })
  expect(codes(await c.call(28, { ...producer, groupId, topics: [{ name: 'orders', partitions: [
    { partitionIndex: 0, committedOffset: 5, committedMetadata: 'm' },
    { partitionIndex: 1, committedOffset: 7, committedMetadata: null }] }] }), 'topics'))
    .toEqual([0, 0])
  // Staged, not committed: the group has no offsets until the transaction commits.
  expect(await world.weir.admin().fetchOffsets(groupId)).toEqual([])
  expect(await c.call(26, { ...producer, committed })).toEqual({ throttleTimeMs: 0,
    errorCode: 0 })
  c.close()
}

describe('transactions through the Kafka listener', () => {
  it('InitProducerId without a transactional id hands out fresh idempotent ids at epoch 0',
    async () => {
      const c = await client(1)
      const first = await init(c, null)
      const second = await init(c, null)
      expect(first).toMatchObject({ errorCode: 0, producerEpoch: 0 })
      expect(second).toMatchObject({ errorCode: 0, producerEpoch: 0 })
      expect(second.producerId).not.toBe(first.producerId)
      expect(first.producerId).toBeGreaterThanOrEqual(0)
      c.close()
    })

  it.each([0, 1])('v%i: a committed transaction makes the staged group offsets committed',
    async version => {
      await runTransaction(version, `commit-v${version}`, `group-c${version}`, true)
      const offsets = await world.weir.admin().fetchOffsets(`group-c${version}`, undefined,
        { requireStable: true })
      expect(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })))
        .toEqual([{ topic: 'orders', partition: 0, offset: 5 },
          { topic: 'orders', partition: 1, offset: 7 }])
      const [ended] = await world.weir.admin().describeTransactions([`commit-v${version}`])
      expect(ended!.state).toMatch(/^(Prepare|Complete)Commit$/)
    })

  it.each([0, 1])('v%i: an aborted transaction leaves the group without offsets',
    async version => {
      await runTransaction(version, `abort-v${version}`, `group-a${version}`, false)
      expect(await world.weir.admin().fetchOffsets(`group-a${version}`, undefined,
        { requireStable: true })).toEqual([])
      const listed = await world.weir.admin().listTransactions()
      expect(listed.find(each => each.transactionalId === `abort-v${version}`)!.state)
        .toMatch(/^(Prepare|Complete)Abort$/)
    })

  it('a second InitProducerId fences the first instance: its requests get 47', async () => {
    const first = await client(1)
    const second = await client(1)
    const old = await init(first, 'fenced')
    const producer = { transactionalId: 'fenced', producerId: old.producerId,
      producerEpoch: old.producerEpoch }
    expect(codes(await first.call(24, { ...producer, topics: [{ name: 'orders',
      partitions: [0] }] }), 'results')).toEqual([0])
    // The new instance finds a transaction open: Kafka aborts it and answers the retriable
    // CONCURRENT_TRANSACTIONS until the abort is complete; the old epoch is fenced at once.
    expect((await init(second, 'fenced')).errorCode).toBe(51)
    expect(await first.call(26, { ...producer, committed: true })).toMatchObject({
      errorCode: 47 })
    let current = await init(second, 'fenced')
    for (let attempt = 0; current.errorCode === 51 && attempt < 100; attempt++) {
      await new Promise(resolve => setTimeout(resolve, 10)) // KafkaJS backs off likewise
      current = await init(second, 'fenced')
    }
    expect(current).toMatchObject({ errorCode: 0, producerId: old.producerId })
    expect(current.producerEpoch).toBeGreaterThan(old.producerEpoch)
    expect(codes(await first.call(24, { ...producer, topics: [{ name: 'orders',
      partitions: [1] }] }), 'results')).toEqual([47])
    expect(await first.call(25, { ...producer, groupId: 'g' })).toMatchObject({ errorCode: 47 })
    expect((await world.weir.admin().describeTransactions(['fenced']))[0]).toMatchObject({
      producerEpoch: current.producerEpoch, state: 'Empty' })
    first.close()
    second.close()
  })

  it('refusals: unknown partitions (3, others 55), unknown id (49), no offsets added (48), '
    + 'nothing to end (48), a timeout too long (50)', async () => {
    const c = await client(1)
    const { producerId, producerEpoch } = await init(c, 'refusals')
    const producer = { transactionalId: 'refusals', producerId, producerEpoch }
    expect(await c.call(24, { ...producer, topics: [{ name: 'orders', partitions: [0, 9] },
      { name: 'missing', partitions: [0] }] })).toEqual({ throttleTimeMs: 0, results: [
      { name: 'orders', results: [{ partitionIndex: 0, errorCode: 55 },
        { partitionIndex: 9, errorCode: 3 }] },
      { name: 'missing', results: [{ partitionIndex: 0, errorCode: 3 }] }] })
    expect((await world.weir.admin().describeTransactions(['refusals']))[0]!.state).toBe('Empty')
    expect(await c.call(26, { ...producer, committed: true })).toMatchObject({ errorCode: 48 })
    expect(await c.call(26, { transactionalId: 'nobody', producerId: 1, producerEpoch: 0,
      committed: false })).toMatchObject({ errorCode: 49 })
    expect(codes(await c.call(24, { ...producer, topics: [{ name: 'orders', partitions: [1] }] }),
      'results')).toEqual([0])
    expect(codes(await c.call(28, { ...producer, groupId: 'g', topics: [
      { name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 1,
        committedMetadata: '' }] },
      { name: 'missing', partitions: [{ partitionIndex: 0, committedOffset: 1,
        committedMetadata: '' }] }] }), 'topics')).toEqual([48, 3])
    expect(await c.call(22, { transactionalId: 'too-long', transactionTimeoutMs: 2 ** 31 - 1 }))
      .toMatchObject({ errorCode: 50, producerId: -1, producerEpoch: -1 })
    expect(await c.call(26, { ...producer, committed: false })).toMatchObject({ errorCode: 0 })
    c.close()
  })
})
