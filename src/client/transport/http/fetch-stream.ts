/**
 * The client end of the WebSocket streaming fetch (/v1/fetch/stream): an async iterable of
 * FetchResult arrays, one per frame the server pushes. At most 16 frames wait for the reader; then
 * the socket is paused, TCP back-pressure fills the server's send buffer, and the server stops
 * reading the log for this stream, so a slow reader is throttled rather than flooded. The stream
 * ends when `close()` is called; a server that closes it (shutdown, a malformed subscription)
 * ends it with NETWORK_EXCEPTION or the server's code.
 */
import { WebSocket } from 'ws'
import { type ErrorCode, errorCodeInfo, WeirError } from '../../../errors.ts'
import type { FetchResult } from '../../../broker/fetch.ts'
import {
  decodeFetchResponse, encodeStreamFetchRequest, type StreamFetchRequest,
} from '../../../protocol/weir-proto.ts'

/** Frames read ahead of the reader before the socket is paused. */
const QUEUED_FRAMES_MAX = 16

type Waiter = { resolve: (result: IteratorResult<FetchResult[]>) => void,
  reject: (error: unknown) => void }

export class FetchStream implements AsyncIterable<FetchResult[]> {
  private readonly socket: WebSocket
  private readonly frames: FetchResult[][] = []
  private waiter: Waiter | undefined
  private ended: { error?: WeirError } | undefined
  private request: StreamFetchRequest

  constructor(url: string, token: string | undefined, request: StreamFetchRequest,
    private readonly onClose: () => void) {
    this.request = request
    const wsUrl = `${url.replace(/^http/, 'ws')}/v1/fetch/stream`
    this.socket = new WebSocket(wsUrl, token === undefined ? {}
      : { headers: { authorization: `Bearer ${token}` } })
    this.socket.binaryType = 'nodebuffer'
    this.socket.on('open', () => this.socket.send(encodeStreamFetchRequest(this.request)))
    this.socket.on('message', (data: Buffer) => {
      try {
        this.push(decodeFetchResponse(data))
      } catch (error) {
        this.end(WeirError.is(error) ? error : new WeirError('NETWORK_EXCEPTION',
          `A streaming fetch frame could not be read: ${(error as Error).message}`))
      }
    })
    this.socket.on('unexpected-response', (_request, response) => {
      this.end(new WeirError(response.statusCode === 401 ? 'WEIR_ERR_SERVER_UNAUTHORIZED'
        : 'NETWORK_EXCEPTION', `The server refused the stream with HTTP ${response.statusCode}.`))
      this.socket.terminate()
    })
    this.socket.on('error', error => this.end(new WeirError('NETWORK_EXCEPTION',
      `The streaming fetch from ${url} failed: ${error.message}`, { cause: error })))
    this.socket.on('close', (code, reason) => {
      const text = reason.toString('utf8')
      if (code === 1000 || this.ended !== undefined) this.end()
      else if (text in errorCodeInfo) {
        this.end(new WeirError(text as ErrorCode, `The server closed the stream: ${text}.`))
      } else {
        this.end(new WeirError('NETWORK_EXCEPTION', `The server closed the stream (${code}).`))
      }
    })
  }

  /** Moves the stream: from now on the server sends these partitions from these offsets. */
  seek(request: StreamFetchRequest): void {
    this.request = request
    this.frames.length = 0
    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(encodeStreamFetchRequest(request))
    }
  }

  close(): void {
    this.end()
    if (this.socket.readyState === WebSocket.CONNECTING) this.socket.terminate()
    else this.socket.close(1000)
  }

  private push(frame: FetchResult[]): void {
    if (this.ended !== undefined) return
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter.resolve({ value: frame, done: false })
    } else {
      this.frames.push(frame)
      // Stop reading the socket: TCP back-pressure reaches the server, which stops reading the log.
      if (this.frames.length >= QUEUED_FRAMES_MAX) this.socket.pause()
    }
  }

  private end(error?: WeirError): void {
    if (this.ended !== undefined) return
    this.ended = error === undefined ? {} : { error }
    this.onClose()
    const waiter = this.waiter
    this.waiter = undefined
    if (waiter === undefined) return
    if (error === undefined) waiter.resolve({ value: undefined, done: true })
    else waiter.reject(error)
  }

  private next(): Promise<IteratorResult<FetchResult[]>> {
    const frame = this.frames.shift()
    if (this.frames.length < QUEUED_FRAMES_MAX / 2 && this.socket.isPaused) this.socket.resume()
    if (frame !== undefined) return Promise.resolve({ value: frame, done: false })
    if (this.ended !== undefined) {
      return this.ended.error === undefined ? Promise.resolve({ value: undefined, done: true })
        : Promise.reject(this.ended.error)
    }
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject } })
  }

  [Symbol.asyncIterator](): AsyncIterator<FetchResult[]> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close()
        return { value: undefined, done: true }
      },
    }
  }
}
