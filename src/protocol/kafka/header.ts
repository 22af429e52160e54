/**
 * Kafka's request and response headers (RequestHeader.json, ResponseHeader.json).
 *
 * Request header v1: api_key int16, api_version int16, correlation_id int32, client_id nullable
 * int16-length string; v2 (flexible API versions) adds a tagged-field section — client_id stays
 * an int16-length string. Response header v0: correlation_id; v1 adds tagged fields. The header
 * version follows from the API version's flexibility, except that an ApiVersions response always
 * has header v0 (so a client can read it before it knows the broker's versions).
 */
import { FrameReader, FrameWriter, message, readMessage, field } from './schema.ts'

export const API_VERSIONS_KEY = 18

export interface RequestHeader {
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  readonly clientId: string | null
}

const headerV1 = message(false, field('apiKey', 'int16'), field('apiVersion', 'int16'),
  field('correlationId', 'int32'), field('clientId', 'nullableString'))

/** The api key and version, read before the rest (they say how to read it). */
export function peekApi(frame: Buffer): { apiKey: number, apiVersion: number } {
  const reader = new FrameReader(frame)
  return { apiKey: reader.int16(), apiVersion: reader.int16() }
}

/**
 * Reads the header; `flexible` (from the API version) says whether tagged fields follow.
 * @throws WEIR_ERR_KAFKA_MALFORMED
 */
export function readRequestHeader(reader: FrameReader, flexible: boolean): RequestHeader {
  const header = readMessage<RequestHeader>(reader, headerV1)
  if (flexible) {
    // The v2 header's tagged fields: read as an empty flexible struct does.
    readMessage(reader, message(true))
  }
  return header
}

export function writeResponseHeader(writer: FrameWriter, correlationId: number,
  flexible: boolean): void {
  writer.fixed(4, buffer => buffer.writeInt32BE(correlationId))
  if (flexible) writer.uvarint(0)
}
