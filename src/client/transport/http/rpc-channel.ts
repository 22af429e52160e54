/**
 * The client end of WebSocket /v1/rpc (src/server/routes/rpc-route.ts): produce and fetch calls
 * as frames over one connection, answered by id in any order. Opened on the first call and
 * reopened after a loss; calls go out in the order they are made, so the server appends the
 * batches of one partition in that order.
 *
 * Failure rules are those of the HTTP client (http-client.ts), per call: a connection that is
 * refused is retried with backoff for up to `reconnectTimeoutMs`; a connection lost with calls in
 * flight fails them with the retriable NETWORK_EXCEPTION (outcome unknown, the idempotent
 * producer resends with the same sequence numbers) except idempotent calls (fetch), which are
 * sent again; an error frame is rethrown as the WeirError the embedded transport would throw.
 *
 * Frames go out with a zero masking key. RFC 6455 has clients mask so that script in a browser
 * cannot put chosen bytes on the wire to poison a proxy's cache (§10.3); a Node client has no such
 * script, and without the native `bufferutil` package `ws` masks in JavaScript, a pass over
 * every byte that made bulk produce over the socket slower than over HTTP. With a zero key both
 * ends skip the pass.
 */
import type { IncomingMessage } from 'node:http'
import { WebSocket } from 'ws'
import { WeirError } from '../../../errors.ts'
import { errorFromWire } from '../../../protocol/weir-proto.ts'
import {
  decodeRpcResponse, encodeRpcRequest, RPC_ID_MAX, type RpcCall, type RpcResult,
} from '../../../protocol/weir-rpc.ts'
import type { HttpClient } from './http-client.ts'

export interface RpcCallOptions {
  /** Time the server may legitimately hold the call (a fetch's long poll), added to the timeout. */
  readonly waitMs?: number
  /** Changes nothing on the server, so it is sent again after a lost connection. */
  readonly idempotent?: boolean
}

interface Pending {
  readonly resolve: (result: RpcResult) => void
  readonly reject: (error: unknown) => void
  readonly timer: NodeJS.Timeout
}

const CONNECT_REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'])
const RECONNECT_BACKOFF_MAX_MS = 1_000
const ERROR_BODY_BYTES_MAX = 4096
const zeroMask = (mask: Buffer): void => { mask.fill(0) }

export class RpcChannel {
  private socket: WebSocket | undefined
  private opening: Promise<WebSocket> | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private closed = false

  /** Shares the HTTP client's URL, token, timeouts and closing. */
  constructor(private readonly http: HttpClient) {}

  async call<C extends RpcCall>(call: C, options: RpcCallOptions = {}):
  Promise<Extract<RpcResult, { kind: C['kind'] }>> {
    const deadline = Date.now() + this.http.reconnectTimeoutMs
    let backoff = this.http.reconnectBackoffMs
    for (;;) {
      this.checkOpen()
      try {
        const result = await this.attempt(call, options.waitMs ?? 0)
        if (result.kind === 'error') throw result.error
        if (result.kind !== call.kind) {
          throw new WeirError('WEIR_ERR_SERVER_INTERNAL', `The server answered a ${call.kind} `
            + `call with a ${result.kind} result.`)
        }
        return result as Extract<RpcResult, { kind: C['kind'] }>
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        const neverSent = code !== undefined && CONNECT_REFUSED.has(code)
        const resendable = options.idempotent === true && !this.closed
          && (!WeirError.is(error) || error.code === 'NETWORK_EXCEPTION')
        if (WeirError.is(error) && !resendable) throw error
        if (!neverSent && !resendable) {
          throw new WeirError('NETWORK_EXCEPTION', `The ${call.kind} call to ${this.http.url} `
            + `failed: ${(error as Error).message}; it may or may not have been applied.`,
          { cause: error })
        }
        if (Date.now() + backoff > deadline) {
          throw new WeirError('NETWORK_EXCEPTION', `Cannot reach the Weir server at `
            + `${this.http.url} (${code ?? (error as Error).message}) after `
            + `${this.http.reconnectTimeoutMs} ms; start it with weir serve, or check the URL.`,
          { cause: error })
        }
        await new Promise(resolve => setTimeout(resolve, backoff))
        backoff = Math.min(backoff * 2, RECONNECT_BACKOFF_MAX_MS)
      }
    }
  }

  private get url(): string {
    return `${this.http.url.replace(/^http/, 'ws')}/v1/rpc`
  }

  private checkOpen(): void {
    if (this.closed) throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'This Weir client is closed.')
  }

  private async attempt(call: RpcCall, waitMs: number): Promise<RpcResult> {
    const socket = this.socket?.readyState === WebSocket.OPEN ? this.socket : await this.open()
    this.checkOpen()
    const id = this.nextId = this.nextId === RPC_ID_MAX ? 1 : this.nextId + 1
    const timeoutMs = this.http.requestTimeoutMs + waitMs
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new WeirError('NETWORK_EXCEPTION', `No answer from ${this.http.url} to a `
          + `${call.kind} call within ${timeoutMs} ms (requestTimeoutMs); it may or may not have `
          + 'been applied.'))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
      socket.send(encodeRpcRequest(id, call))
    })
  }

  /** Opens the connection, or joins the opening under way. */
  private open(): Promise<WebSocket> {
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const token = this.http.token
      const socket = new WebSocket(this.url, { generateMask: zeroMask, perMessageDeflate: false,
        handshakeTimeout: this.http.requestTimeoutMs,
        ...token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } } })
      socket.binaryType = 'nodebuffer'
      socket.once('open', () => {
        this.socket = socket
        resolve(socket)
      })
      socket.once('unexpected-response', (_request, response) => {
        // Terminated once the body is read: terminating first would reject with ws' own error.
        void refusal(response).catch((error: unknown) => error).then(error => {
          reject(error)
          socket.terminate()
        })
      })
      socket.on('error', reject)
      socket.on('message', (data: Buffer) => this.receive(socket, data))
      socket.once('close', (code, reason) => this.lost(socket, code, reason.toString('utf8')))
    }).finally(() => { this.opening = undefined })
    return this.opening
  }

  private receive(socket: WebSocket, data: Buffer): void {
    let frame
    try {
      frame = decodeRpcResponse(data)
    } catch (error) {
      socket.terminate()
      this.failPending(WeirError.is(error) ? error : new WeirError('NETWORK_EXCEPTION',
        `An rpc frame could not be read: ${(error as Error).message}`))
      return
    }
    const pending = this.pending.get(frame.id)
    if (pending === undefined) return // its call timed out
    this.pending.delete(frame.id)
    clearTimeout(pending.timer)
    pending.resolve(frame.result)
  }

  private lost(socket: WebSocket, code: number, reason: string): void {
    if (this.socket === socket) this.socket = undefined
    this.failPending(new WeirError('NETWORK_EXCEPTION', `The connection to ${this.http.url} was `
      + `lost (${code}${reason === '' ? '' : ` ${reason}`}) with calls in flight; they may or may `
      + 'not have been applied.'))
  }

  private failPending(error: WeirError): void {
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const { reject, timer } of pending) {
      clearTimeout(timer)
      reject(error)
    }
  }

  /** Fails calls in flight with WEIR_ERR_CLIENT_CLOSED and closes the connection. */
  close(): void {
    this.closed = true
    this.failPending(new WeirError('WEIR_ERR_CLIENT_CLOSED', 'This Weir client was closed '
      + 'while the call was in flight.'))
    this.socket?.terminate()
    this.socket = undefined
  }
}

/** The WeirError of a refused upgrade (401, 503 busy or shutting down), from its error body. */
async function refusal(response: IncomingMessage): Promise<WeirError> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    bytes += chunk.length
    if (bytes >= ERROR_BODY_BYTES_MAX) break
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: object }
    if (body.error !== undefined) return errorFromWire(body.error)
  } catch {
    // not Weir's error body
  }
  return new WeirError(response.statusCode === 401 ? 'WEIR_ERR_SERVER_UNAUTHORIZED'
    : 'NETWORK_EXCEPTION', `The server refused the rpc connection with HTTP `
    + `${response.statusCode ?? 0}.`)
}
