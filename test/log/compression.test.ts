/**
 * Goal: the snappy and lz4 codecs of record batches (src/log/snappy.ts, lz4.ts) and the
 * xxHash32 behind LZ4 frames.
 * - Property: for any bytes (random, or compressible: repeated runs and words), decompressing
 *   what each codec compressed gives the bytes back.
 * - Property: any bytes, and any valid frame with bytes flipped or cut, decode or throw the
 *   codec's format error — never another error, never more than `outputMax` bytes.
 * - Examples: xxHash32 against the specification's known values; a raw Snappy block without
 *   xerial framing (as some clients send) decodes; a declared length over `outputMax` is
 *   refused before allocation. Interop with librdkafka's own encoders and decoders is in
 *   test/protocol/kafka/kcat.test.ts.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { Lz4FormatError, lz4Compress, lz4Decompress } from '../../src/log/lz4.ts'
import { SnappyFormatError, snappyCompress, snappyDecompress } from '../../src/log/snappy.ts'
import { xxhash32 } from '../../src/util/xxhash32.ts'

const codecs = [
  { name: 'snappy', compress: snappyCompress, decompress: snappyDecompress,
    FormatError: SnappyFormatError },
  { name: 'lz4', compress: lz4Compress, decompress: lz4Decompress, FormatError: Lz4FormatError },
] as const

/** Bytes with structure to find: runs, repeated words, and random stretches. */
const compressible: fc.Arbitrary<Uint8Array> = fc.array(fc.oneof(
  fc.record({ byte: fc.nat({ max: 255 }), times: fc.integer({ min: 1, max: 300 }) })
    .map(({ byte, times }) => new Uint8Array(times).fill(byte)),
  fc.constantFrom('order-', '"customerId":', 'ü', 'value ').map(word =>
    new Uint8Array(Buffer.from(word))),
  fc.uint8Array({ maxLength: 40 }),
), { maxLength: 400 }).map(parts => new Uint8Array(Buffer.concat(parts)))

const large: fc.Arbitrary<Uint8Array> = fc.integer({ min: 60_000, max: 200_000 })
  .chain(length => fc.nat({ max: 255 }).map(seed => Uint8Array.from({ length },
    (_, i) => (i * 31 + seed + (i >> 7)) % 251)))

describe.each(codecs)('$name', ({ compress, decompress, FormatError }) => {
  test.prop([fc.oneof(fc.uint8Array({ maxLength: 3000 }), compressible, large)],
    { numRuns: 200 })('decompress(compress(bytes)) gives the bytes back', bytes => {
    const packed = compress(bytes)
    expect(Buffer.from(decompress(packed, bytes.length)).equals(Buffer.from(bytes))).toBe(true)
  })

  test.prop([fc.oneof(fc.uint8Array({ maxLength: 300 }), compressible.chain(bytes => fc.record({
    at: fc.nat(), flip: fc.integer({ min: 1, max: 255 }), cut: fc.boolean() }).map(
    ({ at, flip, cut }) => {
      const packed = Buffer.from(compress(bytes))
      if (packed.length === 0) return packed
      const position = at % packed.length
      if (cut) return packed.subarray(0, position)
      packed[position]! ^= flip
      return packed
    }))), fc.integer({ min: 0, max: 5000 })], { numRuns: 500 })(
    'any bytes, or a frame flipped or cut, decode within outputMax or throw the format error',
    (bytes, outputMax) => {
      try {
        expect(decompress(bytes, outputMax).length).toBeLessThanOrEqual(outputMax)
      } catch (error) {
        expect(error).toBeInstanceOf(FormatError)
      }
    })

  it('refuses output beyond outputMax', () => {
    const packed = compress(new Uint8Array(100_000))
    expect(() => decompress(packed, 99_999)).toThrow(FormatError)
    expect(decompress(packed, 100_000).length).toBe(100_000)
  })
})

describe('formats', () => {
  it('xxHash32 gives the known values', () => {
    const hash = (text: string, seed = 0) => xxhash32(Buffer.from(text), seed)
    expect([hash(''), hash('a'), hash('abc'), hash('Nobody inspects the spammish repetition'),
      hash('', 1)]).toEqual([0x02cc5d05, 0x550d7456, 0x32d153ff, 0xe2293b2f, 0x0b2cb792])
  })

  it('a raw Snappy block (no xerial framing) decodes: a literal, then a copy', () => {
    // Length 10; literal "hello" (tag (5-1)<<2); copy of 5 from offset 5 (tag ((5-4)<<2)|1).
    const raw = Buffer.from([10, 0x10, ...Buffer.from('hello'), 0x05, 5])
    expect(snappyDecompress(raw, 100).toString()).toBe('hellohello')
  })
})
