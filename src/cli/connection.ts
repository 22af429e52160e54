/**
 * How client commands reach a broker: `--url` (a `weir serve` server; default $WEIR_URL, else
 * http://127.0.0.1:8092) with `--token` (default $WEIR_TOKEN), `--dir` for an embedded broker
 * in this process (the directory's lock is taken, see dir-lock.ts), or `--kafka` for a Kafka
 * cluster (Weir.kafka; any Kafka, Redpanda, or a Weir server's Kafka listener). Connecting
 * waits at most `CONNECT_TIMEOUT_MS` for a server that refuses connections, then fails with
 * NETWORK_EXCEPTION: a CLI should say "not reachable" quickly, not wait the client's 30 s.
 *
 * The client is imported here, when a command connects, not when the CLI starts.
 */
import type { Weir } from '../client/weir.ts'
import { type OptionSpecs, type Parsed, UsageError } from './command.ts'
import { lockDirectory } from './dir-lock.ts'

export const DEFAULT_URL = 'http://127.0.0.1:8092'
export const CONNECT_TIMEOUT_MS = 2_000

export const connectionOptions: OptionSpecs = {
  url: { type: 'string' },
  dir: { type: 'string' },
  token: { type: 'string' },
  kafka: { type: 'string' },
}

export const connectionHelp = `connection:
  --url URL     the server (default $WEIR_URL, else ${DEFAULT_URL})
  --token T     its bearer token (default $WEIR_TOKEN)
  --dir PATH    use an embedded broker on this data directory instead of a server
                (not while a server runs on it: use --url then)
  --kafka H:P,… a Kafka cluster's bootstrap brokers instead (Weir.kafka)`

export interface Connection {
  readonly weir: Weir
  /** The URL, or `dir <path>`, for messages. */
  readonly target: string
  /** The data directory with --dir. */
  readonly dir: string | undefined
  close(): Promise<void>
}

/** The server URL these arguments name (--url, else $WEIR_URL, else the default). */
export function urlOf(args: Parsed): string {
  const fromEnv = process.env.WEIR_URL
  return args.string('url') ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_URL)
}

/**
 * Connects as the arguments say. `reconnectTimeoutMs` (long-running commands: consume, run) is
 * how long later requests wait for a restarting server; the first answer is still awaited only
 * `CONNECT_TIMEOUT_MS`.
 */
export async function connect(args: Parsed, options: { reconnectTimeoutMs?: number } = {}):
Promise<Connection> {
  const kafka = args.string('kafka')
  if (kafka !== undefined) return connectKafka(args, kafka)
  const dir = args.string('dir')
  if (dir !== undefined) {
    if (args.has('url') || args.has('token')) {
      throw new UsageError('--dir opens an embedded broker; it does not go with --url or --token')
    }
    const { Weir } = await import('../client/weir.ts')
    const unlock = await lockDirectory(dir)
    let weir: Weir
    try {
      weir = await Weir.open({ dir })
    } catch (error) {
      await unlock()
      throw error
    }
    return { weir, target: `dir ${dir}`, dir, close: async () => {
      try {
        await weir.close()
      } finally {
        await unlock()
      }
    } }
  }
  const url = urlOf(args)
  const envToken = process.env.WEIR_TOKEN
  const token = args.string('token') ?? (envToken === '' ? undefined : envToken)
  const { Weir } = await import('../client/weir.ts')
  const auth = token === undefined ? {} : { token }
  let weir = await Weir.connect(url, { ...auth, reconnectTimeoutMs: CONNECT_TIMEOUT_MS })
  if (options.reconnectTimeoutMs !== undefined) {
    await weir.close()
    weir = await Weir.connect(url, { ...auth, reconnectTimeoutMs: options.reconnectTimeoutMs })
  }
  const connected = weir
  return { weir, target: url, dir: undefined, close: () => connected.close() }
}

async function connectKafka(args: Parsed, brokerList: string): Promise<Connection> {
  if (args.has('dir') || args.has('url') || args.has('token')) {
    throw new UsageError('--kafka reaches a Kafka cluster; it does not go with --dir, --url or '
      + '--token')
  }
  const brokers = brokerList.split(',').map(broker => broker.trim()).filter(b => b !== '')
  const { Weir } = await import('../client/weir.ts')
  const weir = await Weir.kafka({ brokers, clientId: 'weir-cli',
    connectionTimeoutMs: CONNECT_TIMEOUT_MS })
  return { weir, target: `kafka ${brokers.join(',')}`, dir: undefined,
    close: () => weir.close() }
}

/** Runs `work` with a connection, closing it afterwards whatever happens. */
export async function withConnection<T>(args: Parsed, work: (connection: Connection) =>
Promise<T>, options: { reconnectTimeoutMs?: number } = {}): Promise<T> {
  const connection = await connect(args, options)
  try {
    return await work(connection)
  } finally {
    await connection.close()
  }
}
