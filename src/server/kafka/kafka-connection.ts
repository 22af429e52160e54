/**
 * One client connection of the Kafka listener: splits the byte stream into frames (int32 size,
 * then header and body), answers them one at a time in arrival order (Kafka's rule: clients
 * pipeline and match responses by correlation id, librdkafka's idempotent producer relies on
 * the order), and writes each response as one frame.
 *
 * Refusals, as Kafka does them:
 * - an ApiVersions version the listener does not serve gets a v0 body with UNSUPPORTED_VERSION
 *   (35) and the ApiVersions range, so the client can retry lower (librdkafka and platformatic
 *   send v3 first);
 * - any other unknown API or version, a frame that does not parse (WEIR_ERR_KAFKA_MALFORMED), a
 *   size below 8 or above `frameBytesMax`: the connection is closed, nothing half-written.
 * Memory stays bounded: frames are read one at a time, the socket is paused while more than
 * `frameBytesMax` bytes wait to be answered, and no request is read while the client leaves
 * its answers unread (the socket's write buffer is full).
 */
import type { Socket } from 'node:net'
import { apiVersionsV0 } from '../../protocol/kafka/apis/api-versions-v0.ts'
import { advertisedVersions, schemaFor } from '../../protocol/kafka/apis/index.ts'
import {
  API_VERSIONS_KEY, peekApi, readRequestHeader, writeResponseHeader,
} from '../../protocol/kafka/header.ts'
import { FrameReader, FrameWriter, readMessage, writeMessage } from '../../protocol/kafka/schema.ts'
import type { KafkaContext, KafkaHandler } from './kafka-context.ts'

const UNSUPPORTED_VERSION = 35
/** api key + version + correlation id + client id length: the shortest request header. */
const HEADER_BYTES_MIN = 10

export interface ConnectionOptions {
  readonly context: KafkaContext
  readonly handlers: ReadonlyMap<number, KafkaHandler>
  readonly frameBytesMax: number
  /** Hears why a connection was closed (a malformed frame, an unknown API). */
  readonly onClose?: (reason: string) => void
}

export class KafkaConnection {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private processing = false
  private closed = false

  constructor(private readonly socket: Socket, private readonly options: ConnectionOptions) {
    socket.on('data', chunk => this.receive(chunk))
    socket.on('error', () => this.close('socket error'))
    socket.on('close', () => {
      this.closed = true
    })
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    if (this.pendingBytes > this.options.frameBytesMax + 4) this.socket.pause()
    if (!this.processing) void this.drain()
  }

  /** The next whole frame's payload, if the buffered bytes hold one. */
  private nextFrame(): Buffer | undefined {
    if (this.pendingBytes < 4) return undefined
    if (this.pending[0]!.length < 4) this.join()
    const size = this.pending[0]!.readInt32BE(0)
    if (size < HEADER_BYTES_MIN || size > this.options.frameBytesMax) {
      this.close(`frame size ${size} outside [${HEADER_BYTES_MIN}, ${this.options.frameBytesMax}]`)
      return undefined
    }
    // Chunks are joined once the whole frame is here, not on every chunk of a large one.
    if (this.pendingBytes < 4 + size) return undefined
    this.join()
    const buffered = this.pending[0]!
    const frame = buffered.subarray(4, 4 + size)
    const rest = buffered.subarray(4 + size)
    this.pending = rest.length > 0 ? [rest] : []
    this.pendingBytes = rest.length
    return frame
  }

  /** Resolves when the socket's write buffer has drained, or the connection is gone. */
  private writable(): Promise<void> {
    this.socket.pause()
    return new Promise(resolve => {
      const done = (): void => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        resolve()
      }
      this.socket.on('drain', done)
      this.socket.on('close', done)
    })
  }

  private join(): void {
    if (this.pending.length > 1) this.pending = [Buffer.concat(this.pending, this.pendingBytes)]
  }

  private async drain(): Promise<void> {
    this.processing = true
    try {
      for (let frame = this.nextFrame(); frame !== undefined && !this.closed;
        frame = this.nextFrame()) {
        const response = await this.answer(frame)
        if (response !== undefined && !this.closed && !this.socket.write(response)) {
          // The client is not reading its answers: stop reading its requests until it does,
          // so unread responses never pile up in memory.
          await this.writable()
        }
        if (this.pendingBytes <= this.options.frameBytesMax) this.socket.resume()
      }
    } catch (error) {
      this.close(error instanceof Error ? error.message : String(error))
    } finally {
      this.processing = false
    }
  }

  /** The response frame for one request frame (size prefix included), or none. */
  private async answer(frame: Buffer): Promise<Buffer | undefined> {
    const { apiKey, apiVersion } = peekApi(frame)
    const schema = schemaFor(apiKey, apiVersion)
    const handler = this.options.handlers.get(apiKey)
    if (schema === undefined || handler === undefined) {
      if (apiKey === API_VERSIONS_KEY) return this.unsupportedApiVersions(frame)
      throw new Error(`API ${apiKey} v${apiVersion} is not served`)
    }
    const reader = new FrameReader(frame)
    const header = readRequestHeader(reader, schema.request.flexible)
    const request = readMessage<Record<string, unknown>>(reader, schema.request)
    const body = await handler(request, this.options.context, header)
    if (body === undefined) return undefined
    // ApiVersions answers with header v0 whatever its version (header.ts).
    const flexibleHeader = schema.response.flexible && apiKey !== API_VERSIONS_KEY
    return frameOf(writer => {
      writeResponseHeader(writer, header.correlationId, flexibleHeader)
      writeMessage(writer, schema.response, body)
    })
  }

  private unsupportedApiVersions(frame: Buffer): Buffer {
    const reader = new FrameReader(frame)
    const header = readRequestHeader(reader, false)
    const range = advertisedVersions().find(entry => entry.apiKey === API_VERSIONS_KEY)!
    return frameOf(writer => {
      writeResponseHeader(writer, header.correlationId, false)
      writeMessage(writer, apiVersionsV0.response, { errorCode: UNSUPPORTED_VERSION,
        apiKeys: [range] })
    })
  }

  close(reason: string): void {
    if (this.closed) return
    this.closed = true
    this.options.onClose?.(reason)
    this.socket.destroy()
  }
}

function frameOf(write: (writer: FrameWriter) => void): Buffer {
  const writer = new FrameWriter()
  write(writer)
  const payload = writer.toBuffer()
  const frame = Buffer.allocUnsafe(4 + payload.length)
  frame.writeInt32BE(payload.length, 0)
  payload.copy(frame, 4)
  return frame
}
