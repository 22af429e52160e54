/**
 * WebSocket /v1/fetch/stream: a streaming fetch. The client sends a StreamFetchRequest (binary
 * frame, proto/weir.proto) naming partitions and start offsets; the server long-polls the broker
 * and pushes a FetchResponse frame whenever records arrive, moving each position past what it sent.
 * A new StreamFetchRequest replaces the subscription (a seek); a partition that fails (an offset
 * out of range) is reported once in a frame and dropped until resubscribed. A request the broker
 * refuses whole (an unknown topic or partition) closes the stream with 1008 and its code as the
 * reason; a server fault closes it with 1011.
 *
 * Back-pressure: while the socket holds more than `streamBufferBytesMax` unsent bytes the server
 * stops reading the log for it, so a slow reader costs the server bounded memory. A frame that
 * is not a valid StreamFetchRequest closes the stream with 1008 and the error code as reason.
 */
import type { FastifyInstance } from 'fastify'
import type { WebSocket } from 'ws'
import type { FetchPartitionRequest } from '../../broker/fetch.ts'
import type { EmbeddedTransport } from '../../client/transport/embedded.ts'
import type { ServerLimits } from '../../limits.ts'
import {
  decodeStreamFetchRequest, encodeFetchResponse, type StreamFetchRequest,
} from '../../protocol/weir-proto.ts'
import { asWeirError, httpStatusOf } from '../http-errors.ts'
import { onBinaryFrames } from './binary-frames.ts'
import type { ServerMetrics } from '../metrics/server-metrics.ts'

/** How long one broker long poll of a stream waits for records before polling again. */
const STREAM_POLL_WAIT_MS = 500
const BACKPRESSURE_CHECK_MS = 5

export interface StreamFetchContext {
  readonly transport: EmbeddedTransport
  readonly limits: ServerLimits
  readonly metrics: ServerMetrics
  /** Whether the server is shutting down (streams end). */
  readonly closing: () => boolean
}

class FetchStream {
  private subscription: StreamFetchRequest | undefined
  private positions: FetchPartitionRequest[] = []
  /** Bumped by every new subscription, so a poll that began before it is discarded. */
  private generation = 0
  private running = false

  constructor(private readonly socket: WebSocket, private readonly context: StreamFetchContext) {}

  subscribe(data: Buffer): void {
    try {
      this.subscription = decodeStreamFetchRequest(data)
    } catch (error) {
      const weirError = asWeirError(error)
      this.socket.close(1008, weirError.code)
      return
    }
    this.positions = [...this.subscription.partitions]
    this.generation++
    if (!this.running) void this.run()
  }

  private open(): boolean {
    return this.socket.readyState === this.socket.OPEN && !this.context.closing()
  }

  private async run(): Promise<void> {
    this.running = true
    const { transport, limits, metrics } = this.context
    try {
      while (this.open() && this.positions.length > 0) {
        if (this.socket.bufferedAmount > limits.streamBufferBytesMax) {
          await new Promise(resolve => setTimeout(resolve, BACKPRESSURE_CHECK_MS))
          continue
        }
        const generation = this.generation
        const subscription = this.subscription!
        const results = await transport.fetch({ partitions: this.positions,
          isolationLevel: subscription.isolationLevel, maxWaitMs: STREAM_POLL_WAIT_MS,
          minBytes: 1,
          ...subscription.maxBytes === undefined ? {} : { maxBytes: subscription.maxBytes } })
        if (generation !== this.generation || !this.open()) continue
        const worth = results.filter(r => r.bytes.length > 0 || r.error !== undefined)
        if (worth.length === 0) continue
        this.positions = this.positions.flatMap(position => {
          const result = results.find(r => r.topic === position.topic
            && r.partition === position.partition)
          if (result?.error !== undefined) return []
          return result === undefined ? [position] : [{ ...position, offset: result.nextOffset }]
        })
        for (const result of worth) {
          if (result.bytes.length > 0) {
            metrics.fetchedBytes.inc({ topic: result.topic }, result.bytes.length)
          }
        }
        this.socket.send(encodeFetchResponse(worth))
      }
    } catch (error) {
      const weirError = asWeirError(error)
      const closeCode = httpStatusOf(weirError) < 500 ? 1008 : 1011
      if (this.open()) this.socket.close(closeCode, weirError.code)
    } finally {
      this.running = false
    }
  }
}

export function registerStreamFetchRoute(app: FastifyInstance, context: StreamFetchContext): void {
  app.get('/v1/fetch/stream', { websocket: true }, socket => {
    const stream = new FetchStream(socket, context)
    onBinaryFrames(socket, data => { stream.subscribe(data) })
  })
}
