/**
 * Goal (issue 9): the Kafka listener frames, orders and refuses like Kafka, over real TCP on
 * 127.0.0.1, against an embedded broker.
 * - Requests pipelined in one write, or split byte by byte, are answered once each, in order,
 *   with their correlation ids.
 * - ApiVersions v3 (flexible request header) is answered with header v0 and a compact body; an
 *   unserved ApiVersions version gets the v0 UNSUPPORTED_VERSION body with the ApiVersions range.
 * - An unknown API, a frame over the size limit, a negative size, a body that does not parse or
 *   an absurd array count closes the connection (no partial response), and the listener serves
 *   the next connection as before.
 * - Metadata lists the broker at its advertised address and the topics with their partitions.
 */
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Weir } from '../../../src/index.ts'
import { schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import {
  FrameReader, FrameWriter, readMessage, writeMessage,
} from '../../../src/protocol/kafka/schema.ts'
import { KafkaListener } from '../../../src/server/kafka/kafka-listener.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let dir: string
let weir: Weir
let listener: KafkaListener
const closes: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-kafka-listener-'))
  weir = await Weir.open({ dir })
  await weir.admin().createTopics([{ topic: 'orders', partitions: 3 }])
  listener = await KafkaListener.start({ transport: weir.transport, port: 0,
    frameBytesMax: 64 * 1024, onConnectionClosed: reason => closes.push(reason) })
})

afterAll(async () => {
  await listener.close()
  await weir.close()
  await rm(dir, { recursive: true, force: true })
})

/** A request frame: size, header v1 (v2 when flexible), body. */
function requestFrame(apiKey: number, version: number, correlationId: number, body: object,
  flexibleHeader = false): Buffer {
  const writer = new FrameWriter()
  writer.fixed(8, b => {
    b.writeInt16BE(apiKey, 0)
    b.writeInt16BE(version, 2)
    b.writeInt32BE(correlationId, 4)
  })
  writer.fixed(4, b => b.writeInt16BE(2, 0) && b.write('id', 2))
  if (flexibleHeader) writer.uvarint(0)
  writeMessage(writer, schemaFor(apiKey, version)!.request, body)
  const payload = writer.toBuffer()
  const frame = Buffer.alloc(4 + payload.length)
  frame.writeInt32BE(payload.length)
  payload.copy(frame, 4)
  return frame
}

/** Collects response frames from a socket; resolves `frames(n)` when n have arrived. */
function responses(socket: Socket) {
  let buffered = Buffer.alloc(0)
  const frames: Buffer[] = []
  let ended = false
  const waiters: Array<() => void> = []
  socket.on('data', chunk => {
    buffered = Buffer.concat([buffered, chunk])
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      frames.push(buffered.subarray(4, 4 + buffered.readInt32BE(0)))
      buffered = buffered.subarray(4 + buffered.readInt32BE(0))
    }
    waiters.splice(0).forEach(wake => wake())
  })
  socket.on('close', () => {
    ended = true
    waiters.splice(0).forEach(wake => wake())
  })
  return {
    async frames(count: number): Promise<Buffer[]> {
      while (frames.length < count && !ended) await new Promise<void>(r => waiters.push(r))
      return frames.slice(0, count)
    },
    async closed(): Promise<{ frames: number, partial: number }> {
      while (!ended) await new Promise<void>(r => waiters.push(r))
      return { frames: frames.length, partial: buffered.length }
    },
  }
}

async function open(): Promise<Socket> {
  const socket = connect(listener.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return socket
}

function body(frame: Buffer, apiKey: number, version: number, flexibleHeader = false) {
  const reader = new FrameReader(frame, flexibleHeader ? 5 : 4)
  return { correlationId: frame.readInt32BE(0),
    value: readMessage<Record<string, unknown>>(reader, schemaFor(apiKey, version)!.response) }
}

describe('the Kafka listener', () => {
  it('answers pipelined requests in order, also when they arrive byte by byte', async () => {
    const socket = await open()
    const replies = responses(socket)
    const frames = Buffer.concat([requestFrame(18, 0, 1, {}), requestFrame(3, 1, 2,
      { topics: null }), requestFrame(18, 2, 3, {})])
    for (const byte of frames) socket.write(Buffer.of(byte))
    const [a, b, c] = await replies.frames(3)
    expect([a, b, c].map(frame => frame!.readInt32BE(0))).toEqual([1, 2, 3])
    expect(body(a!, 18, 0).value.apiKeys).toEqual(expect.arrayContaining([
      { apiKey: 3, minVersion: 0, maxVersion: 6 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }]))
    expect(body(b!, 3, 1).value).toMatchObject({ controllerId: 0,
      brokers: [{ nodeId: 0, host: '127.0.0.1', port: listener.port }],
      topics: [{ errorCode: 0, name: 'orders', partitions: [{ partitionIndex: 0 },
        { partitionIndex: 1 }, { partitionIndex: 2 }] }] })
    socket.destroy()
  })

  it('answers ApiVersions v3 with header v0 and a compact body, and v9 with UNSUPPORTED_VERSION',
    async () => {
      const socket = await open()
      const replies = responses(socket)
      socket.write(requestFrame(18, 3, 11, { clientSoftwareName: 'kcat',
        clientSoftwareVersion: '1.7.1' }, true))
      const v9 = requestFrame(18, 0, 12, {})
      v9.writeInt16BE(9, 6)
      socket.write(v9)
      const [v3, refused] = await replies.frames(2)
      expect(body(v3!, 18, 3).value).toMatchObject({ errorCode: 0, throttleTimeMs: 0 })
      expect(refused!.readInt32BE(0)).toBe(12)
      expect(body(refused!, 18, 0).value).toEqual({ errorCode: 35,
        apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] })
      socket.destroy()
    })

  it('closes the connection, without a partial response, on an unknown API, an oversized or '
    + 'negative frame, a truncated body or an absurd count; the next connection works',
  async () => {
    const unknownApi = requestFrame(18, 0, 1, {})
    unknownApi.writeInt16BE(999, 4)
    const oversized = Buffer.alloc(8)
    oversized.writeInt32BE(64 * 1024 + 1)
    const negative = Buffer.alloc(8)
    negative.writeInt32BE(-5)
    const truncated = requestFrame(3, 1, 1, { topics: [{ name: 'orders' }] })
    const cut = Buffer.concat([truncated.subarray(0, truncated.length - 3)])
    cut.writeInt32BE(cut.length - 4)
    const absurd = requestFrame(3, 1, 1, { topics: [] })
    absurd.writeInt32BE(0x7fffffff, absurd.length - 4)
    for (const bad of [unknownApi, oversized, negative, cut, absurd]) {
      const socket = await open()
      const replies = responses(socket)
      socket.write(Buffer.concat([bad, requestFrame(18, 0, 2, {})]))
      expect(await replies.closed()).toEqual({ frames: 0, partial: 0 })
    }
    expect(closes).toHaveLength(5)
    expect(closes.join('\n')).toMatch(/not served[\s\S]*frame size[\s\S]*frame size/)
    const socket = await open()
    const replies = responses(socket)
    socket.write(requestFrame(18, 1, 3, {}))
    expect((await replies.frames(1))[0]!.readInt32BE(0)).toBe(3)
    socket.destroy()
  })
})
