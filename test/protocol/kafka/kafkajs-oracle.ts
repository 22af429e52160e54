/**
 * KafkaJS 2.2.4's protocol encoders and decoders as the oracle of the golden tests: a request
 * KafkaJS encodes is read with Weir's header and schema of that version; a response body Weir
 * encodes is handed to KafkaJS's decoder. Also: reading a partition back with Weir's own
 * transport, for the acceptance tests.
 */
import { createRequire } from 'node:module'
import { expect } from 'vitest'
import type { Transport } from '../../../src/client/transport/transport.ts'
import {
  decodeRecords, forEachBatch, type LogRecord, readBatchHeader,
} from '../../../src/log/record-batch.ts'
import { schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import { readRequestHeader, type RequestHeader } from '../../../src/protocol/kafka/header.ts'
import {
  FrameReader, FrameWriter, readMessage, writeMessage,
} from '../../../src/protocol/kafka/schema.ts'

const require = createRequire(import.meta.url)

export interface KafkaJsRequest { apiKey: number, apiVersion: number, encode(): Promise<unknown> }
type EncodeFrame = (options: { correlationId: number, clientId: string,
  request: KafkaJsRequest }) => Promise<{ buffer: Buffer }>
const encodeFrame = require('kafkajs/src/protocol/request') as EncodeFrame

export function kafkaJs<T>(path: string): T {
  return require(`kafkajs/src/protocol/requests/${path}`) as T
}

/** A whole request frame (size included) as KafkaJS puts it on the wire. */
export async function kafkaJsFrame(request: KafkaJsRequest, correlationId = 7): Promise<Buffer> {
  return (await encodeFrame({ correlationId, clientId: 'golden', request })).buffer
}

/** A KafkaJS-encoded request, read back with Weir's header and schema; all bytes consumed. */
export async function readKafkaJsRequest<T>(request: KafkaJsRequest):
Promise<{ header: RequestHeader, body: T }> {
  const frame = await kafkaJsFrame(request)
  expect(frame.readInt32BE(0)).toBe(frame.length - 4)
  const schema = schemaFor(request.apiKey, request.apiVersion)!
  const reader = new FrameReader(frame.subarray(4))
  const header = readRequestHeader(reader, schema.request.flexible)
  const body = readMessage<T>(reader, schema.request)
  expect(reader.remaining).toBe(0)
  return { header, body }
}

/** The body alone of `readKafkaJsRequest`. */
export async function readKafkaJsBody(request: KafkaJsRequest): Promise<unknown> {
  return (await readKafkaJsRequest(request)).body
}

/** KafkaJS's request builder of `api` at `version` (its src/protocol/requests name). */
export function kafkaJsRequest(api: string, version: number, options: object): KafkaJsRequest {
  return kafkaJs<(options: object) => KafkaJsRequest>(`${api}/v${version}/request`)(options)
}

/** KafkaJS's decoding of a response body of `api` at `version`. */
export function kafkaJsDecode(api: string, version: number, raw: Buffer):
Promise<Record<string, unknown>> {
  return kafkaJs<{ decode(raw: Buffer): Promise<Record<string, unknown>> }>(
    `${api}/v${version}/response`).decode(raw)
}

export function encodeResponse(apiKey: number, version: number, body: object): Buffer {
  const writer = new FrameWriter()
  writeMessage(writer, schemaFor(apiKey, version)!.response, body)
  return writer.toBuffer()
}

/**
 * The records of a partition below `end`, read with Weir's own transport (not the listener).
 * Long polls wait for appends still being written (an acks=1 send is answered before its batch
 * reaches the high watermark).
 */
export async function readWithWeir(transport: Transport, topic: string, partition: number,
  end: number): Promise<LogRecord[]> {
  const records: LogRecord[] = []
  for (let offset = 0; offset < end;) {
    const [result] = await transport.fetch({ partitions: [{ topic, partition, offset }],
      maxWaitMs: 5000 })
    if (result!.error !== undefined) throw result!.error
    forEachBatch(result!.bytes, position => {
      const header = readBatchHeader(result!.bytes, position)
      if ((header.attributes & 0x20) !== 0) return // transaction markers
      records.push(...decodeRecords(result!.bytes, position).filter(r => r.offset >= offset))
    })
    if (result!.nextOffset === offset) throw new Error(`nothing at ${offset} within 5 s`)
    offset = result!.nextOffset
  }
  return records
}
