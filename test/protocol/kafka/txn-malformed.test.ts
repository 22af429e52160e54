/**
 * Goal (issue 9): malformed or hostile input to the transaction and topic-admin APIs gets an
 * error code or a closed connection, never a crash, a partial response or a half-done change.
 * Method: an embedded broker in a temp dir and the listener on 127.0.0.1:0; frames built with
 * Weir's schemas (kafka-wire.ts), then
 * - every truncation of a valid request of each API (size prefix adjusted): the connection is
 *   closed with nothing written back, and the listener serves the next connection;
 * - absurd array counts, a null where a string is required, an int64 beyond 2^53: closed;
 * - well-formed but invalid values: the per-topic or per-partition code Kafka gives.
 */
import { describe, expect, it } from 'vitest'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'

const closes: string[] = []
const world = listenerWorld('weir-kafka-txn-malformed-', {
  topics: [{ topic: 'orders', partitions: 2 }],
  listener: { onConnectionClosed: reason => closes.push(reason) },
})

const producer = { transactionalId: 'tx', producerId: 1, producerEpoch: 0 }
const valid: ReadonlyArray<[number, number, object]> = [
  [22, 1, { transactionalId: 'tx', transactionTimeoutMs: 1000 }],
  [24, 1, { ...producer, topics: [{ name: 'orders', partitions: [0, 1] }] }],
  [25, 1, { ...producer, groupId: 'g' }],
  [26, 1, { ...producer, committed: true }],
  [28, 1, { ...producer, groupId: 'g', topics: [{ name: 'orders', partitions: [
    { partitionIndex: 0, committedOffset: 3, committedMetadata: 'm' }] }] }],
  [19, 3, { topics: [{ name: 'new-topic', numPartitions: 1, replicationFactor: 1,
    assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }], timeoutMs: 1000,
  validateOnly: true }],
  [20, 1, { topicNames: ['new-topic'], timeoutMs: 1000 }],
]

/** Sends raw bytes on a fresh connection; how it ended. */
async function sendRaw(bytes: Buffer): Promise<{ frames: number, partial: number }> {
  const socket = await open(world.listener.port)
  const replies = responses(socket)
  socket.write(bytes)
  const ended = await replies.closed()
  return ended
}

/** A request's frame with the body cut to `length` bytes after the header. */
function truncated(frame: Buffer, payloadBytes: number): Buffer {
  const cut = Buffer.from(frame.subarray(0, 4 + payloadBytes))
  cut.writeInt32BE(payloadBytes, 0)
  return cut
}

async function call(apiKey: number, version: number, request: object) {
  const socket = await open(world.listener.port)
  const replies = responses(socket)
  socket.write(requestFrame(apiKey, version, 1, request))
  const [frame] = await replies.frames(1)
  socket.destroy()
  expect(frame).toBeDefined()
  return body(frame!, apiKey, version).value
}

describe('malformed transaction and admin requests', () => {
  it('every truncation of every API\'s request closes the connection with nothing written',
    async () => {
      const headerBytes = 12 // api key, version, correlation id, client id 'id'
      for (const [apiKey, version, request] of valid) {
        const frame = requestFrame(apiKey, version, 1, request)
        for (let payload = headerBytes; payload < frame.length - 4; payload++) {
          expect(await sendRaw(truncated(frame, payload)), `api ${apiKey} cut at ${payload}`)
            .toEqual({ frames: 0, partial: 0 })
        }
      }
      expect(closes.length).toBeGreaterThan(0)
      expect((await world.weir.admin().listTopics()).map(topic => topic.name)).toEqual(['orders'])
      // The listener still answers.
      expect(await call(20, 1, { topicNames: ['absent'], timeoutMs: 0 })).toEqual({
        throttleTimeMs: 0, responses: [{ name: 'absent', errorCode: 3 }] })
    })

  it('absurd counts, a null required string and an int64 beyond 2^53 close the connection',
    async () => {
      const createTopics = requestFrame(19, 3, 1, { topics: [], timeoutMs: 0,
        validateOnly: false })
      createTopics.writeInt32BE(0x7fffffff, 4 + 12) // the topics array count
      expect(await sendRaw(createTopics)).toEqual({ frames: 0, partial: 0 })
      const deleteTopics = requestFrame(20, 1, 1, { topicNames: ['x'], timeoutMs: 0 })
      deleteTopics.writeInt16BE(-1, 4 + 12 + 4) // the name's length: null
      expect(await sendRaw(deleteTopics)).toEqual({ frames: 0, partial: 0 })
      const endTxn = requestFrame(26, 1, 1, { ...producer, committed: true })
      endTxn.writeBigInt64BE(2n ** 62n, 4 + 12 + 2 + 2) // after the transactional id 'tx'
      expect(await sendRaw(endTxn)).toEqual({ frames: 0, partial: 0 })
    })

  it('invalid values in well-formed requests get Kafka\'s error codes', async () => {
    const topic = { name: 't', numPartitions: -1, replicationFactor: -1, assignments: [],
      configs: [] }
    const create = async (topics: object[]) => (await call(19, 3, { topics, timeoutMs: 0,
      validateOnly: false }) as { topics: Array<{ name: string, errorCode: number }> })
      .topics.map(result => [result.name, result.errorCode])
    expect(await create([{ ...topic, name: 'huge', numPartitions: 2 ** 31 - 1 }]))
      .toEqual([['huge', 37]])
    expect(await create([{ ...topic, name: 'nulls', configs: [{ name: 'retention.ms',
      value: null }] }])).toEqual([['nulls', 40]])
    expect(await create([{ ...topic, name: 'text', configs: [{ name: 'retention.ms',
      value: '1e3' }] }])).toEqual([['text', 40]])
    expect(await create([{ ...topic, name: 'elsewhere', assignments: [{ partitionIndex: 0,
      brokerIds: [1] }] }])).toEqual([['elsewhere', 39]])
    expect(await create([{ ...topic, name: 'both', numPartitions: 1, assignments: [
      { partitionIndex: 0, brokerIds: [0] }] }])).toEqual([['both', 42]])
    expect(await create([{ ...topic, name: 'twice' }, { ...topic, name: 'twice' }]))
      .toEqual([['twice', 42], ['twice', 42]])
    expect(await create([{ ...topic, name: '__internal' }])).toEqual([['__internal', 17]])
    expect(await create([{ ...topic, name: 'assigned', assignments: [
      { partitionIndex: 0, brokerIds: [0] }, { partitionIndex: 1, brokerIds: [0] }] }]))
      .toEqual([['assigned', 0]])
    expect((await world.weir.admin().describeTopics(['assigned']))[0]!.partitions).toBe(2)
    expect(await call(20, 1, { topicNames: ['assigned', 'assigned', '__consumer_offsets'],
      timeoutMs: 0 })).toMatchObject({ responses: [{ errorCode: 42 }, { errorCode: 42 },
      { errorCode: 3 }] })
    expect(await call(24, 1, { ...producer, topics: [{ name: 'orders',
      partitions: [-1] }] })).toMatchObject({ results: [{ results: [{ errorCode: 3 }] }] })
    expect(await call(22, 1, { transactionalId: '', transactionTimeoutMs: 1000 }))
      .toMatchObject({ errorCode: 42, producerId: -1 })
    expect(await call(22, 1, { transactionalId: 'neg', transactionTimeoutMs: -5 }))
      .toMatchObject({ errorCode: 50 })
  })
})
