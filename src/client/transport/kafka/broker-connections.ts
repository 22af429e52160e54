/**
 * Connections to the brokers of a Kafka cluster, one request in flight per connection.
 *
 * A Kafka broker answers the requests of one connection one at a time, in order. A JoinGroup
 * waits there until the whole group has joined and a Fetch until data arrives, so a request
 * queued behind them on the same connection would wait too — and a second member of the same
 * group, joining through the same Weir instance, would never get its JoinGroup sent. So every
 * request takes an idle connection of its broker, or opens one (up to
 * `connectionsPerBrokerMax` per client id, then it queues), and gives it back when answered.
 */
import { type ApiVersionSchema } from '../../../protocol/kafka/api.ts'
import {
  FrameReader, FrameWriter, message, readMessage, writeMessage,
} from '../../../protocol/kafka/schema.ts'
import { WeirError } from '../../../errors.ts'
import {
  type ConnectionSettings, type KafkaJsConnection, kafkaJsFailure, openKafkaJsConnection,
  rawRequest,
} from './kafkajs-connection.ts'

export interface BrokerAddress {
  readonly host: string
  readonly port: number
}

export interface ConnectionPoolSettings extends ConnectionSettings {
  readonly connectionsPerBrokerMax: number
}

interface BrokerPool {
  readonly idle: KafkaJsConnection[]
  open: number
  readonly waiting: Array<() => void>
}

const SASL_AUTHENTICATE = 36
const API_VERSIONS = 18

export interface SendOptions {
  readonly timeoutMs?: number
  /** False for a Produce with acks 0: the broker sends nothing back. */
  readonly expectResponse?: boolean
  /**
   * The client id in the request header, when not the transport's: a JoinGroup carries its
   * consumer's, which the coordinator shows in DescribeGroups. Connections are kept per id.
   */
  readonly clientId?: string
}

/** Connections to one broker under one client id. */
interface Lane extends BrokerAddress {
  readonly clientId: string
}

export const addressKey = (address: BrokerAddress): string => `${address.host}:${address.port}`

export class BrokerConnections {
  private readonly pools = new Map<string, BrokerPool>()
  /** Every open connection, idle or busy: close() ends the busy ones too (a long poll). */
  private readonly all = new Set<KafkaJsConnection>()
  private closed = false
  /** Before SASL, a connection must know the broker's API versions (KafkaJS asks for them). */
  saslVersions?: Record<number, { minVersion: number, maxVersion: number }>

  constructor(private readonly settings: ConnectionPoolSettings) {}

  /**
   * Sends one request and reads its response with the schema's response layout; undefined when
   * the request expects none (a Produce with acks 0).
   * @throws NETWORK_EXCEPTION when the connection fails, REQUEST_TIMED_OUT after `timeoutMs`
   */
  async send<T>(address: BrokerAddress, schema: ApiVersionSchema, body: object,
    options: SendOptions = {}): Promise<T | undefined> {
    const writer = new FrameWriter()
    // KafkaJS writes request header v1; a flexible version's header v2 adds an (empty) tagged
    // field section right after it, which is the body's first byte here.
    if (schema.request.flexible) writer.uvarint(0)
    writeMessage(writer, schema.request, body)
    const raw = rawRequest(schema.apiKey, schema.version, schema.name, writer.toBuffer(),
      options.expectResponse ?? true)
    const lane = { ...address, clientId: options.clientId ?? this.settings.clientId }
    const connection = await this.acquire(lane)
    this.prepareSasl(connection)
    let healthy = true
    try {
      const payload = await connection.send({ ...raw, logResponseError: false,
        requestTimeout: options.timeoutMs ?? this.settings.requestTimeoutMs })
      return payload === undefined ? undefined : decode<T>(payload, schema, address)
    } catch (error) {
      healthy = false
      throw translate(error, address, schema)
    } finally {
      this.release(lane, connection, healthy)
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const pool of this.pools.values()) {
      pool.idle.splice(0)
      for (const wake of pool.waiting.splice(0)) wake()
    }
    const open = [...this.all]
    this.all.clear()
    await Promise.all(open.map(connection => connection.disconnect().catch(() => {})))
  }

  private pool(lane: Lane): BrokerPool {
    const key = `${lane.clientId}@${addressKey(lane)}`
    let pool = this.pools.get(key)
    if (pool === undefined) {
      pool = { idle: [], open: 0, waiting: [] }
      this.pools.set(key, pool)
    }
    return pool
  }

  private async acquire(lane: Lane): Promise<KafkaJsConnection> {
    const pool = this.pool(lane)
    for (;;) {
      if (this.closed) {
        throw new WeirError('WEIR_ERR_CLIENT_CLOSED', 'The Kafka transport is closed.')
      }
      const idle = pool.idle.pop()
      if (idle !== undefined) {
        if (idle.isConnected()) return idle
        pool.open--
        this.all.delete(idle)
        continue
      }
      if (pool.open < this.settings.connectionsPerBrokerMax) break
      await new Promise<void>(resolve => pool.waiting.push(resolve))
    }
    pool.open++
    const connection = openKafkaJsConnection(lane.host, lane.port,
      { ...this.settings, clientId: lane.clientId })
    this.all.add(connection)
    try {
      await connection.connect()
      return connection
    } catch (error) {
      this.release(lane, connection, false)
      throw translate(error, lane)
    }
  }

  /** KafkaJS authenticates on a connection's first request other than ApiVersions. */
  private prepareSasl(connection: KafkaJsConnection): void {
    if (this.settings.sasl === undefined || this.saslVersions === undefined) return
    connection.setVersions(this.saslVersions)
    connection.setSupportAuthenticationProtocol(SASL_AUTHENTICATE in this.saslVersions)
  }

  private release(lane: Lane, connection: KafkaJsConnection, healthy: boolean): void {
    const pool = this.pool(lane)
    if (healthy && !this.closed && connection.isConnected()) {
      pool.idle.push(connection)
    } else {
      pool.open--
      this.all.delete(connection)
      void connection.disconnect().catch(() => {})
    }
    pool.waiting.shift()?.()
  }
}

function decode<T>(payload: Buffer, schema: ApiVersionSchema, address: BrokerAddress): T {
  try {
    const reader = new FrameReader(payload)
    // Response header v1 (flexible versions but ApiVersions) ends in tagged fields, which
    // KafkaJS leaves at the front of the body.
    if (schema.response.flexible && schema.apiKey !== API_VERSIONS) {
      readMessage(reader, message(true))
    }
    return readMessage<T>(reader, schema.response)
  } catch (error) {
    throw new WeirError('WEIR_ERR_KAFKA_MALFORMED', `Malformed Kafka response from `
      + `${addressKey(address)} to ${schema.name} v${schema.version}: `
      + `${(error as Error).message}`, { cause: error })
  }
}

function translate(error: unknown, address: BrokerAddress, schema?: ApiVersionSchema): unknown {
  if (WeirError.is(error)) return error
  const what = schema === undefined ? 'connecting' : `${schema.name} v${schema.version}`
  const failure = kafkaJsFailure(error)
  if (failure === 'timeout') {
    return new WeirError('REQUEST_TIMED_OUT', `Kafka broker ${addressKey(address)} did not `
      + `answer ${what} in time; it may or may not have been applied.`, { cause: error })
  }
  return new WeirError('NETWORK_EXCEPTION', `Kafka broker ${addressKey(address)} failed `
    + `(${what}): ${(error as Error).message}. Check that the broker is reachable and `
    + `the brokers list given to Weir.kafka.`, { cause: error })
}
