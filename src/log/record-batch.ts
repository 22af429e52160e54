/**
 * Record batch codec, modelled on Kafka's RecordBatch v2 (KIP-98) so a Kafka-protocol listener can
 * serve stored batches nearly as they lie on disk. Byte layout (big-endian):
 *
 *   0  baseOffset            int64   assigned by the log on append; not covered by the CRC
 *   8  batchLength           int32   bytes after this field
 *  12  partitionLeaderEpoch  int32
 *  16  magic                 int8    = 2
 *  17  crc                   uint32  CRC-32C of bytes [21, end)
 *  21  attributes            int16   bits 0-2 compression, 3 timestamp type, 4 transactional,
 *                                    5 control
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64   first timestamp
 *  35  maxTimestamp          int64
 *  43  producerId            int64   -1 when not idempotent
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordCount           int32
 *  61  records (compressed as one block when compression is not none)
 *
 * Record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * keyLength varint (-1 = null), key, valueLength varint (-1 = null), value,
 * headerCount varint, headers (keyLength varint, key utf-8, valueLength varint, value).
 *
 * Decoding never trusts a length: every one is checked against the bytes that remain before
 * anything is allocated (CVE-2022-34917 was a tiny frame declaring a huge array).
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import { crc32c } from '../util/crc32c.ts'
import {
  readInt64, readVarint, type VarintCursor, varintSize, writeInt64, writeVarint,
} from '../util/varint.ts'
import {
  type Compression, compress, compressionById, compressionIds, decompress,
} from './compression.ts'

export const BATCH_HEADER_BYTES = 61
/** baseOffset + batchLength: the part of the header outside `batchLength`. */
export const LOG_OVERHEAD_BYTES = 12
export const MAGIC_V2 = 2
const CRC_POSITION = 17
const ATTRIBUTES_POSITION = 21

const COMPRESSION_MASK = 0x07
const TRANSACTIONAL_FLAG = 0x10
const CONTROL_FLAG = 0x20

export type { Compression }

export interface RecordHeader {
  readonly key: string
  readonly value: Buffer | null
}

/** A record as a producer hands it to the log. */
export interface RecordInput {
  readonly key?: Buffer | null
  readonly value: Buffer | null
  /** Milliseconds since the epoch (CreateTime); defaults to the batch's `timestamp` option. */
  readonly timestamp?: number
  readonly headers?: readonly RecordHeader[]
}

/** A record read back from a batch, with its absolute offset. */
export interface LogRecord {
  readonly offset: number
  readonly timestamp: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: readonly RecordHeader[]
}

export interface BatchHeader {
  readonly baseOffset: number
  readonly batchLength: number
  readonly partitionLeaderEpoch: number
  readonly magic: number
  readonly crc: number
  readonly attributes: number
  readonly lastOffsetDelta: number
  readonly baseTimestamp: number
  readonly maxTimestamp: number
  readonly producerId: number
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly recordCount: number
}

export interface EncodeBatchOptions {
  readonly baseOffset?: number
  /** Timestamp for records that carry none. */
  readonly timestamp: number
  readonly compression?: Compression
  readonly producerId?: number
  readonly producerEpoch?: number
  readonly baseSequence?: number
  readonly transactional?: boolean
  readonly control?: boolean
  readonly partitionLeaderEpoch?: number
  /** Offset deltas of the records; defaults to 0, 1, 2, ... (compaction keeps gaps). */
  readonly offsetDeltas?: readonly number[]
  /** Overrides `lastOffsetDelta` (compaction keeps it when the last record was removed). */
  readonly lastOffsetDelta?: number
}

/** Total size in bytes of the batch starting at `position` (header says so; not validated). */
export function batchSizeAt(buffer: Buffer, position: number): number {
  return LOG_OVERHEAD_BYTES + buffer.readInt32BE(position + 8)
}

export function readBatchHeader(buffer: Buffer, position = 0): BatchHeader {
  assert(buffer.length - position >= BATCH_HEADER_BYTES, 'batch header needs 61 bytes')
  return {
    baseOffset: readInt64(buffer, position),
    batchLength: buffer.readInt32BE(position + 8),
    partitionLeaderEpoch: buffer.readInt32BE(position + 12),
    magic: buffer.readInt8(position + 16),
    crc: buffer.readUInt32BE(position + CRC_POSITION),
    attributes: buffer.readInt16BE(position + ATTRIBUTES_POSITION),
    lastOffsetDelta: buffer.readInt32BE(position + 23),
    baseTimestamp: readInt64(buffer, position + 27),
    maxTimestamp: readInt64(buffer, position + 35),
    producerId: readInt64(buffer, position + 43),
    producerEpoch: buffer.readInt16BE(position + 51),
    baseSequence: buffer.readInt32BE(position + 53),
    recordCount: buffer.readInt32BE(position + 57),
  }
}

export function compressionOf(header: BatchHeader): Compression | undefined {
  const id = header.attributes & COMPRESSION_MASK
  return compressionById(id)
}

export function isTransactional(header: BatchHeader): boolean {
  return (header.attributes & TRANSACTIONAL_FLAG) !== 0
}

export function isControl(header: BatchHeader): boolean {
  return (header.attributes & CONTROL_FLAG) !== 0
}

export function lastOffsetOf(header: BatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta
}

/** Rewrites the base offset in place; it sits outside the CRC, so the CRC stays valid. */
export function setBaseOffset(buffer: Buffer, position: number, baseOffset: number): void {
  writeInt64(buffer, position, baseOffset)
}

/** CRC-32C the batch at `position` should carry, computed over [attributes, end). */
export function computeBatchCrc(buffer: Buffer, position: number): number {
  return crc32c(buffer, position + ATTRIBUTES_POSITION, position + batchSizeAt(buffer, position))
}

/**
 * Why the bytes at `position` are not a whole valid batch, or undefined when they are.
 * `end` bounds how far the batch may reach (end of buffer or file).
 */
export function batchDefect(buffer: Buffer, position: number, end = buffer.length):
string | undefined {
  if (end - position < BATCH_HEADER_BYTES) return 'short header'
  const batchLength = buffer.readInt32BE(position + 8)
  if (batchLength < BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES) return `bad length ${batchLength}`
  if (end - position < LOG_OVERHEAD_BYTES + batchLength) return 'short batch'
  if (buffer.readInt8(position + 16) !== MAGIC_V2) return 'bad magic'
  if (buffer.readUInt32BE(position + CRC_POSITION) !== computeBatchCrc(buffer, position)) {
    return 'crc mismatch'
  }
  return undefined
}

const noHeaders: readonly RecordHeader[] = Object.freeze([])

function recordBodySize(record: RecordInput, timestampDelta: number, offsetDelta: number):
number {
  const key = record.key
  const value = record.value
  let size = 1 + varintSize(timestampDelta) + varintSize(offsetDelta)
  size += key === null || key === undefined ? 1 : varintSize(key.length) + key.length
  size += value === null ? 1 : varintSize(value.length) + value.length
  const headers = record.headers
  if (headers === undefined || headers.length === 0) return size + 1
  size += varintSize(headers.length)
  for (const header of headers) {
    const keyBytes = Buffer.byteLength(header.key)
    size += varintSize(keyBytes) + keyBytes
    size += header.value === null ? 1 : varintSize(header.value.length) + header.value.length
  }
  return size
}

/** Most bytes a record can take encoded: fields at their widest varints (≤ 10 bytes each). */
function recordBytesBound(record: RecordInput): number {
  let bound = 40 + (record.key?.length ?? 0) + (record.value?.length ?? 0)
  const headers = record.headers
  if (headers !== undefined) {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    for (const header of headers) bound += 20 + header.key.length * 3 + (header.value?.length ?? 0)
  }
  return bound
}

function writeBytesField(target: Buffer, at: number, bytes: Buffer | null): number {
  if (bytes === null) {
    target[at] = 1 // zig-zag -1: null
    return at + 1
  }
  const next = writeSmallVarint(target, at, bytes.length)
  target.set(bytes, next)
  return next + bytes.length
}

/**
 * Zig-zag varint of a non-negative int below 2^31 (lengths, sizes, offset deltas): the common
 * case of the record hot path, without `writeVarint`'s general checks.
 */
function writeSmallVarint(target: Buffer, at: number, value: number): number {
  let v = value * 2
  while (v >= 0x80) {
    target[at++] = (v & 0x7f) | 0x80
    v >>>= 7
  }
  target[at++] = v
  return at
}

function writeRecord(target: Buffer, at: number, record: RecordInput, bodySize: number,
  timestampDelta: number, offsetDelta: number): number {
  let next = writeSmallVarint(target, at, bodySize)
  target[next++] = 0
  next = timestampDelta === 0 ? (target[next] = 0, next + 1)
    : writeVarint(target, next, timestampDelta)
  next = writeSmallVarint(target, next, offsetDelta)
  const key = record.key
  if (key === null || key === undefined) target[next++] = 1 // zig-zag -1: null
  else next = writeBytesField(target, next, key)
  next = writeBytesField(target, next, record.value)
  const headers = record.headers
  if (headers === undefined || headers.length === 0) {
    target[next++] = 0
    return next
  }
  next = writeVarint(target, next, headers.length)
  for (const header of headers) {
    next = writeVarint(target, next, Buffer.byteLength(header.key))
    next += target.write(header.key, next, 'utf8')
    next = writeBytesField(target, next, header.value)
  }
  return next
}

/**
 * Size of a record's body, what its length prefix counts and what `recordBytesMax` limits (the
 * log validator measures the same thing on encoded batches).
 */
export function recordBodyBytes(record: RecordInput,
  deltas: { timestampDelta: number, offsetDelta: number }): number {
  return recordBodySize(record, deltas.timestampDelta, deltas.offsetDelta)
}

/**
 * Encodes records into one batch. Compression, when asked, covers the records section only, as
 * in Kafka. The CRC is computed last, over the final bytes.
 */
export function encodeBatch(records: readonly RecordInput[], options: EncodeBatchOptions): Buffer {
  const deltas = options.offsetDeltas
  assert(deltas === undefined || deltas.length === records.length, 'one offset delta per record')
  let baseTimestamp = options.timestamp
  let maxTimestamp = options.timestamp
  for (let i = 0; i < records.length; i++) {
    const timestamp = records[i]!.timestamp ?? options.timestamp
    // Seeded from the first record, not -1 (Kafka's NO_TIMESTAMP): Weir accepts timestamps
    // below -1, and a batch of only such records must still report its true maximum.
    if (i === 0) baseTimestamp = maxTimestamp = timestamp
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
  }
  // Records are written straight into the batch buffer, sized by an upper bound that needs only
  // lengths, then cut to size: no per-record size array and no copy of the records section.
  let bound = BATCH_HEADER_BYTES
  for (let i = 0; i < records.length; i++) bound += recordBytesBound(records[i]!)
  const buffer = Buffer.allocUnsafe(bound)
  let at = BATCH_HEADER_BYTES
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    const timestampDelta = (record.timestamp ?? options.timestamp) - baseTimestamp
    const offsetDelta = deltas?.[i] ?? i
    at = writeRecord(buffer, at, record, recordBodySize(record, timestampDelta, offsetDelta),
      timestampDelta, offsetDelta)
  }
  assert(at <= bound, 'record size bound was computed wrong')
  let batch = buffer.subarray(0, at)
  const compression = options.compression ?? 'none'
  if (compression !== 'none') {
    const compressed = compress(compression, batch.subarray(BATCH_HEADER_BYTES))
    batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length)
    compressed.copy(batch, BATCH_HEADER_BYTES)
  }
  writeBatchHeader(batch, options, {
    attributes: compressionIds[compression] | (options.transactional ? TRANSACTIONAL_FLAG : 0)
      | (options.control ? CONTROL_FLAG : 0),
    lastOffsetDelta: options.lastOffsetDelta ?? (deltas?.[deltas.length - 1] ?? records.length - 1),
    baseTimestamp, maxTimestamp, recordCount: records.length,
  })
  return batch
}

function writeBatchHeader(batch: Buffer, options: EncodeBatchOptions, fields: {
  attributes: number, lastOffsetDelta: number, baseTimestamp: number, maxTimestamp: number,
  recordCount: number,
}): void {
  writeInt64(batch, 0, options.baseOffset ?? 0)
  batch.writeInt32BE(batch.length - LOG_OVERHEAD_BYTES, 8)
  batch.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12)
  batch.writeInt8(MAGIC_V2, 16)
  batch.writeInt16BE(fields.attributes, ATTRIBUTES_POSITION)
  batch.writeInt32BE(Math.max(fields.lastOffsetDelta, 0), 23)
  writeInt64(batch, 27, fields.baseTimestamp)
  writeInt64(batch, 35, fields.maxTimestamp)
  writeInt64(batch, 43, options.producerId ?? -1)
  batch.writeInt16BE(options.producerEpoch ?? -1, 51)
  batch.writeInt32BE(options.baseSequence ?? -1, 53)
  batch.writeInt32BE(fields.recordCount, 57)
  batch.writeUInt32BE(computeBatchCrc(batch, 0), CRC_POSITION)
}

function corrupt(what: string): WeirError {
  return new WeirError('CORRUPT_MESSAGE',
    `Record batch is malformed (${what}); the producer must encode it again.`)
}

/** Decompressed records section of the batch at `position`. */
function recordsSection(buffer: Buffer, position: number, header: BatchHeader, bytesMax: number):
Buffer {
  const start = position + BATCH_HEADER_BYTES
  const end = position + LOG_OVERHEAD_BYTES + header.batchLength
  const compression = compressionOf(header)
  if (compression === undefined) {
    throw new WeirError('UNSUPPORTED_COMPRESSION_TYPE',
      `Compression id ${header.attributes & COMPRESSION_MASK} is not supported; use none, `
      + 'gzip, snappy or lz4.')
  }
  if (compression === 'none') return buffer.subarray(start, end)
  try {
    // outputMax bounds a compression bomb before it allocates.
    return decompress(compression, buffer.subarray(start, end), bytesMax)
  } catch (error) {
    throw new WeirError('CORRUPT_MESSAGE', `Record batch does not decompress (${compression}) `
      + 'within the batch size limit; encode it again.', { cause: error })
  }
}

function readBytesField(source: Buffer, end: number, cursor: VarintCursor): Buffer | null {
  if (!readVarint(source, end, cursor)) throw corrupt('truncated length')
  const length = cursor.value
  if (length === -1) return null
  if (length < 0 || length > end - cursor.position) throw corrupt(`bad length ${length}`)
  const bytes = source.subarray(cursor.position, cursor.position + length)
  cursor.position += length
  return bytes
}

function readRecord(source: Buffer, cursor: VarintCursor, header: BatchHeader): LogRecord {
  if (!readVarint(source, source.length, cursor)) throw corrupt('truncated record length')
  const end = cursor.position + cursor.value
  if (cursor.value < 1 || end > source.length) throw corrupt(`bad record length ${cursor.value}`)
  cursor.position += 1 // record attributes: unused in v2
  if (!readVarint(source, end, cursor)) throw corrupt('truncated timestamp delta')
  const timestamp = header.baseTimestamp + cursor.value
  if (!readVarint(source, end, cursor)) throw corrupt('truncated offset delta')
  const offset = header.baseOffset + cursor.value
  const key = readBytesField(source, end, cursor)
  const value = readBytesField(source, end, cursor)
  if (!readVarint(source, end, cursor)) throw corrupt('truncated header count')
  const headerCount = cursor.value
  // Each header takes at least 2 bytes: bound the count before allocating for it.
  if (headerCount < 0 || headerCount * 2 > end - cursor.position) {
    throw corrupt(`bad header count ${headerCount}`)
  }
  const headers: RecordHeader[] = headerCount === 0 ? noHeaders as RecordHeader[] : []
  for (let i = 0; i < headerCount; i++) {
    const headerKey = readBytesField(source, end, cursor)
    if (headerKey === null) throw corrupt('null header key')
    headers.push({ key: headerKey.toString('utf8'), value: readBytesField(source, end, cursor) })
  }
  if (cursor.position !== end) throw corrupt('record length does not match its fields')
  return { offset, timestamp, key, value, headers }
}

/**
 * Decodes the records of the (already validated) batch at `position`. Keys and values are views
 * into `buffer` when the batch is not compressed: copy them to keep them past the buffer's life.
 */
export function decodeRecords(buffer: Buffer, position = 0,
  options: { bytesMax?: number } = {}): LogRecord[] {
  const header = readBatchHeader(buffer, position)
  const section = recordsSection(buffer, position, header, options.bytesMax ?? 64 * 1024 * 1024)
  // Each record takes at least 7 bytes: bound the count before allocating for it.
  if (header.recordCount < 0 || header.recordCount * 7 > section.length) {
    throw corrupt(`bad record count ${header.recordCount}`)
  }
  const records = new Array<LogRecord>(header.recordCount)
  const cursor: VarintCursor = { value: 0, position: 0 }
  for (let i = 0; i < header.recordCount; i++) records[i] = readRecord(section, cursor, header)
  if (cursor.position !== section.length) throw corrupt('bytes left after the last record')
  return records
}

/** Calls `visit` for each whole batch in `buffer` (which must hold only whole batches). */
export function forEachBatch(buffer: Buffer, visit: (position: number, size: number) => void):
void {
  let position = 0
  while (position < buffer.length) {
    const size = batchSizeAt(buffer, position)
    assert(size >= BATCH_HEADER_BYTES && position + size <= buffer.length,
      'forEachBatch needs whole batches')
    visit(position, size)
    position += size
  }
}
