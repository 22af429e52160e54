/**
 * @platformatic/kafka 2.12.1's protocol encoders and decoders as the oracle of the golden tests
 * of flexible versions (KafkaJS 2.2.4 has none). Each of its API version modules
 * (dist/apis/{consumer,producer,admin}/<api>-v<N>.js, exported as e.g. `offsetFetchV6`) has:
 * - `createRequest(...args)`: a Writer of the request body alone. The header, and the header's
 *   tagged-field byte of a flexible version, are added by its Connection.send
 *   (dist/network/connection.js), driven by the flags the module gives `createAPI`;
 * - `parseResponse(correlationId, apiKey, apiVersion, reader)`: reads a response body (the
 *   connection skips the response header first), throwing a ResponseError that carries the
 *   parsed response when any error code in it is non-zero;
 * - `api(connection, ...args)`: hands Connection.send (apiKey, apiVersion, createPayload,
 *   parseResponse, hasRequestHeaderTaggedFields, hasResponseHeaderTaggedFields, callback).
 * On Node 20 the client needs Promise.withResolvers: this module installs the polyfill before it
 * loads @platformatic/kafka.
 */
import './promise-with-resolvers.ts'
import { schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import {
  FrameReader, FrameWriter, readMessage, writeMessage,
} from '../../../src/protocol/kafka/schema.ts'

// Loaded only now: static imports are evaluated first, so the polyfill is in place before the
// client's modules run.
export const platformatic = await import('@platformatic/kafka')

type PltReader = InstanceType<typeof platformatic.Reader>

/** A module's `parseResponse`. */
export type ParseResponse = (correlationId: number, apiKey: number, apiVersion: number,
  reader: PltReader) => unknown

/** What platformatic made of a response body, and whether it threw a ResponseError for it. */
export interface Parsed {
  readonly response: unknown
  readonly threw: boolean
  /** Bytes of the body platformatic left unread. */
  readonly remaining: number
}

/** `body` decoded by platformatic's `parseResponse` (a ResponseError's response is kept). */
export function parseWithPlatformatic(parse: ParseResponse, apiKey: number, version: number,
  body: Buffer): Parsed {
  const reader = platformatic.Reader.from(body)
  try {
    const response = parse(7, apiKey, version, reader)
    return { response, threw: false, remaining: reader.remaining }
  } catch (error) {
    if (!(error instanceof platformatic.ResponseError)) throw error
    const response: unknown = error.response
    return { response, threw: true, remaining: reader.remaining }
  }
}

/** The header flags a module's `api` gives Connection.send. */
export interface HeaderFlags {
  readonly apiKey: number
  readonly apiVersion: number
  readonly requestHeaderTaggedFields: boolean
  readonly responseHeaderTaggedFields: boolean
}

/** Calls a module's `api` with a fake connection that records what `send` is given. */
export function headerFlags(api: object): HeaderFlags {
  let flags: HeaderFlags | undefined
  const connection = {
    send(apiKey: number, apiVersion: number, _createPayload: unknown, _parse: unknown,
      requestHeaderTaggedFields: boolean, responseHeaderTaggedFields: boolean): void {
      flags = { apiKey, apiVersion, requestHeaderTaggedFields, responseHeaderTaggedFields }
    },
  }
  ;(api as (connection: object) => void)(connection)
  if (flags === undefined) throw new Error('the api did not call connection.send')
  return flags
}

/** A request or response body as Weir writes it with the schema of `apiKey` at `version`. */
export function weirBody(apiKey: number, version: number, side: 'request' | 'response',
  value: object): Buffer {
  const writer = new FrameWriter()
  writeMessage(writer, schemaFor(apiKey, version)![side], value)
  return writer.toBuffer()
}

/** A body read with Weir's schema; `remaining` is what it left unread. */
export function readWeirBody(apiKey: number, version: number, side: 'request' | 'response',
  body: Buffer): { value: unknown, remaining: number } {
  const reader = new FrameReader(body)
  const value = readMessage<unknown>(reader, schemaFor(apiKey, version)![side])
  return { value, remaining: reader.remaining }
}

/** `value` with every bigint turned into a number (platformatic reads int64 as bigint). */
export function withNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(`${value} is beyond 2^53`)
    }
    return Number(value)
  }
  if (Array.isArray(value)) return value.map(withNumbers)
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) =>
      [key, withNumbers(item)]))
  }
  return value
}

/** Every `errorCode` anywhere in `value`. */
export function errorCodes(value: unknown): number[] {
  if (Array.isArray(value)) return value.flatMap(errorCodes)
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, item]) =>
    key === 'errorCode' && typeof item === 'number' ? [item] : errorCodes(item))
}
