/**
 * The part of KafkaJS the Kafka transport stands on: its `Connection` (kafkajs/src/network),
 * which owns the socket, TLS, SASL, request framing, correlation ids and request timeouts.
 * These are internal modules of KafkaJS 2.2.4 (pinned, and unmaintained upstream, so they do not
 * move); their shapes are declared here once, as far as Weir uses them.
 *
 * Bodies are Weir's: a request carries bytes written by Weir's Kafka schemas
 * (src/protocol/kafka), and the response is handed back as the raw body, so record batches pass
 * through untouched in both directions (KafkaJS's own encoders would decode and rebuild them).
 */
import { createRequire } from 'node:module'
import type { ConnectionOptions as TlsOptions } from 'node:tls'

/** SASL settings as KafkaJS takes them (mechanism 'plain', 'scram-sha-256', …). */
export interface KafkaSasl {
  readonly mechanism: string
  readonly [setting: string]: unknown
}

interface KafkaJsEncoder {
  writeBuffer(buffer: Buffer): KafkaJsEncoder
}

interface KafkaJsRequest {
  readonly apiKey: number
  readonly apiVersion: number
  readonly apiName: string
  expectResponse(): boolean
  encode(): Promise<KafkaJsEncoder>
}

interface KafkaJsResponse {
  decode(payload: Buffer): Promise<Buffer>
  parse(decoded: Buffer): Promise<Buffer>
}

interface KafkaJsLogger {
  namespace(name: string): KafkaJsLogger
}

export interface KafkaJsConnection {
  connect(): Promise<void>
  disconnect(): Promise<void>
  isConnected(): boolean
  setVersions(versions: Record<number, { minVersion: number, maxVersion: number }>): void
  setSupportAuthenticationProtocol(supported: boolean): void
  send(options: { request: KafkaJsRequest, response: KafkaJsResponse,
    requestTimeout?: number, logResponseError?: boolean }): Promise<Buffer | undefined>
}

interface ConnectionConstructor {
  new (options: {
    host: string, port: number, logger: KafkaJsLogger, socketFactory: unknown,
    requestTimeout: number, connectionTimeout: number, enforceRequestTimeout: boolean,
    clientId: string, ssl: TlsOptions | boolean | null, sasl: KafkaSasl | null,
  }): KafkaJsConnection
}

const require = createRequire(import.meta.url)
const Connection = require('kafkajs/src/network/connection.js') as ConnectionConstructor
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkaJsEncoder
const socketFactory = (require('kafkajs/src/network/socketFactory.js') as () => unknown)()
const { createLogger, LEVELS } = require('kafkajs/src/loggers/index.js') as {
  createLogger(options: { level: number, logCreator: () => () => void }): KafkaJsLogger
  LEVELS: { NOTHING: number }
}
// Weir reports failures as WeirErrors to its caller; KafkaJS's own log lines would repeat them.
const silentLogger = createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} })

export interface ConnectionSettings {
  readonly clientId: string
  readonly connectionTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly ssl?: TlsOptions | boolean
  readonly sasl?: KafkaSasl
}

export function openKafkaJsConnection(host: string, port: number, settings: ConnectionSettings):
KafkaJsConnection {
  return new Connection({
    host, port, logger: silentLogger, socketFactory,
    requestTimeout: settings.requestTimeoutMs,
    connectionTimeout: settings.connectionTimeoutMs,
    enforceRequestTimeout: true,
    clientId: settings.clientId,
    ssl: settings.ssl ?? null,
    sasl: settings.sasl ?? null,
  })
}

/** A request whose body Weir wrote; the response comes back as its raw body bytes. */
export function rawRequest(apiKey: number, apiVersion: number, apiName: string, body: Buffer,
  expectResponse: boolean): { request: KafkaJsRequest, response: KafkaJsResponse } {
  return {
    request: {
      apiKey, apiVersion, apiName,
      expectResponse: () => expectResponse,
      encode: async () => new Encoder().writeBuffer(body),
    },
    response: { decode: async payload => payload, parse: async decoded => decoded },
  }
}

/** KafkaJS's error class names for a lost connection and a request without an answer. */
export function kafkaJsFailure(error: unknown): 'timeout' | 'connection' | undefined {
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'KafkaJSRequestTimeoutError') return 'timeout'
  if (name === 'KafkaJSConnectionError' || name === 'KafkaJSConnectionClosedError') {
    return 'connection'
  }
  return undefined
}
