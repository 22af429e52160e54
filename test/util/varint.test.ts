/**
 * Goal: show that the zig-zag varint codec encodes every safe integer exactly as Kafka (and
 * protobuf's sint64) does, reads it back unchanged, reports its size correctly and refuses
 * truncated, over-long or out-of-range input; and that the int64 codec round-trips safe integers.
 *
 * Method: known encodings pin the format; properties compare `writeVarint` with a BigInt
 * reference encoder (BigInt is exact at 64 bits, so it cannot share the codec's rounding
 * pitfalls), check round trips at random positions, and cut encodings short. Generators are
 * biased towards the byte-count and 31/32/52/53-bit boundaries where number arithmetic breaks.
 */
import { test, fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  readInt64, readVarint, VARLONG_BYTES_MAX, varintSize, writeInt64, writeVarint,
  type VarintCursor,
} from '../../src/util/varint.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(300)
const MAX = Number.MAX_SAFE_INTEGER

/** Zig-zag varint by definition, in exact 64-bit BigInt arithmetic. */
function referenceVarint(value: bigint): number[] {
  let zigzag = value >= 0n ? value * 2n : -value * 2n - 1n
  const bytes: number[] = []
  while (zigzag >= 0x80n) {
    bytes.push(Number(zigzag & 0x7fn) | 0x80)
    zigzag >>= 7n
  }
  bytes.push(Number(zigzag))
  return bytes
}

function encode(value: number): Buffer {
  const target = Buffer.alloc(VARLONG_BYTES_MAX)
  const end = writeVarint(target, 0, value)
  return target.subarray(0, end)
}

function read(bytes: Uint8Array, end = bytes.length, position = 0): VarintCursor | undefined {
  const cursor: VarintCursor = { value: Number.NaN, position }
  return readVarint(bytes, end, cursor) ? cursor : undefined
}

/** Values at and around every boundary that matters: byte counts, 2^31, 2^32, 2^52, 2^53. */
const boundaryValues: number[] = (() => {
  const values = new Set<number>([0, MAX, -MAX, MAX - 1, -MAX + 1])
  for (let bits = 1; bits <= 53; bits++) {
    for (const around of [2 ** bits - 1, 2 ** bits, 2 ** bits + 1]) {
      for (const value of [around, -around]) if (Number.isSafeInteger(value)) values.add(value)
    }
  }
  return [...values]
})()

const safeIntegerArbitrary = fc.oneof(
  { arbitrary: fc.maxSafeInteger(), weight: 3 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.constantFrom(...boundaryValues), weight: 2 },
)

describe('varint known encodings', () => {
  const known: [number, string][] = [
    [0, '00'], [-1, '01'], [1, '02'], [63, '7e'], [-64, '7f'], [64, '8001'],
    [-65, '8101'], [8191, 'fe7f'], [-8192, 'ff7f'], [8192, '808001'],
    [2 ** 31 - 1, 'feffffff0f'], [-(2 ** 31), 'ffffffff0f'], [2 ** 31, '8080808010'],
    [MAX, 'feffffffffffff1f'], [-MAX, 'fdffffffffffff1f'],
  ]
  for (const [value, hex] of known) {
    it(`encodes ${value} as ${hex}`, () => {
      expect(encode(value).toString('hex')).toBe(hex)
      expect(read(Buffer.from(hex, 'hex'))?.value).toBe(value)
    })
  }

  it('refuses to write a value that is not a safe integer', () => {
    const target = Buffer.alloc(VARLONG_BYTES_MAX)
    expect(() => writeVarint(target, 0, MAX + 1)).toThrow()
    expect(() => writeVarint(target, 0, 1.5)).toThrow()
  })
})

describe('readVarint rejects bad input', () => {
  it('returns false on empty input', () => {
    expect(read(new Uint8Array(0))).toBeUndefined()
  })

  it('returns false when the varint runs past the end it is given', () => {
    // 0x80 says "more follows"; the byte after it is present but outside `end`.
    expect(read(Buffer.from('8001', 'hex'), 1)).toBeUndefined()
  })

  it('returns false on a varint longer than 10 bytes', () => {
    const elevenBytes = Buffer.from([...Array<number>(10).fill(0x80), 0x00])
    expect(read(elevenBytes)).toBeUndefined()
    // Ten bytes that all say "more follows" are refused too, even when more bytes exist.
    const endless = Buffer.alloc(32, 0xff)
    expect(read(endless)).toBeUndefined()
  })

  it('accepts a 10-byte varint whose value is small (non-minimal encoding)', () => {
    const tenBytes = Buffer.from([...Array<number>(9).fill(0x80), 0x00])
    expect(read(tenBytes)).toEqual({ value: 0, position: 10 })
  })

  it('returns false rather than an inexact number for 64-bit values beyond 2^53', () => {
    for (const value of [2n ** 53n, -(2n ** 53n), 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n]) {
      expect(read(Buffer.from(referenceVarint(value)))).toBeUndefined()
    }
  })
})

describe('varint properties', () => {
  test.prop([safeIntegerArbitrary], { numRuns })(
    'writeVarint writes the same bytes as the BigInt reference encoder',
    (value) => {
      expect([...encode(value)]).toEqual(referenceVarint(BigInt(value)))
    })

  test.prop([safeIntegerArbitrary, fc.integer({ min: 0, max: 20 })], { numRuns })(
    'readVarint returns every safe integer written by writeVarint, at any position',
    (value, position) => {
      const target = Buffer.alloc(position + VARLONG_BYTES_MAX + 5, 0xff)
      const end = writeVarint(target, position, value)
      const cursor = read(target, end, position)
      expect(cursor).toEqual({ value, position: end })
    })

  test.prop([safeIntegerArbitrary], { numRuns })(
    'varintSize equals the number of bytes writeVarint writes',
    (value) => {
      expect(varintSize(value)).toBe(encode(value).length)
      expect(varintSize(value)).toBeLessThanOrEqual(8)
    })

  test.prop([safeIntegerArbitrary, fc.nat()], { numRuns })(
    'readVarint returns false on any strict prefix of an encoding',
    (value, cut) => {
      const bytes = encode(value)
      expect(read(bytes, cut % bytes.length)).toBeUndefined()
    })

  test.prop([fc.array(safeIntegerArbitrary, { maxLength: 20 })], { numRuns })(
    'a sequence of varints written back to back reads back in order',
    (values) => {
      const target = Buffer.alloc(values.length * VARLONG_BYTES_MAX)
      let end = 0
      for (const value of values) end = writeVarint(target, end, value)
      const cursor: VarintCursor = { value: 0, position: 0 }
      const decoded: number[] = []
      while (cursor.position < end) {
        expect(readVarint(target, end, cursor)).toBe(true)
        decoded.push(cursor.value)
      }
      expect(decoded).toEqual(values)
    })
})

describe('int64', () => {
  const known: [number, string][] = [
    [0, '0000000000000000'], [-1, 'ffffffffffffffff'], [1, '0000000000000001'],
    [2 ** 32, '0000000100000000'], [-(2 ** 32), 'ffffffff00000000'],
    [MAX, '001fffffffffffff'], [-MAX, 'ffe0000000000001'],
  ]
  for (const [value, hex] of known) {
    it(`writes ${value} as ${hex}`, () => {
      const target = Buffer.alloc(8)
      writeInt64(target, 0, value)
      expect(target.toString('hex')).toBe(hex)
      expect(readInt64(target, 0)).toBe(value)
    })
  }

  test.prop([safeIntegerArbitrary, fc.integer({ min: 0, max: 16 })], { numRuns })(
    'writeInt64 writes the same bytes as writeBigInt64BE and readInt64 reads the value back',
    (value, position) => {
      const actual = Buffer.alloc(position + 8)
      const expected = Buffer.alloc(position + 8)
      writeInt64(actual, position, value)
      expected.writeBigInt64BE(BigInt(value), position)
      expect(actual.toString('hex')).toBe(expected.toString('hex'))
      expect(readInt64(actual, position)).toBe(value)
    })
})
