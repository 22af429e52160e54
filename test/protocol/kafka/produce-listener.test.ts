/**
 * Goal (issue 9): Produce over the listener answers like Kafka, per partition, and bad input
 * never crashes it. Method: frames encoded by KafkaJS 2.2.4's own Produce v7 (and v0) request
 * encoders, sent over a raw socket to the listener on 127.0.0.1:0 over an embedded broker;
 * responses read with Weir's schema (checked against KafkaJS in produce-golden.test.ts).
 * - errors: bad CRC → CORRUPT_MESSAGE (2), too large → MESSAGE_TOO_LARGE (10), unknown topic or
 *   partition → UNKNOWN_TOPIC_OR_PARTITION (3), two batches in one partition → INVALID_RECORD
 *   (87), a v0 message set → UNSUPPORTED_VERSION (35), acks 2 → INVALID_REQUIRED_ACKS (21);
 *   the other partitions of the same request succeed;
 * - idempotence through the broker: a retried batch gets its first offset back, a sequence gap
 *   OUT_OF_ORDER_SEQUENCE_NUMBER (45), an older epoch INVALID_PRODUCER_EPOCH (47);
 * - acks 0: no response, the next request is answered; a failed acks-0 produce closes;
 * - a truncated frame or an absurd records length closes the connection, and the listener
 *   serves the next one.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'
import {
  kafkaJs, kafkaJsFrame, type KafkaJsRequest, readWithWeir,
} from './kafkajs-oracle.ts'

const require = createRequire(import.meta.url)
const Long = require('kafkajs/src/utils/long') as { fromNumber(n: number): unknown }
const produceV7 = kafkaJs<(options: object) => KafkaJsRequest>('produce/v7/request')

const closes: string[] = []
const world = listenerWorld('weir-kafka-produce-', {
  topics: [{ topic: 'p', partitions: 2 }, { topic: 'idem' }, { topic: 'acks0' }],
  listener: { onConnectionClosed: reason => closes.push(reason) },
})

interface PartitionInput { partition: number, messages: object[], firstSequence?: number }

/** A Produce v7 frame as KafkaJS encodes it. */
function produceFrame(correlationId: number, topicData: Array<{ topic: string,
  partitions: PartitionInput[] }>, options: object = {}): Promise<Buffer> {
  return kafkaJsFrame(produceV7({ acks: -1, timeout: 1000, topicData, ...options }),
    correlationId)
}

type PartitionResponses = Array<{ name: string, partitionResponses: Array<{ index: number,
  errorCode: number, baseOffset: number, logStartOffset: number }> }>

/** Sends frames on a new connection and returns the decoded responses (Produce v7 bodies). */
async function exchange(frames: Buffer[], expected = frames.length):
Promise<PartitionResponses[]> {
  const socket = await open(world.listener.port)
  const replies = responses(socket)
  socket.write(Buffer.concat(frames))
  const answered = await replies.frames(expected)
  socket.destroy()
  return answered.map(frame => body(frame, 0, 7).value.responses as PartitionResponses)
}

const one = [{ value: 'one' }]

describe('Produce over the Kafka listener', () => {
  it('answers each partition with its own error; the good partition is appended', async () => {
    const good = await produceFrame(1, [{ topic: 'p', partitions: [{ partition: 0,
      messages: one }, { partition: 7, messages: one }] }, { topic: 'nope', partitions: [
      { partition: 0, messages: one }] }])
    const corrupt = await produceFrame(2, [{ topic: 'p', partitions: [{ partition: 1,
      messages: one }] }])
    // The last record byte: the CRC no longer matches.
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1)
    const big = await produceFrame(3, [{ topic: 'p', partitions: [{ partition: 1,
      messages: [{ value: Buffer.alloc(1_200_000, 1) }] }] }])
    const [a, b, c] = await exchange([good, corrupt, big])
    expect(a).toEqual([{ name: 'p', partitionResponses: [
      { index: 0, errorCode: 0, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0 },
      { index: 7, errorCode: 3, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }] },
    { name: 'nope', partitionResponses: [{ index: 0, errorCode: 3, baseOffset: -1,
      logAppendTimeMs: -1, logStartOffset: -1 }] }])
    expect(b![0]!.partitionResponses[0]!.errorCode).toBe(2)
    expect(c![0]!.partitionResponses[0]!.errorCode).toBe(10)
    expect((await readWithWeir(world.weir.transport, 'p', 0, 1)).map(r => r.value?.toString()))
      .toEqual(['one'])
  })

  it('refuses two batches in one partition (87), a v0 message set (35) and acks 2 (21)',
    async () => {
      const frame = await twoBatchFrame()
      const v0 = await kafkaJsFrame(kafkaJs<(options: object) => KafkaJsRequest>(
        'produce/v0/request')({ acks: 1, timeout: 1000, topicData: [{ topic: 'p',
        partitions: [{ partition: 1, messages: one }] }] }), 2)
      const acks2 = await produceFrame(3, [{ topic: 'p', partitions: [{ partition: 1,
        messages: one }] }], { acks: 2 })
      const socket = await open(world.listener.port)
      const replies = responses(socket)
      socket.write(Buffer.concat([frame, v0, acks2]))
      const [a, b, c] = await replies.frames(3)
      socket.destroy()
      expect(body(a!, 0, 7).value).toMatchObject({ responses: [{ partitionResponses: [
        { index: 1, errorCode: 87 }] }] })
      expect(body(b!, 0, 0).value).toEqual({ responses: [{ name: 'p', partitionResponses: [
        { index: 1, errorCode: 35, baseOffset: -1 }] }] })
      expect(body(c!, 0, 7).value).toMatchObject({ responses: [{ partitionResponses: [
        { index: 1, errorCode: 21 }] }] })
    })

  it('idempotent batches: a retry gets its offset back, a gap 45, an older epoch 47',
    async () => {
      const { producerId } = await world.weir.transport.initProducerId()
      const batch = (correlationId: number, epoch: number, firstSequence: number) =>
        produceFrame(correlationId, [{ topic: 'idem', partitions: [{ partition: 0,
          firstSequence, messages: [{ value: `e${epoch}s${firstSequence}` }] }] }],
        { producerId: Long.fromNumber(producerId), producerEpoch: epoch })
      const answers = await exchange([await batch(1, 0, 0), await batch(2, 0, 0),
        await batch(3, 0, 1), await batch(4, 0, 5), await batch(5, 1, 0), await batch(6, 0, 2)])
      expect(answers.map(a => [a[0]!.partitionResponses[0]!.errorCode,
        a[0]!.partitionResponses[0]!.baseOffset])).toEqual([[0, 0], [0, 0], [0, 1], [45, -1],
        [0, 2], [47, -1]])
      expect((await readWithWeir(world.weir.transport, 'idem', 0, 3)).map(r => r.value?.toString()))
        .toEqual(['e0s0', 'e0s1', 'e1s0'])
    })

  it('acks 0: no response, the next request is answered; a failure closes instead', async () => {
    const quiet = await produceFrame(1, [{ topic: 'acks0', partitions: [{ partition: 0,
      messages: one }] }], { acks: 0 })
    const socket = await open(world.listener.port)
    const replies = responses(socket)
    socket.write(Buffer.concat([quiet, requestFrame(18, 1, 2, {})]))
    const [first] = await replies.frames(1)
    expect(first!.readInt32BE(0)).toBe(2)
    expect(await readWithWeir(world.weir.transport, 'acks0', 0, 1)).toHaveLength(1)
    const failing = await produceFrame(3, [{ topic: 'nope', partitions: [{ partition: 0,
      messages: one }] }], { acks: 0 })
    socket.write(Buffer.concat([failing, requestFrame(18, 1, 4, {})]))
    expect(await replies.closed()).toEqual({ frames: 1, partial: 0 })
    expect(closes.at(-1)).toMatch(/acks=0 produce failed \(3\)/)
  })

  it('a truncated frame or an absurd records length closes the connection, never the listener',
    async () => {
      const frame = await produceFrame(1, [{ topic: 'p', partitions: [{ partition: 1,
        messages: one }] }])
      const truncated = Buffer.from(frame.subarray(0, frame.length - 10))
      truncated.writeInt32BE(truncated.length - 4)
      const absurd = Buffer.from(frame)
      absurd.writeInt32BE(0x7ffffff0, batchStart(absurd) - 4)
      for (const bad of [truncated, absurd]) {
        const socket = await open(world.listener.port)
        const replies = responses(socket)
        socket.write(bad)
        expect(await replies.closed()).toEqual({ frames: 0, partial: 0 })
      }
      expect(closes.slice(-2).join('\n')).toMatch(/Malformed[\s\S]*Malformed/)
      const [after] = await exchange([await produceFrame(9, [{ topic: 'p', partitions: [
        { partition: 1, messages: one }] }])])
      expect(after![0]!.partitionResponses[0]!.errorCode).toBe(0)
    })
})

/**
 * Where the record batch starts in a one-partition Produce frame: the records field is last,
 * so the batch ends the frame, right after its int32 length, and its batchLength agrees.
 */
function batchStart(frame: Buffer): number {
  for (let start = frame.length - 61; start > 4; start--) {
    if (frame.readInt32BE(start - 4) === frame.length - start
      && 12 + frame.readInt32BE(start + 8) === frame.length - start) return start
  }
  throw new Error('no batch found in the frame')
}

/** A Produce v7 frame whose one partition carries the same batch twice, back to back. */
async function twoBatchFrame(): Promise<Buffer> {
  const frame = await produceFrame(1, [{ topic: 'p', partitions: [{ partition: 1,
    messages: one }] }])
  const start = batchStart(frame)
  const batch = frame.subarray(start)
  const doubled = Buffer.concat([frame.subarray(0, start), batch, batch])
  doubled.writeInt32BE(batch.length * 2, start - 4)
  doubled.writeInt32BE(doubled.length - 4, 0)
  return doubled
}
