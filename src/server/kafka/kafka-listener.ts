/**
 * The Kafka wire-protocol listener (issue 9): a TCP server on which existing Kafka clients
 * talk to a Weir broker unchanged. It serves the API versions in
 * src/protocol/kafka/apis/index.ts through one handler per API, over Weir's client transport.
 *
 * Limits (explicit, configurable): `frameBytesMax` (default 100 MiB, Kafka's
 * socket.request.max.bytes) bounds one request; `connectionsMax` (default 1,000) refuses
 * connections beyond it by closing them at once.
 */
import { createServer, type Server, type Socket } from 'node:net'
import type { Transport } from '../../client/transport/transport.ts'
import { handleApiVersions } from './api-versions-handler.ts'
import { KafkaConnection } from './kafka-connection.ts'
import { KAFKA_PORT_DEFAULT } from './kafka-port.ts'
import type { KafkaContext, KafkaHandler } from './kafka-context.ts'
import { groupHandlers } from './group-handlers.ts'
import { handleMetadata } from './metadata-handler.ts'
import { produceFetchHandlers } from './produce-fetch-handlers.ts'
import { txnAdminHandlers } from './txn-admin-handlers.ts'

const FRAME_BYTES_MAX_DEFAULT = 100 * 1024 * 1024
const CONNECTIONS_MAX_DEFAULT = 1_000

export interface KafkaListenerOptions {
  readonly transport: Transport
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 9092; 0 picks a free port. */
  readonly port?: number
  /** The host clients are told to reconnect to (Metadata); default `host`. */
  readonly advertisedHost?: string
  readonly frameBytesMax?: number
  readonly connectionsMax?: number
  /** Hears why a connection was closed by the listener. */
  readonly onConnectionClosed?: (reason: string) => void
  /**
   * Metadata creates a requested topic that does not exist, when the request allows it (as
   * Kafka's auto.create.topics.enable); default false. Give the broker's `autoCreateTopics`.
   */
  readonly autoCreateTopics?: boolean
}

const handlers: ReadonlyMap<number, KafkaHandler> = new Map([
  [18, handleApiVersions],
  [3, handleMetadata],
  ...produceFetchHandlers, ...groupHandlers, ...txnAdminHandlers,
])

export class KafkaListener {
  private readonly sockets = new Set<Socket>()

  private constructor(private readonly server: Server, readonly host: string,
    readonly port: number) {}

  /** Listens; resolves once the port is bound. */
  static async start(options: KafkaListenerOptions): Promise<KafkaListener> {
    const host = options.host ?? '127.0.0.1'
    const frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT
    const connectionsMax = options.connectionsMax ?? CONNECTIONS_MAX_DEFAULT
    const server = createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? KAFKA_PORT_DEFAULT, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    const listener = new KafkaListener(server, host, port)
    const context: KafkaContext = { transport: options.transport,
      advertised: { host: options.advertisedHost ?? host, port },
      autoCreateTopics: options.autoCreateTopics === true }
    server.on('connection', socket => {
      if (listener.sockets.size >= connectionsMax) {
        options.onConnectionClosed?.(`more than ${connectionsMax} connections`)
        socket.destroy()
        return
      }
      listener.sockets.add(socket)
      socket.on('close', () => listener.sockets.delete(socket))
      socket.setNoDelay(true)
      const onClose = options.onConnectionClosed
      // The connection lives through its socket's listeners.
      new KafkaConnection(socket, { context, handlers, frameBytesMax,
        ...(onClose === undefined ? {} : { onClose }) })
    })
    return listener
  }

  /** Stops accepting, closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    await closed
  }
}
