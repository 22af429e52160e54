/**
 * Goal: show that the record batch codec (and the control records built on it) round-trips any
 * records, writes the header fields Kafka's RecordBatch v2 defines, detects every single-bit flip
 * and truncation, and rejects malformed record bytes only with `CORRUPT_MESSAGE`, never with
 * another exception, a hang or an allocation the data cannot back.
 *
 * Method: properties over generated records (null and non-null keys and values, unicode header
 * keys, timestamps anywhere in the safe range and out of order, both compressions, producer
 * fields, offset deltas with gaps); bit flips and cuts of fresh batches; random record sections
 * behind a header whose CRC is recomputed so the decoder itself, not the CRC, must catch them;
 * and a golden batch assembled byte by byte from the layout in record-batch.ts, with its CRC
 * from a bitwise CRC-32C written here, compared with what `encodeBatch` produces.
 */
import { test, fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import { decodeControlRecord, encodeControlBatch } from '../../src/log/control-record.ts'
import {
  BATCH_HEADER_BYTES, batchDefect, batchSizeAt, compressionOf, computeBatchCrc, decodeRecords,
  encodeBatch, isControl, isTransactional, LOG_OVERHEAD_BYTES, MAGIC_V2, readBatchHeader,
  setBaseOffset, type Compression, type EncodeBatchOptions, type LogRecord, type RecordInput,
} from '../../src/log/record-batch.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(150)
const MAX = Number.MAX_SAFE_INTEGER
const CRC_POSITION = 17

/** CRC-32C by definition (reflected polynomial 0x82F63B78), independent of src/util/crc32c. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc = (crc ^ byte) >>> 0
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return ~crc >>> 0
}

function hex(bytes: Buffer | null | undefined): string | null {
  return bytes === null || bytes === undefined ? null : bytes.toString('hex')
}

/** Expects `run` to throw a WeirError with `code`; returns it for further checks. */
function expectWeirError(run: () => unknown, code: WeirError['code']): WeirError {
  let caught: unknown
  try {
    run()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(WeirError)
  expect((caught as WeirError).code).toBe(code)
  return caught as WeirError
}

const bytesArbitrary = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes))
const nullableBytesArbitrary = fc.option(bytesArbitrary, { nil: null, freq: 4 })

const headerArbitrary = fc.record({
  key: fc.string({ unit: 'binary', maxLength: 12 }),
  value: nullableBytesArbitrary,
})

/**
 * Records with timestamps anywhere in the safe range. The timestamps of one batch lie within a
 * window [low, low + span] with span a safe integer, so every delta from the first is safe
 * (the format stores deltas, and a JavaScript number cannot hold a larger one exactly).
 */
const recordsArbitrary = fc.tuple(fc.maxSafeInteger(), fc.maxSafeNat()).chain(([low, width]) => {
  const high = low + Math.min(width, MAX - Math.max(low, 0))
  const timestamp = fc.oneof(fc.integer({ min: low, max: high }), fc.constantFrom(low, high))
  return fc.record({
    timestamp: fc.constant(low),
    records: fc.array(fc.record({
      key: fc.oneof(fc.constant(undefined), nullableBytesArbitrary),
      value: nullableBytesArbitrary,
      timestamp: fc.option(timestamp, { nil: undefined, freq: 5 }),
      headers: fc.option(fc.array(headerArbitrary, { maxLength: 4 }), { nil: undefined }),
    }, { requiredKeys: ['value'] }), { minLength: 1, maxLength: 8 }),
  })
})

/** Strictly increasing offset deltas starting at or after 0, with gaps (as compaction leaves). */
function offsetDeltasArbitrary(count: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: count, maxLength: count })
    .chain((gaps) => fc.integer({ min: 0, max: 1000 }).map((first) => {
      const deltas: number[] = []
      let delta = first
      for (const [index, gap] of gaps.entries()) deltas.push(index === 0 ? delta : delta += gap)
      return deltas
    }))
}

interface BatchCase {
  readonly records: RecordInput[]
  readonly options: EncodeBatchOptions
}

const batchCaseArbitrary: fc.Arbitrary<BatchCase> = recordsArbitrary.chain(
  ({ timestamp, records }) => fc.record({
    records: fc.constant(records as RecordInput[]),
    options: fc.record({
      timestamp: fc.constant(timestamp),
      baseOffset: fc.integer({ min: 0, max: MAX - 2 ** 32 }),
      compression: fc.constantFrom<Compression>('none', 'gzip', 'snappy', 'lz4'),
      producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: MAX })),
      producerEpoch: fc.integer({ min: -1, max: 32767 }),
      baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
      transactional: fc.boolean(),
      partitionLeaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
      offsetDeltas: fc.option(offsetDeltasArbitrary(records.length), { nil: undefined }),
    }, { requiredKeys: ['timestamp'] }),
  }))

function timestampOf(record: RecordInput, options: EncodeBatchOptions): number {
  return record.timestamp ?? options.timestamp
}

function expectSameRecords(decoded: readonly LogRecord[], batch: BatchCase): void {
  const { records, options } = batch
  expect(decoded).toHaveLength(records.length)
  for (const [index, record] of records.entries()) {
    const actual = decoded[index]!
    expect(actual.offset).toBe((options.baseOffset ?? 0) + (options.offsetDeltas?.[index] ?? index))
    expect(actual.timestamp).toBe(timestampOf(record, options))
    expect(hex(actual.key)).toBe(hex(record.key))
    expect(hex(actual.value)).toBe(hex(record.value))
    expect(actual.headers.map((header) => ({ key: header.key, value: hex(header.value) })))
      .toEqual((record.headers ?? []).map((header) => ({ key: header.key, value: hex(header.value) })))
  }
}

/** A fresh batch and a bit position inside it. */
const batchAndBitArbitrary = batchCaseArbitrary.chain((batch) => {
  const bytes = encodeBatch(batch.records, batch.options)
  return fc.tuple(fc.constant(bytes), fc.integer({ min: 0, max: bytes.length * 8 - 1 }))
})

describe('encodeBatch and decodeRecords', () => {
  test.prop([batchCaseArbitrary], { numRuns })(
    'encode then decode returns the same records',
    (batch) => {
      const bytes = encodeBatch(batch.records, batch.options)
      expect(batchDefect(bytes, 0)).toBeUndefined()
      expectSameRecords(decodeRecords(bytes), batch)
    })

  test.prop([batchCaseArbitrary], { numRuns })(
    'the batch header carries the offsets, timestamps, counts and producer fields',
    (batch) => {
      const { records, options } = batch
      const bytes = encodeBatch(records, options)
      const header = readBatchHeader(bytes)
      const timestamps = records.map((record) => timestampOf(record, options))
      const lastDelta = options.offsetDeltas?.[records.length - 1] ?? records.length - 1
      expect(header.baseOffset).toBe(options.baseOffset ?? 0)
      expect(header.batchLength).toBe(bytes.length - LOG_OVERHEAD_BYTES)
      expect(batchSizeAt(bytes, 0)).toBe(bytes.length)
      expect(header.partitionLeaderEpoch).toBe(options.partitionLeaderEpoch ?? -1)
      expect(header.magic).toBe(MAGIC_V2)
      expect(header.crc).toBe(referenceCrc32c(bytes.subarray(21)))
      expect(header.lastOffsetDelta).toBe(lastDelta)
      expect(header.baseTimestamp).toBe(timestamps[0])
      expect(header.maxTimestamp).toBe(Math.max(...timestamps))
      // Options left out take Kafka's defaults: no producer (-1), no compression.
      expect(header.producerId).toBe(options.producerId ?? -1)
      expect(header.producerEpoch).toBe(options.producerEpoch ?? -1)
      expect(header.baseSequence).toBe(options.baseSequence ?? -1)
      expect(header.recordCount).toBe(records.length)
      expect(compressionOf(header)).toBe(options.compression ?? 'none')
      expect(isTransactional(header)).toBe(options.transactional ?? false)
      expect(isControl(header)).toBe(false)
    })

  it('sets maxTimestamp to the largest timestamp when records are out of order', () => {
    const bytes = encodeBatch(
      [{ value: null, timestamp: 50 }, { value: null, timestamp: 90 }, { value: null, timestamp: 10 }],
      { timestamp: 0 })
    const header = readBatchHeader(bytes)
    expect(header.baseTimestamp).toBe(50)
    expect(header.maxTimestamp).toBe(90)
    expect(decodeRecords(bytes).map((record) => record.timestamp)).toEqual([50, 90, 10])
  })

  it('sets maxTimestamp to the largest timestamp when every timestamp is below -1', () => {
    const bytes = encodeBatch([{ value: null, timestamp: -5 }, { value: null, timestamp: -10 }],
      { timestamp: 0 })
    expect(readBatchHeader(bytes).maxTimestamp).toBe(-5)
  })

  it('keeps lastOffsetDelta when told to (compaction removed the last record)', () => {
    const bytes = encodeBatch([{ value: null }, { value: null }],
      { timestamp: 0, offsetDeltas: [0, 3], lastOffsetDelta: 9 })
    expect(readBatchHeader(bytes).lastOffsetDelta).toBe(9)
    expect(decodeRecords(bytes, 0).map((record) => record.offset)).toEqual([0, 3])
  })

  it('encodes an empty batch that is valid and decodes to no records', () => {
    const bytes = encodeBatch([], { timestamp: 7 })
    expect(bytes.length).toBe(BATCH_HEADER_BYTES)
    expect(batchDefect(bytes, 0)).toBeUndefined()
    expect(readBatchHeader(bytes).recordCount).toBe(0)
    expect(decodeRecords(bytes)).toEqual([])
  })

  it('decodes a batch that sits at a non-zero position of a larger buffer', () => {
    const first = encodeBatch([{ key: Buffer.from('a'), value: Buffer.from('1') }], { timestamp: 1 })
    const second = encodeBatch([{ key: Buffer.from('b'), value: Buffer.from('2') }],
      { timestamp: 2, baseOffset: 1 })
    const both = Buffer.concat([first, second])
    expect(batchDefect(both, first.length)).toBeUndefined()
    const [record] = decodeRecords(both, first.length)
    expect(record?.offset).toBe(1)
    expect(hex(record?.key)).toBe(Buffer.from('b').toString('hex'))
  })
})

describe('batchDefect', () => {
  test.prop([batchAndBitArbitrary], { numRuns })(
    'flipping any bit in the CRC-covered region or the crc field is detected',
    ([bytes, bit]) => {
      const position = CRC_POSITION * 8 + (bit % ((bytes.length - CRC_POSITION) * 8))
      const flipped = Buffer.from(bytes)
      flipped[position >> 3]! ^= 1 << (position & 7)
      expect(batchDefect(flipped, 0)).toEqual(expect.any(String))
    })

  test.prop([batchAndBitArbitrary], { numRuns })(
    'any truncation of a batch is reported, whether by buffer length or by end',
    ([bytes, bit]) => {
      const cut = bit % bytes.length
      expect(batchDefect(bytes.subarray(0, cut), 0)).toEqual(expect.any(String))
      expect(batchDefect(bytes, 0, cut)).toEqual(expect.any(String))
    })

  test.prop([batchCaseArbitrary, fc.integer({ min: 0, max: MAX })], { numRuns })(
    'setBaseOffset keeps the CRC valid and moves every record offset',
    (batch, baseOffset) => {
      const bytes = encodeBatch(batch.records, batch.options)
      setBaseOffset(bytes, 0, baseOffset)
      expect(batchDefect(bytes, 0)).toBeUndefined()
      expect(readBatchHeader(bytes).baseOffset).toBe(baseOffset)
      expectSameRecords(decodeRecords(bytes), {
        records: batch.records, options: { ...batch.options, baseOffset },
      })
    })

  it('reports a wrong magic byte', () => {
    const bytes = encodeBatch([{ value: Buffer.from('v') }], { timestamp: 0 })
    bytes.writeInt8(1, 16)
    expect(batchDefect(bytes, 0)).toBe('bad magic')
  })

  it('reports a batchLength too small to hold the header', () => {
    const bytes = encodeBatch([{ value: Buffer.from('v') }], { timestamp: 0 })
    bytes.writeInt32BE(-1, 8)
    expect(batchDefect(bytes, 0)).toEqual(expect.stringContaining('length'))
  })
})

/**
 * A valid batch header followed by `section` as its records, with batchLength, recordCount and
 * the CRC made consistent, so only the record decoder can object to it.
 */
function batchWithSection(section: Uint8Array, options: {
  recordCount: number, compression: Compression,
}): Buffer {
  const header = encodeBatch([], { timestamp: 1000, compression: 'none' })
    .subarray(0, BATCH_HEADER_BYTES)
  const bytes = Buffer.concat([header, section])
  bytes.writeInt32BE(bytes.length - LOG_OVERHEAD_BYTES, 8)
  bytes.writeInt16BE(['none', 'gzip', 'snappy', 'lz4'].indexOf(options.compression), 21)
  bytes.writeInt32BE(options.recordCount, 57)
  bytes.writeUInt32BE(computeBatchCrc(bytes, 0), CRC_POSITION)
  expect(batchDefect(bytes, 0)).toBeUndefined()
  return bytes
}

/** Decodes, and requires success or a CORRUPT_MESSAGE WeirError: nothing else. */
function decodeOrCorrupt(bytes: Buffer): LogRecord[] | WeirError {
  try {
    return decodeRecords(bytes, 0, { bytesMax: 1024 * 1024 })
  } catch (error) {
    expect(error).toBeInstanceOf(WeirError)
    expect(WeirError.is(error, 'CORRUPT_MESSAGE')).toBe(true)
    return error as WeirError
  }
}

describe('decodeRecords on malformed records', () => {
  test.prop([
    fc.uint8Array({ maxLength: 200 }), fc.integer({ min: -5, max: 40 }),
    fc.constantFrom<Compression>('none', 'gzip', 'snappy', 'lz4'),
  ], { numRuns: 400 })(
    'random bytes after a valid header decode or throw CORRUPT_MESSAGE, nothing else',
    (section, recordCount, compression) => {
      const result = decodeOrCorrupt(batchWithSection(section, { recordCount, compression }))
      if (Array.isArray(result)) expect(result).toHaveLength(recordCount)
    })

  test.prop([batchCaseArbitrary, fc.array(fc.tuple(fc.nat(), fc.nat(255)), {
    minLength: 1, maxLength: 6,
  })], { numRuns })(
    'mutated record bytes with a recomputed CRC decode or throw CORRUPT_MESSAGE, nothing else',
    (batch, mutations) => {
      const bytes = encodeBatch(batch.records, batch.options)
      const sectionBytes = bytes.length - BATCH_HEADER_BYTES
      for (const [at, value] of mutations) bytes[BATCH_HEADER_BYTES + (at % sectionBytes)] = value
      bytes.writeUInt32BE(computeBatchCrc(bytes, 0), CRC_POSITION)
      expect(batchDefect(bytes, 0)).toBeUndefined()
      const result = decodeOrCorrupt(bytes)
      if (Array.isArray(result)) expect(result).toHaveLength(batch.records.length)
    })

  it('rejects a record whose length runs past the section', () => {
    // Record length 100 (zig-zag 200 = c8 01) with 6 bytes behind it.
    const bytes = batchWithSection(Buffer.from('c801000000000000', 'hex'),
      { recordCount: 1, compression: 'none' })
    expectWeirError(() => decodeRecords(bytes), 'CORRUPT_MESSAGE')
  })

  it('rejects bytes left over after the last record', () => {
    const valid = encodeBatch([{ value: Buffer.from('v') }], { timestamp: 1000 })
    const bytes = batchWithSection(Buffer.concat([valid.subarray(BATCH_HEADER_BYTES),
      Buffer.from([0])]), { recordCount: 1, compression: 'none' })
    expectWeirError(() => decodeRecords(bytes), 'CORRUPT_MESSAGE')
  })

  it('rejects a huge declared recordCount with tiny data before allocating for it', () => {
    const valid = encodeBatch([{ value: Buffer.from('v') }], { timestamp: 1000 })
    for (const recordCount of [2 ** 31 - 1, 1_000_000, -1, -(2 ** 31)]) {
      const bytes = batchWithSection(valid.subarray(BATCH_HEADER_BYTES),
        { recordCount, compression: 'none' })
      const error = expectWeirError(() => decodeRecords(bytes), 'CORRUPT_MESSAGE')
      // The count check, not a failure while reading records one by one, must reject it.
      expect(error.message).toMatch(/record count/)
    }
  })

  it('rejects a huge declared header count with tiny data', () => {
    // Body of 10 bytes: attributes, timestampDelta 0, offsetDelta 0, null key, null value,
    // headerCount 2^30 (zig-zag 2^31 = 80 80 80 80 08).
    const section = Buffer.from('14' + '000000' + '0101' + '8080808008', 'hex')
    const bytes = batchWithSection(section, { recordCount: 1, compression: 'none' })
    const error = expectWeirError(() => decodeRecords(bytes), 'CORRUPT_MESSAGE')
    expect(error.message).toMatch(/header count/)
  })

  it.each(['gzip', 'snappy', 'lz4'] as const)('rejects a %s section that inflates beyond '
    + 'bytesMax', compression => {
    const bytes = encodeBatch([{ value: Buffer.alloc(100_000) }], { timestamp: 0, compression })
    const error = expectWeirError(() => decodeRecords(bytes, 0, { bytesMax: 1000 }),
      'CORRUPT_MESSAGE')
    expect(error.cause).toBeDefined()
  })

  it('rejects an unknown compression id with UNSUPPORTED_COMPRESSION_TYPE', () => {
    const bytes = encodeBatch([{ value: Buffer.from('v') }], { timestamp: 0 })
    bytes.writeInt16BE(4, 21)
    bytes.writeUInt32BE(computeBatchCrc(bytes, 0), CRC_POSITION)
    expectWeirError(() => decodeRecords(bytes), 'UNSUPPORTED_COMPRESSION_TYPE')
  })
})

describe('control batches', () => {
  test.prop([
    fc.constantFrom<'abort' | 'commit'>('abort', 'commit'),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.integer({ min: 0, max: MAX }), fc.integer({ min: 0, max: 32767 }), fc.maxSafeNat(),
  ], { numRuns })(
    'a control batch round trips its marker and carries the control and transactional bits',
    (type, coordinatorEpoch, producerId, producerEpoch, timestamp) => {
      const bytes = encodeControlBatch({ type, coordinatorEpoch },
        { producerId, producerEpoch, timestamp })
      expect(batchDefect(bytes, 0)).toBeUndefined()
      const header = readBatchHeader(bytes)
      expect(isControl(header)).toBe(true)
      expect(isTransactional(header)).toBe(true)
      expect(header.producerId).toBe(producerId)
      expect(header.producerEpoch).toBe(producerEpoch)
      expect(header.recordCount).toBe(1)
      const records = decodeRecords(bytes)
      expect(records).toHaveLength(1)
      expect(records[0]!.timestamp).toBe(timestamp)
      expect(decodeControlRecord(records[0]!)).toEqual({ type, coordinatorEpoch })
    })

  it('writes Kafka\'s EndTransactionMarker key and value bytes', () => {
    const bytes = encodeControlBatch({ type: 'commit', coordinatorEpoch: 5 },
      { producerId: 1, producerEpoch: 0, timestamp: 0 })
    const [record] = decodeRecords(bytes)
    expect(hex(record?.key)).toBe('00000001')
    expect(hex(record?.value)).toBe('000000000005')
  })

  it('rejects a control record that is too short or of an unknown type', () => {
    const base = { offset: 0, timestamp: 0, headers: [] }
    expectWeirError(() => decodeControlRecord({ ...base, key: null, value: Buffer.alloc(6) }),
      'CORRUPT_MESSAGE')
    expectWeirError(() => decodeControlRecord({ ...base, key: Buffer.alloc(4), value: Buffer.alloc(5) }),
      'CORRUPT_MESSAGE')
    expectWeirError(() => decodeControlRecord({
      ...base, key: Buffer.from('00000002', 'hex'), value: Buffer.alloc(6),
    }), 'CORRUPT_MESSAGE')
  })
})

describe('Kafka compatibility', () => {
  it('encodes one record (key "k", value "v", timestamp 1000) byte for byte as RecordBatch v2', () => {
    const record = [
      0x10, //       length varint: 8 body bytes (zig-zag 16)
      0x00, //       attributes
      0x00, //       timestampDelta varlong 0
      0x00, //       offsetDelta varint 0
      0x02, 0x6b, // keyLength 1, "k"
      0x02, 0x76, // valueLength 1, "v"
      0x00, //       headerCount 0
    ]
    const golden = Buffer.from([
      0, 0, 0, 0, 0, 0, 0, 0, //             0  baseOffset 0
      0, 0, 0, 61 - 12 + record.length, //   8  batchLength (bytes after this field)
      0xff, 0xff, 0xff, 0xff, //            12  partitionLeaderEpoch -1
      0x02, //                              16  magic 2
      0, 0, 0, 0, //                        17  crc, filled in below
      0x00, 0x00, //                        21  attributes: no compression, CreateTime
      0, 0, 0, 0, //                        23  lastOffsetDelta 0
      0, 0, 0, 0, 0, 0, 0x03, 0xe8, //      27  baseTimestamp 1000
      0, 0, 0, 0, 0, 0, 0x03, 0xe8, //      35  maxTimestamp 1000
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // 43 producerId -1
      0xff, 0xff, //                        51  producerEpoch -1
      0xff, 0xff, 0xff, 0xff, //            53  baseSequence -1
      0, 0, 0, 1, //                        57  recordCount 1
      ...record, //                         61  records
    ])
    golden.writeUInt32BE(referenceCrc32c(golden.subarray(21)), CRC_POSITION)

    const encoded = encodeBatch([{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1000 }],
      { timestamp: 1000, baseOffset: 0, producerId: -1 })
    expect(encoded.toString('hex')).toBe(golden.toString('hex'))
  })
})
