/**
 * The protobuf messages of `proto/weir.proto` (binary produce and fetch between the remote client
 * and the server), and their mapping to the broker's own request and result types. Both ends use
 * these functions, so a field added on one side cannot be forgotten on the other.
 *
 * Decoding is strict: bytes that are not a valid message, or a message whose values are out of
 * range (a negative partition, an acks of 7), throw WEIR_ERR_SERVER_BODY_MALFORMED naming the
 * field. Record batches stay opaque bytes here; the broker validates them.
 */
import { readFileSync } from 'node:fs'
import protobufjs from 'protobufjs'
import { type ErrorCode, errorCodeInfo, WeirError } from '../errors.ts'
import type { FetchRequest, FetchResult, IsolationLevel } from '../broker/fetch.ts'
import type { Acks, ProduceResult } from '../broker/partition.ts'

const root = protobufjs.parse(
  readFileSync(new URL('../../proto/weir.proto', import.meta.url), 'utf8')).root

/** A message type of proto/weir.proto, e.g. `messageType('RpcRequest')`. */
export function messageType(name: string): protobufjs.Type {
  return root.lookupType(`weir.v1.${name}`)
}

const types = {
  produceRequest: messageType('ProduceRequest'),
  produceResponse: messageType('ProduceResponse'),
  fetchRequest: messageType('FetchRequest'),
  fetchResponse: messageType('FetchResponse'),
  streamFetchRequest: messageType('StreamFetchRequest'),
}

/** An int64 as protobufjs decodes it (a Long when the `long` package is present). */
type Int64 = number | { toNumber(): number }

interface WireError { code: string, message: string, retriable: boolean }

interface WireProducePartition { topic: string, partition: number, batch: Uint8Array }
interface WireProduceRequest { acks: number, partitions: WireProducePartition[] }
interface WireProduceResult {
  topic: string, partition: number, baseOffset: Int64, lastOffset: Int64, duplicate: boolean,
  error?: WireError | null
}
interface WireFetchPartition { topic: string, partition: number, offset: Int64, maxBytes: number }
interface WireFetchRequest {
  partitions: WireFetchPartition[], isolationLevel: number, maxWaitMs: number, minBytes: number,
  maxBytes: number
}
interface WireFetchResult {
  topic: string, partition: number, records: Uint8Array, nextOffset: Int64, highWatermark: Int64,
  lastStableOffset: Int64, logStartOffset: Int64,
  abortedTransactions: Array<{ producerId: Int64, firstOffset: Int64 }>, error?: WireError | null
}

export interface ProducePartitionRequest {
  readonly topic: string
  readonly partition: number
  readonly batch: Buffer
}

/** One produce call: batches for one or more partitions, all with the same acks. */
export interface ProduceRequestMessage {
  readonly acks: Acks
  readonly partitions: readonly ProducePartitionRequest[]
}

export type ProducePartitionResult =
  | { readonly topic: string, readonly partition: number, readonly result: ProduceResult }
  | { readonly topic: string, readonly partition: number, readonly error: WeirError }

/** A streaming fetch subscription (WebSocket /v1/fetch/stream). */
export interface StreamFetchRequest {
  readonly partitions: FetchRequest['partitions']
  readonly isolationLevel: IsolationLevel
  readonly maxBytes?: number
}

export function malformed(message: string, cause?: unknown): WeirError {
  return new WeirError('WEIR_ERR_SERVER_BODY_MALFORMED', message, { cause })
}

export function decodeWire(type: protobufjs.Type, bytes: Uint8Array): unknown {
  try {
    // A plain Uint8Array view: protobufjs' Buffer reader clamps a string that runs past the end
    // instead of failing, its Uint8Array reader is strict. Bytes fields stay views (no copy).
    return type.decode(Buffer.isBuffer(bytes)
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes)
  } catch (error) {
    throw malformed(`The body is not a valid weir.v1.${type.name} protobuf message `
      + `(${(error as Error).message}). Encode it with proto/weir.proto.`, error)
  }
}

function int64(value: Int64, field: string): number {
  const number = typeof value === 'number' ? value : value.toNumber()
  if (!Number.isSafeInteger(number) || number < 0) {
    throw malformed(`${field} must be a non-negative integer below 2^53, got ${number}.`)
  }
  return number
}

function partitionNumber(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw malformed(`${field} must be a non-negative partition number, got ${value}.`)
  }
  return value
}

function topicName(value: string, field: string): string {
  if (value.length === 0) throw malformed(`${field} is empty: name a topic.`)
  return value
}

function nonNegative(value: number, field: string): number {
  if (value < 0) throw malformed(`${field} must not be negative, got ${value}.`)
  return value
}

function toBuffer(bytes: Uint8Array): Buffer {
  if (Buffer.isBuffer(bytes)) return bytes
  // An absent bytes field decodes as protobufjs' default, an empty Array, not a Uint8Array
  // (proto3 encoders leave empty bytes out).
  if (!(bytes instanceof Uint8Array)) return Buffer.alloc(0)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

const acksToWire: Record<string, number> = { all: -1, 0: 0, 1: 1 }

function acksFromWire(value: number): Acks {
  if (value === -1) return 'all'
  if (value === 0 || value === 1) return value
  throw malformed(`acks must be -1 (all), 0 or 1, got ${value}.`)
}

function isolationToWire(level: IsolationLevel | undefined): number {
  return level === 'read_committed' ? 1 : 0
}

function isolationFromWire(value: number): IsolationLevel {
  if (value === 0) return 'read_uncommitted'
  if (value === 1) return 'read_committed'
  throw malformed(`isolation_level must be 0 (read_uncommitted) or 1 (read_committed), `
    + `got ${value}.`)
}

export function errorToWire(error: WeirError): WireError {
  return { code: error.code, message: error.message, retriable: error.retriable }
}

/** A WeirError from its wire form; an unknown code (a newer server) keeps its text. */
export function errorFromWire(error: { code?: unknown, message?: unknown }): WeirError {
  const message = typeof error.message === 'string' ? error.message : 'no message'
  const code = typeof error.code === 'string' && error.code in errorCodeInfo
    ? error.code as ErrorCode : undefined
  if (code !== undefined) return new WeirError(code, message)
  return new WeirError('WEIR_ERR_SERVER_INTERNAL', `${String(error.code)}: ${message}`)
}

/** The wire object of a produce request (for protobufjs to encode, alone or nested). */
export function produceRequestToWire(request: ProduceRequestMessage): object {
  return { acks: acksToWire[String(request.acks)], partitions: request.partitions }
}

export function encodeProduceRequest(request: ProduceRequestMessage): Uint8Array {
  return types.produceRequest.encode(produceRequestToWire(request)).finish()
}

/** Checks and maps a decoded produce request. @throws WEIR_ERR_SERVER_BODY_MALFORMED */
export function produceRequestFromWire(wire: unknown): ProduceRequestMessage {
  const { acks, partitions } = wire as WireProduceRequest
  return {
    acks: acksFromWire(acks),
    partitions: partitions.map((p, i) => ({
      topic: topicName(p.topic, `partitions[${i}].topic`),
      partition: partitionNumber(p.partition, `partitions[${i}].partition`),
      batch: toBuffer(p.batch),
    })),
  }
}

export function decodeProduceRequest(bytes: Uint8Array): ProduceRequestMessage {
  return produceRequestFromWire(decodeWire(types.produceRequest, bytes))
}

export function produceResponseToWire(results: readonly ProducePartitionResult[]): object {
  return { results: results.map(r => 'error' in r
    ? { topic: r.topic, partition: r.partition, error: errorToWire(r.error) }
    : { topic: r.topic, partition: r.partition, baseOffset: r.result.baseOffset,
      lastOffset: r.result.lastOffset, duplicate: r.result.duplicate }) }
}

export function encodeProduceResponse(results: readonly ProducePartitionResult[]): Uint8Array {
  return types.produceResponse.encode(produceResponseToWire(results)).finish()
}

export function produceResponseFromWire(wire: unknown): ProducePartitionResult[] {
  return (wire as { results: WireProduceResult[] }).results.map(r => r.error
    ? { topic: r.topic, partition: r.partition, error: errorFromWire(r.error) }
    : { topic: r.topic, partition: r.partition, result: {
      baseOffset: int64(r.baseOffset, 'base_offset'),
      lastOffset: int64(r.lastOffset, 'last_offset'),
      duplicate: r.duplicate } })
}

export function decodeProduceResponse(bytes: Uint8Array): ProducePartitionResult[] {
  return produceResponseFromWire(decodeWire(types.produceResponse, bytes))
}

function fetchPartitionsToWire(partitions: FetchRequest['partitions']): object[] {
  return partitions.map(p => ({ topic: p.topic, partition: p.partition, offset: p.offset,
    maxBytes: p.maxBytes ?? 0 }))
}

function fetchPartitionsFromWire(partitions: readonly WireFetchPartition[]):
FetchRequest['partitions'] {
  return partitions.map((p, i) => ({
    topic: topicName(p.topic, `partitions[${i}].topic`),
    partition: partitionNumber(p.partition, `partitions[${i}].partition`),
    offset: int64(p.offset, `partitions[${i}].offset`),
    ...p.maxBytes > 0 ? { maxBytes: p.maxBytes } : {},
  }))
}

export function fetchRequestToWire(request: FetchRequest): object {
  return {
    partitions: fetchPartitionsToWire(request.partitions),
    isolationLevel: isolationToWire(request.isolationLevel),
    maxWaitMs: request.maxWaitMs ?? 0, minBytes: request.minBytes ?? 0,
    maxBytes: request.maxBytes ?? 0,
  }
}

export function encodeFetchRequest(request: FetchRequest): Uint8Array {
  return types.fetchRequest.encode(fetchRequestToWire(request)).finish()
}

/** Checks and maps a decoded fetch request. @throws WEIR_ERR_SERVER_BODY_MALFORMED */
export function fetchRequestFromWire(wire: unknown): FetchRequest {
  const { partitions, isolationLevel, maxWaitMs, minBytes, maxBytes } = wire as WireFetchRequest
  return {
    partitions: fetchPartitionsFromWire(partitions),
    isolationLevel: isolationFromWire(isolationLevel),
    maxWaitMs: nonNegative(maxWaitMs, 'max_wait_ms'),
    minBytes: nonNegative(minBytes, 'min_bytes'),
    ...maxBytes > 0 ? { maxBytes } : {},
  }
}

export function decodeFetchRequest(bytes: Uint8Array): FetchRequest {
  return fetchRequestFromWire(decodeWire(types.fetchRequest, bytes))
}

export function fetchResponseToWire(results: readonly FetchResult[]): object {
  return { results: results.map(r => ({
    topic: r.topic, partition: r.partition, records: r.bytes, nextOffset: r.nextOffset,
    highWatermark: r.highWatermark, lastStableOffset: r.lastStableOffset,
    logStartOffset: r.logStartOffset, abortedTransactions: r.abortedTransactions ?? [],
    ...r.error === undefined ? {} : { error: errorToWire(r.error) },
  })) }
}

export function encodeFetchResponse(results: readonly FetchResult[]): Uint8Array {
  return types.fetchResponse.encode(fetchResponseToWire(results)).finish()
}

export function fetchResponseFromWire(wire: unknown): FetchResult[] {
  return (wire as { results: WireFetchResult[] }).results.map(r => ({
    topic: r.topic, partition: r.partition, bytes: toBuffer(r.records),
    nextOffset: int64(r.nextOffset, 'next_offset'),
    highWatermark: int64(r.highWatermark, 'high_watermark'),
    lastStableOffset: int64(r.lastStableOffset, 'last_stable_offset'),
    logStartOffset: int64(r.logStartOffset, 'log_start_offset'),
    ...r.abortedTransactions.length > 0 ? { abortedTransactions: r.abortedTransactions.map(a => ({
      producerId: int64(a.producerId, 'producer_id'),
      firstOffset: int64(a.firstOffset, 'first_offset') })) } : {},
    ...r.error ? { error: errorFromWire(r.error) } : {},
  }))
}

export function decodeFetchResponse(bytes: Uint8Array): FetchResult[] {
  return fetchResponseFromWire(decodeWire(types.fetchResponse, bytes))
}

export function encodeStreamFetchRequest(request: StreamFetchRequest): Uint8Array {
  return types.streamFetchRequest.encode({
    partitions: fetchPartitionsToWire(request.partitions),
    isolationLevel: isolationToWire(request.isolationLevel), maxBytes: request.maxBytes ?? 0,
  }).finish()
}

export function decodeStreamFetchRequest(bytes: Uint8Array): StreamFetchRequest {
  const wire = decodeWire(types.streamFetchRequest, bytes) as
    Pick<WireFetchRequest, 'partitions' | 'isolationLevel' | 'maxBytes'>
  return {
    partitions: fetchPartitionsFromWire(wire.partitions),
    isolationLevel: isolationFromWire(wire.isolationLevel),
    ...wire.maxBytes > 0 ? { maxBytes: wire.maxBytes } : {},
  }
}
