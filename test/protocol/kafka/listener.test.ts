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
import { describe, expect, it } from 'vitest'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'

const closes: string[] = []
const world = listenerWorld('weir-kafka-listener-', {
  topics: [{ topic: 'orders', partitions: 3 }],
  listener: { frameBytesMax: 64 * 1024, onConnectionClosed: reason => closes.push(reason) },
})

describe('the Kafka listener', () => {
  it('answers pipelined requests in order, also when they arrive byte by byte', async () => {
    const socket = await open(world.listener.port)
    const replies = responses(socket)
    const frames = Buffer.concat([requestFrame(18, 0, 1, {}), requestFrame(3, 1, 2,
      { topics: null }), requestFrame(18, 2, 3, {})])
    for (const byte of frames) socket.write(Buffer.of(byte))
    const [a, b, c] = await replies.frames(3)
    expect([a, b, c].map(frame => frame!.readInt32BE(0))).toEqual([1, 2, 3])
    expect(body(a!, 18, 0).value.apiKeys).toEqual(expect.arrayContaining([
      { apiKey: 3, minVersion: 0, maxVersion: 6 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }]))
    expect(body(b!, 3, 1).value).toMatchObject({ controllerId: 0,
      brokers: [{ nodeId: 0, host: '127.0.0.1', port: world.listener.port }],
      topics: [{ errorCode: 0, name: 'orders', partitions: [{ partitionIndex: 0 },
        { partitionIndex: 1 }, { partitionIndex: 2 }] }] })
    socket.destroy()
  })

  it('answers ApiVersions v3 with header v0 and a compact body, and v9 with UNSUPPORTED_VERSION',
    async () => {
      const socket = await open(world.listener.port)
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
      const socket = await open(world.listener.port)
      const replies = responses(socket)
      socket.write(Buffer.concat([bad, requestFrame(18, 0, 2, {})]))
      expect(await replies.closed()).toEqual({ frames: 0, partial: 0 })
    }
    expect(closes).toHaveLength(5)
    expect(closes.join('\n')).toMatch(/not served[\s\S]*frame size[\s\S]*frame size/)
    const socket = await open(world.listener.port)
    const replies = responses(socket)
    socket.write(requestFrame(18, 1, 3, {}))
    expect((await replies.frames(1))[0]!.readInt32BE(0)).toBe(3)
    socket.destroy()
  })
})
