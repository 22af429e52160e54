/**
 * Requests to a Weir server over HTTP/1.1 with keep-alive connections (node:http, no dependency).
 *
 * Failure rules, which the idempotent producer and the group client rely on:
 * - A refused connection means the request never reached the server (it is restarting, or not
 *   up yet): it is retried with backoff for up to `reconnectTimeoutMs`, then NETWORK_EXCEPTION.
 * - Any other failure after the request may have been sent (reset, a timeout) is
 *   NETWORK_EXCEPTION at once: retriable, outcome unknown. The caller decides; the idempotent
 *   producer retries with the same sequence numbers, so the broker drops a duplicate.
 *   GETs and requests marked `idempotent` (fetch, list offsets, describe) are the exception: they
 *   change nothing, so they are retried like refused ones (a server killed under a keep-alive
 *   connection resets it).
 * - An answer with an error status carries `{ error: { code, message } }`: rethrown as the same
 *   WeirError the embedded transport would have thrown.
 */
import http from 'node:http'
import { WeirError } from '../../../errors.ts'
import { errorFromWire } from '../../../protocol/weir-proto.ts'

export interface HttpClientOptions {
  /** e.g. http://127.0.0.1:8092 */
  readonly url: string
  readonly token?: string
  /** Longest a request may take beyond its own wait (a fetch's maxWaitMs). Default 30 s. */
  readonly requestTimeoutMs?: number
  /** How long refused connections are retried before NETWORK_EXCEPTION. Default 30 s. */
  readonly reconnectTimeoutMs?: number
  /** Wait between two attempts to connect (doubles up to 1 s). Default 50 ms. */
  readonly reconnectBackoffMs?: number
}

export interface HttpResponse {
  readonly status: number
  readonly body: Buffer
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly path: string
  readonly body?: Uint8Array | string
  readonly contentType?: string
  /** Time the server may legitimately hold the request (a long poll), added to the timeout. */
  readonly waitMs?: number
  /** Changes nothing on the server, so any network failure may be retried (every GET does). */
  readonly idempotent?: boolean
}

const CONNECT_REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'])
const RECONNECT_BACKOFF_MAX_MS = 1_000

export class HttpClient {
  private readonly base: URL
  private readonly agent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 })
  private readonly inFlight = new Set<http.ClientRequest>()
  private closed = false
  readonly requestTimeoutMs: number
  readonly reconnectTimeoutMs: number
  readonly reconnectBackoffMs: number

  constructor(private readonly options: HttpClientOptions) {
    try {
      this.base = new URL(options.url)
    } catch {
      throw new WeirError('INVALID_CONFIG', `'${options.url}' is not a URL; give the server's `
        + 'address, e.g. http://127.0.0.1:8092.')
    }
    if (this.base.protocol !== 'http:') {
      throw new WeirError('INVALID_CONFIG', `Weir.connect speaks http:, not ${this.base.protocol} `
        + `(${options.url}); put a TLS-terminating proxy in front for https.`)
    }
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.reconnectTimeoutMs = options.reconnectTimeoutMs ?? 30_000
    this.reconnectBackoffMs = options.reconnectBackoffMs ?? 50
  }

  get url(): string {
    return this.base.origin
  }

  get token(): string | undefined {
    return this.options.token
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    const deadline = Date.now() + this.reconnectTimeoutMs
    let backoff = this.reconnectBackoffMs
    for (;;) {
      this.checkOpen()
      try {
        return await this.attempt(request)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        const neverSent = code !== undefined && CONNECT_REFUSED.has(code)
        const resendable = (request.idempotent === true || request.method === 'GET')
          && !this.closed && (!WeirError.is(error) || error.code === 'NETWORK_EXCEPTION')
        if (WeirError.is(error) && !resendable) throw error
        if (!neverSent && !resendable) throw asNetworkError(error, request)
        if (Date.now() + backoff > deadline) {
          throw new WeirError('NETWORK_EXCEPTION', `Cannot reach the Weir server at ${this.url} `
            + `(${code ?? (error as Error).message}) after ${this.reconnectTimeoutMs} ms; start it `
            + 'with weir serve, or check the URL.', { cause: error })
        }
        await new Promise(resolve => setTimeout(resolve, backoff))
        backoff = Math.min(backoff * 2, RECONNECT_BACKOFF_MAX_MS)
      }
    }
  }

  /** Parses a JSON answer. */
  async json<T>(request: HttpRequest): Promise<T> {
    const response = await this.request(request)
    return (response.status === 204 ? undefined : JSON.parse(response.body.toString('utf8'))) as T
  }

  private checkOpen(): void {
    if (this.closed) throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'This Weir client is closed.')
  }

  private attempt(request: HttpRequest): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const body = request.body === undefined ? undefined
        : typeof request.body === 'string' ? Buffer.from(request.body) : request.body
      const headers: http.OutgoingHttpHeaders = {}
      if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`
      if (body !== undefined) {
        headers['content-type'] = request.contentType ?? 'application/json'
        headers['content-length'] = body.byteLength
      }
      const outgoing = http.request(new URL(request.path, this.base), { method: request.method,
        headers, agent: this.agent, timeout: this.requestTimeoutMs + (request.waitMs ?? 0) })
      this.inFlight.add(outgoing)
      outgoing.once('close', () => this.inFlight.delete(outgoing))
      outgoing.once('timeout', () => outgoing.destroy(new WeirError('NETWORK_EXCEPTION',
        `No answer from ${this.url} to ${request.method} ${request.path} within `
        + `${this.requestTimeoutMs + (request.waitMs ?? 0)} ms (requestTimeoutMs); it may or may `
        + 'not have been applied.')))
      outgoing.once('error', reject)
      outgoing.once('response', response => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.once('error', reject)
        response.once('end', () => {
          const status = response.statusCode ?? 0
          const bytes = Buffer.concat(chunks)
          if (status >= 200 && status < 300) resolve({ status, body: bytes })
          else reject(errorOfResponse(status, bytes, request))
        })
      })
      outgoing.end(body)
    })
  }

  /** Aborts requests in flight (they reject with WEIR_ERR_CLIENT_CLOSED) and frees sockets. */
  close(): void {
    this.closed = true
    for (const outgoing of this.inFlight) {
      outgoing.destroy(new WeirError('WEIR_ERR_CLIENT_CLOSED', 'This Weir client was closed '
        + 'while the request was in flight.'))
    }
    this.agent.destroy()
  }
}

function errorOfResponse(status: number, body: Buffer, request: HttpRequest): WeirError {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { code?: unknown,
      message?: unknown } }
    if (parsed.error !== undefined) return errorFromWire(parsed.error)
  } catch {
    // not Weir's error body: a proxy or another server answered
  }
  const text = body.toString('utf8').slice(0, 200)
  return new WeirError(status >= 500 ? 'NETWORK_EXCEPTION' : 'INVALID_REQUEST',
    `${request.method} ${request.path} answered ${status} without a Weir error body: ${text}`)
}

function asNetworkError(error: unknown, request: HttpRequest): WeirError {
  if (WeirError.is(error)) return error
  return new WeirError('NETWORK_EXCEPTION', `${request.method} ${request.path} failed: `
    + `${(error as Error).message}; it may or may not have been applied.`, { cause: error })
}
