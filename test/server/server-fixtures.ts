/**
 * Fixtures shared by the server tests: a real WeirServer on 127.0.0.1 port 0 over a temp dir
 * (collecting every error it answered with 500, which a test expects to stay empty), one-call HTTP
 * requests with Node's global fetch (and with node:http where a test needs to own connections),
 * the check every refusal must pass (a 4xx whose JSON body is `{ error: { code, message,
 * retriable } }` with a code from src/errors.ts), and the end offsets of every user partition as
 * the server's own broker has them.
 */
import type { FetchRequest } from '../../src/broker/fetch.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import { type ErrorCode, errorCodes } from '../../src/errors.ts'
import { WeirServer, type WeirServerOptions } from '../../src/server/weir-server.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'

export const PROTOBUF = 'application/x-protobuf'
export const JSON_TYPE = 'application/json'

export type ServerOptions = Omit<WeirServerOptions, 'dir' | 'host' | 'port' | 'onInternalError'>

export interface TempServer {
  readonly server: WeirServer
  readonly dir: string
  /** Errors the server answered with 500 (bugs). */
  readonly internalErrors: unknown[]
  /** Closes the server (a no-op when already closed) and removes its directory. */
  dispose(): Promise<void>
}

function start(dir: string, options: ServerOptions, internalErrors: unknown[]):
Promise<WeirServer> {
  return WeirServer.start({ ...options, dir, host: '127.0.0.1', port: 0,
    onInternalError: error => { internalErrors.push(error) } })
}

/**
 * A server over a fresh temp dir, for a suite that keeps one server across tests
 * (`beforeAll`/`afterAll`); single tests use `withServer`.
 */
export async function startTempServer(options: ServerOptions = {}): Promise<TempServer> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-server-'))
  const internalErrors: unknown[] = []
  try {
    const server = await start(dir, options, internalErrors)
    return { server, dir, internalErrors, dispose: async () => {
      try {
        await server.close()
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    } }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** Runs `run` against a server over a fresh temp dir, then closes it and expects no 500. */
export async function withServer(options: ServerOptions,
  run: (server: WeirServer, dir: string) => Promise<void>): Promise<void> {
  await withTempDir('weir-server-', async dir => {
    const internalErrors: unknown[] = []
    const server = await start(dir, options, internalErrors)
    try {
      await run(server, dir)
    } finally {
      await server.close()
    }
    expect(internalErrors).toEqual([])
  })
}

export interface Answer {
  readonly status: number
  readonly contentType: string | null
  readonly body: Buffer
}

export interface CallOptions {
  readonly body?: Uint8Array | string | ReadableStream<Uint8Array>
  /** Sent as given; without it fetch picks one only for a string body (text/plain). */
  readonly contentType?: string
  readonly token?: string
}

/** One request with the global fetch; the answer's body read whole. */
export async function call(url: string, method: string, path: string, options: CallOptions = {}):
Promise<Answer> {
  const headers: Record<string, string> = {}
  if (options.contentType !== undefined) headers['content-type'] = options.contentType
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  const init: RequestInit & { duplex?: 'half' } = { method, headers }
  if (options.body !== undefined) {
    init.body = options.body as NonNullable<RequestInit['body']>
    // A stream body is sent chunked, which fetch allows only half-duplex.
    if (options.body instanceof ReadableStream) init.duplex = 'half'
  }
  const response = await fetch(`${url}${path}`, init)
  return { status: response.status, contentType: response.headers.get('content-type'),
    body: Buffer.from(await response.arrayBuffer()) }
}

/** A JSON request body. */
export const callJson = (url: string, method: string, path: string, body: unknown,
  token?: string): Promise<Answer> =>
  call(url, method, path, { body: JSON.stringify(body), contentType: JSON_TYPE,
    ...token === undefined ? {} : { token } })

export interface ErrorFields {
  readonly code: ErrorCode
  readonly message: string
  readonly retriable: boolean
}

/**
 * The error an answer carries, after checking it is a refusal the client can read: a 4xx (or the
 * given status), JSON, `{ error: { code, message, retriable } }` and nothing else, with a code
 * listed in src/errors.ts.
 */
export function errorOf(answer: Answer, status?: number): ErrorFields {
  const text = answer.body.toString('utf8')
  if (status === undefined) {
    const expected = `expected a 4xx, got ${answer.status}: ${text}`
    expect(answer.status, expected).toBeGreaterThanOrEqual(400)
    expect(answer.status, expected).toBeLessThan(500)
  } else {
    expect(answer.status, text).toBe(status)
  }
  expect(answer.contentType ?? '').toMatch(/^application\/json/)
  const parsed = JSON.parse(text) as { error?: Partial<ErrorFields> }
  expect(Object.keys(parsed)).toEqual(['error'])
  const error = parsed.error!
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'retriable'])
  expect(errorCodes).toContain(error.code)
  expect(typeof error.message).toBe('string')
  expect(error.message!.length).toBeGreaterThan(0)
  expect(typeof error.retriable).toBe('boolean')
  return error as ErrorFields
}

/** `/health` answers `{ status: 'ok' }`. */
export async function expectHealthy(url: string): Promise<void> {
  const answer = await call(url, 'GET', '/health')
  expect(answer.status).toBe(200)
  expect(JSON.parse(answer.body.toString('utf8'))).toEqual({ status: 'ok' })
}

/** Log end offset of every partition of every user topic, keyed `topic/partition`. */
export function logEndOffsets(server: WeirServer): Map<string, number> {
  const broker = server.transport.broker
  const ends = new Map<string, number>()
  for (const topic of broker.listTopics()) {
    for (const state of broker.describeTopic(topic.name).partitionStates) {
      ends.set(`${topic.name}/${state.partition}`, state.logEndOffset)
    }
  }
  return ends
}

export interface HttpAnswer extends Answer {
  /** The response's Connection header. */
  readonly connection: string | undefined
}

/**
 * A request with node:http over `agent`'s connections (kept open by a keep-alive agent; `false`
 * for a connection of its own), where a test counts connections or reads Connection headers.
 */
export function request(url: string, path: string, agent: http.Agent | false,
  body?: { bytes: Uint8Array, contentType: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(`${url}${path}`, { agent, method: body ? 'POST' : 'GET',
      headers: body ? { 'content-type': body.contentType } : {} }, response => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.once('end', () => resolve({ status: response.statusCode ?? 0,
        contentType: response.headers['content-type'] ?? null, body: Buffer.concat(chunks),
        connection: response.headers.connection }))
      response.once('error', reject)
    })
    outgoing.once('error', reject)
    outgoing.end(body?.bytes)
  })
}

export const get = (url: string, path: string, agent: http.Agent | false): Promise<HttpAnswer> =>
  request(url, path, agent)

/**
 * Wraps the server's transport (the seam every route calls) to count its produce and fetch
 * calls: the most running at once, and how many fetches began.
 */
export function countCalls(server: WeirServer): { running: number, most: number, fetches: number } {
  const counts = { running: 0, most: 0, fetches: 0 }
  const transport = server.transport
  const enter = <T>(inside: Promise<T>): Promise<T> => {
    counts.most = Math.max(counts.most, ++counts.running)
    return inside.finally(() => { counts.running-- })
  }
  const fetchInside = transport.fetch.bind(transport)
  const produceInside = transport.produce.bind(transport)
  transport.fetch = (request: FetchRequest) => {
    counts.fetches++
    return enter(fetchInside(request))
  }
  transport.produce = request => enter(produceInside(request))
  return counts
}
