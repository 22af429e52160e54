/**
 * Goal (issue 9): a client that sends requests and does not read the answers cannot make the
 * listener hold an unbounded pile of responses. Kafka mutes such a channel; Weir stops reading
 * the connection's requests while the socket's write buffer is full.
 * Method: 200 Fetch v4 requests pipelined in one write, each answered with a ~256 KiB batch
 * (50 MiB in all), by a client that does not read; the fetches the listener makes stay few
 * (the answers of a handful fill the socket buffers), then, once the client reads, every
 * request is answered in order.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Transport } from '../../../src/client/transport/transport.ts'
import { Weir } from '../../../src/index.ts'
import { KafkaListener } from '../../../src/server/kafka/kafka-listener.ts'
import { interceptedTransport } from '../../helpers/client-fixtures.ts'
import { open, requestFrame, responses } from './kafka-wire.ts'

const REQUESTS = 200
const VALUE_BYTES = 256 * 1024

let dir: string
let weir: Weir
let listener: KafkaListener
let fetches = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-kafka-backpressure-'))
  weir = await Weir.open({ dir })
  await weir.admin().createTopics([{ topic: 'big', partitions: 1 }])
  const producer = weir.producer()
  await producer.send({ topic: 'big', messages: [{ value: Buffer.alloc(VALUE_BYTES, 7) }] })
  await producer.close()
  const counted: Transport = interceptedTransport(weir.transport, {
    fetch: (next, request) => {
      fetches++
      return next(request)
    },
  })
  listener = await KafkaListener.start({ transport: counted, port: 0 })
})

afterAll(async () => {
  await listener?.close()
  await weir?.close()
  await rm(dir, { recursive: true, force: true })
})

const fetchRequest = (correlationId: number): Buffer => requestFrame(1, 4, correlationId, {
  replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024 * 1024, isolationLevel: 0,
  topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0,
    partitionMaxBytes: 1024 * 1024 }] }] })

describe('the Kafka listener under a client that does not read', () => {
  it('stops reading requests while its answers are unread, then answers them all in order',
    async () => {
      const socket = await open(listener.port)
      socket.pause() // the client reads nothing
      socket.write(Buffer.concat(Array.from({ length: REQUESTS }, (_, i) => fetchRequest(i))))
      await new Promise(resolve => setTimeout(resolve, 1_000))
      // Each answer is ~256 KiB: a few fill the client's and the server's socket buffers.
      expect(fetches).toBeGreaterThan(0)
      expect(fetches).toBeLessThan(REQUESTS / 4)
      const replies = responses(socket)
      socket.resume()
      const frames = await replies.frames(REQUESTS)
      expect(frames.map(frame => frame.readInt32BE(0)))
        .toEqual(Array.from({ length: REQUESTS }, (_, i) => i))
      expect(fetches).toBe(REQUESTS)
      socket.destroy()
    }, 60_000)
})
