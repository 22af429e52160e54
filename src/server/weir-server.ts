/**
 * Weir as a server: an embedded broker (with its group and transaction coordinators) behind a
 * fastify HTTP server, so that applications in other processes and on other machines use it
 * through `Weir.connect(url)`. The endpoints are listed in the README ("Server API"):
 * binary produce and fetch (protobuf, proto/weir.proto) over HTTP and as frames of the WebSocket
 * /v1/rpc (the remote client's data channel), a WebSocket streaming fetch, JSON
 * endpoints for everything else a client does, `/metrics` (Prometheus) and `/health`.
 *
 * Every route answers errors as `{ error: { code, message, retriable } }` with a status from the
 * code (src/server/http-errors.ts); a body that is not valid protobuf or does not match its JSON
 * schema is a 400 and reaches nothing. With a token, every endpoint but `/health` needs
 * `Authorization: Bearer <token>` (401 otherwise).
 *
 * `close()` is the graceful shutdown: new requests get 503 WEIR_ERR_SERVER_SHUTTING_DOWN,
 * requests in flight finish (long polls within their wait, at most `shutdownGraceMs`), streams
 * end, then the broker flushes and closes its logs. Acknowledged records were already on disk
 * under `flush: 'always'`; the close only adds the final checkpoints.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { Socket } from 'node:net'
import fastifyWebsocket from '@fastify/websocket'
import Fastify, { type FastifyInstance } from 'fastify'
import { type EmbeddedOptions, EmbeddedTransport } from '../client/transport/embedded.ts'
import { WeirError } from '../errors.ts'
import { type ServerLimits, serverLimitDefaults } from '../limits.ts'
import { NodeFileSystem } from '../util/node-file-system.ts'
import { asWeirError, errorBody, httpStatusOf } from './http-errors.ts'
import { KafkaListener } from './kafka/kafka-listener.ts'
import { ServerMetrics } from './metrics/server-metrics.ts'
import { timedFileSystem } from './metrics/timed-file-system.ts'
import { registerAdminRoutes } from './routes/admin-routes.ts'
import { registerBinaryRoutes } from './routes/binary-routes.ts'
import { registerGroupRoutes } from './routes/group-routes.ts'
import { registerRpcRoute, type RpcRoute } from './routes/rpc-route.ts'
import { registerStreamFetchRoute } from './routes/stream-fetch-route.ts'
import { registerTransactionRoutes } from './routes/transaction-routes.ts'

export const DEFAULT_SERVER_PORT = 8092
export const DEFAULT_SERVER_HOST = '127.0.0.1'

export interface WeirServerOptions {
  readonly dir: string
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 8092; 0 picks a free port (see `url`). */
  readonly port?: number
  /** When set, every endpoint but /health needs `Authorization: Bearer <token>`. */
  readonly token?: string
  readonly limits?: Partial<ServerLimits>
  /** Options of the embedded broker (everything `Weir.open` takes but `dir`). */
  readonly broker?: Omit<EmbeddedOptions, 'dir'>
  /** Called with errors the server answered with 500 (bugs); default: written to stderr. */
  readonly onInternalError?: (error: unknown) => void
  /**
   * Also serve the Kafka wire protocol on this port (src/server/kafka; same host), for Kafka
   * clients and tools; 0 picks a free port (see `kafkaPort`). Default: not served. It has no
   * authentication (no SASL): the token does not protect it.
   */
  readonly kafkaPort?: number
}

const overLimit = Symbol('weir.connectionOverLimit')
type CountedSocket = Socket & { [overLimit]?: boolean }

export class WeirServer {
  private closing: Promise<void> | undefined

  private constructor(
    private readonly app: FastifyInstance,
    readonly transport: EmbeddedTransport,
    readonly metrics: ServerMetrics,
    readonly url: string,
    readonly limits: ServerLimits,
    private readonly kafka: KafkaListener | undefined,
  ) {}

  /** The Kafka listener's port, when it runs. */
  get kafkaPort(): number | undefined {
    return this.kafka?.port
  }

  static async start(options: WeirServerOptions): Promise<WeirServer> {
    const limits: ServerLimits = { ...serverLimitDefaults, ...options.limits }
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new WeirError('INVALID_CONFIG', `Server limit ${name}=${String(value)} is invalid: `
          + 'it must be an integer ≥ 1.')
      }
    }
    const metrics = new ServerMetrics()
    const fs = timedFileSystem(options.broker?.fs ?? new NodeFileSystem(),
      seconds => metrics.fsyncSeconds.observe(seconds))
    const transport = await EmbeddedTransport.open({ ...options.broker, dir: options.dir, fs })
    let closing = false
    const app = Fastify({
      bodyLimit: limits.requestBytesMax,
      return503OnClosing: false,
      forceCloseConnections: 'idle',
      // No coercion: fastify's default (coerceTypes 'array') would turn a malformed body into a
      // valid one — {"topics":[["a"]]} into a delete of topic a, a null partition into 0.
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    })
    try {
      let connections = 0
      app.server.maxConnections = limits.connectionsMax * 2
      app.server.on('connection', (socket: CountedSocket) => {
        connections++
        if (connections > limits.connectionsMax) socket[overLimit] = true
        socket.once('close', () => { connections-- })
      })
      const internal = options.onInternalError ?? ((error: unknown) => {
        const text = String((error as Error).stack ?? error)
        process.stderr.write(`weir server: internal error: ${text}\n`)
      })

      // Registered before the hooks below so that its own onRequest hook marks a WebSocket
      // upgrade first: when a hook below refuses one (401, 503), the plugin's onResponse hook then
      // destroys the upgrade's socket. Registered after them, the refused upgrade's socket stayed
      // open (an upgraded socket is no longer the HTTP server's to close) and close() never ended.
      // Its preClose is ours: calls in flight on /v1/rpc finish before the sockets are closed.
      let rpc: RpcRoute | undefined
      await app.register(fastifyWebsocket, {
        options: { maxPayload: limits.requestBytesMax },
        preClose: async () => {
          closing = true
          await rpc?.drain()
          for (const client of app.websocketServer.clients) client.close(1001)
        },
      })
      app.addHook('onRequest', async (request, reply) => {
        if ((request.raw.socket as CountedSocket)[overLimit] === true) {
          reply.header('connection', 'close')
          throw new WeirError('WEIR_ERR_SERVER_BUSY', `The server has ${limits.connectionsMax} `
            + 'connections open (connectionsMax); retry later or reuse connections.')
        }
        if (closing) {
          reply.header('connection', 'close')
          throw new WeirError('WEIR_ERR_SERVER_SHUTTING_DOWN', 'The server is shutting down; '
            + 'retry against the restarted server.')
        }
        if (options.token !== undefined && request.url !== '/health'
          && !tokenMatches(request.headers.authorization, options.token)) {
          throw new WeirError('WEIR_ERR_SERVER_UNAUTHORIZED', 'This server needs a bearer token: '
            + 'send Authorization: Bearer <token> (Weir.connect(url, { token }), --token).')
        }
      })
      app.addHook('onSend', async (_request, reply) => {
        // An answer sent while closing ends its connection: the close ends idle keep-alive
        // connections only once, as it begins, so one whose request was in flight then would
        // stay open and hold the close for the whole shutdownGraceMs.
        if (closing) reply.header('connection', 'close')
      })
      app.addHook('onResponse', async (request, reply) => {
        const route = request.routeOptions.url ?? 'unmatched'
        metrics.requests.inc({ route, status: String(reply.statusCode) })
        metrics.requestSeconds.observe(reply.elapsedTime / 1000, { route })
      })
      app.setErrorHandler(async (error, _request, reply) => {
        const weirError = asWeirError(error)
        const status = httpStatusOf(weirError)
        if (status === 500) internal(error)
        return reply.code(status).send(errorBody(weirError))
      })
      app.setNotFoundHandler(async (request, reply) => reply.code(404).send(errorBody(
        new WeirError('WEIR_ERR_SERVER_NOT_FOUND', `No endpoint ${request.method} `
          + `${request.url.split('?')[0]}; see the README's server API.`))))

      app.get('/health', async () => ({ status: 'ok' }))
      app.get('/metrics', async (_request, reply) => reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .send(await metrics.scrape(transport, connections)))
      registerBinaryRoutes(app, { transport, limits, metrics })
      registerStreamFetchRoute(app, { transport, limits, metrics, closing: () => closing })
      rpc = registerRpcRoute(app, { transport, limits, metrics, closing: () => closing,
        onInternalError: internal })
      registerAdminRoutes(app, transport)
      registerGroupRoutes(app, transport)
      registerTransactionRoutes(app, transport)
      app.addHook('preClose', async () => { closing = true })

      await app.listen({ host: options.host ?? DEFAULT_SERVER_HOST,
        port: options.port ?? DEFAULT_SERVER_PORT })
    } catch (error) {
      await app.close().catch(() => {})
      await transport.close()
      throw error
    }
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : options.port
    const host = options.host ?? DEFAULT_SERVER_HOST
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    let kafka: KafkaListener | undefined
    if (options.kafkaPort !== undefined) {
      try {
        kafka = await KafkaListener.start({ transport, host, port: options.kafkaPort,
          autoCreateTopics: options.broker?.autoCreateTopics === true })
      } catch (error) {
        await app.close().catch(() => {})
        await transport.close()
        if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error
        throw new WeirError('INVALID_CONFIG', `The Kafka port ${host}:${options.kafkaPort} is `
          + 'in use (a Kafka broker?); pass --kafka-port with a free port, or 0 to turn the '
          + 'Kafka listener off.', { cause: error })
      }
    }
    return new WeirServer(app, transport, metrics, url, limits, kafka)
  }

  /** Stops accepting, finishes requests in flight, then flushes and closes the broker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const force = setTimeout(() => this.app.server.closeAllConnections(),
        this.limits.shutdownGraceMs)
      try {
        await this.kafka?.close()
        await this.app.close()
      } finally {
        clearTimeout(force)
        await this.transport.close()
      }
    })()
    return this.closing
  }
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token))
}
