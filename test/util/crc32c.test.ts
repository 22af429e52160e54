/**
 * Goal: show that `crc32c` computes CRC-32C (Castagnoli), the checksum of Kafka's record batch
 * v2, for whole buffers, for [start, end) slices and when continued across calls.
 *
 * Method: published check values (the CRC catalogue's "123456789" and the iSCSI vectors of
 * RFC 3720 appendix B.4) pin the algorithm; properties compare the slicing-by-8 implementation
 * with the textbook bit-at-a-time definition written below, on random buffers and slices,
 * including slices whose start is not a multiple of 8 and lengths around the 8-byte stride.
 * Both implementations run every case: the default one (native when it loads) and the pure-JS
 * fallback.
 */
import { test, fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { crc32c as crc32cDefault, crc32cSoftware } from '../../src/util/crc32c.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(300)

/** CRC-32C by definition: reflected polynomial 0x82F63B78, one bit at a time. */
function referenceCrc32c(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0
  for (const byte of bytes) {
    crc = (crc ^ byte) >>> 0
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return ~crc >>> 0
}

function bytesOf(length: number, byteAt: (index: number) => number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => byteAt(index))
}

/** RFC 3720 B.4: a SCSI read (10) command PDU, 48 bytes. */
const iscsiReadCommandPdu = Uint8Array.from([
  0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
  0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
])

const implementations = [
  ['default', crc32cDefault],
  ['software', crc32cSoftware],
] as const

for (const [implementation, crc32c] of implementations) {
describe(`${implementation}: crc32c`, () => {
  describe('crc32c known vectors', () => {
    const vectors: [string, Uint8Array, number][] = [
      ['empty input', new Uint8Array(0), 0x00000000],
      ['"123456789" (catalogue check value)', Buffer.from('123456789', 'ascii'), 0xe3069283],
      ['32 zero bytes (RFC 3720 B.4)', bytesOf(32, () => 0x00), 0x8a9136aa],
      ['32 0xff bytes (RFC 3720 B.4)', bytesOf(32, () => 0xff), 0x62a8ab43],
      ['32 ascending bytes 0..31 (RFC 3720 B.4)', bytesOf(32, (i) => i), 0x46dd794e],
      ['32 descending bytes 31..0 (RFC 3720 B.4)', bytesOf(32, (i) => 31 - i), 0x113fdb5c],
      ['iSCSI read command PDU (RFC 3720 B.4)', iscsiReadCommandPdu, 0xd9963a56],
    ]

    for (const [name, bytes, expected] of vectors) {
      it(`gives 0x${expected.toString(16).padStart(8, '0')} for ${name}`, () => {
        expect(crc32c(bytes)).toBe(expected)
        // The reference must agree too, or the properties below would prove nothing.
        expect(referenceCrc32c(bytes)).toBe(expected)
      })
    }

    it('checks only the [start, end) slice it is given', () => {
      const padded = new Uint8Array(45)
      padded.set(Buffer.from('123456789', 'ascii'), 13)
      padded.fill(0xaa, 0, 13)
      padded.fill(0x55, 22)
      expect(crc32c(padded, 13, 22)).toBe(0xe3069283)
    })

    it('returns an unsigned 32-bit number', () => {
      // 0x8a9136aa has its top bit set: a signed result would come out negative.
      const crc = crc32c(bytesOf(32, () => 0x00))
      expect(crc).toBeGreaterThan(0x7fffffff)
      expect(Number.isInteger(crc)).toBe(true)
    })
  })

  const bufferArbitrary = fc.uint8Array({ maxLength: 300 })

  /** A buffer and a [start, end) range inside it. */
  const sliceArbitrary = bufferArbitrary.chain((bytes) => fc.tuple(
    fc.constant(bytes),
    fc.integer({ min: 0, max: bytes.length }),
    fc.integer({ min: 0, max: bytes.length }),
  ).map(([b, x, y]) => ({ bytes: b, start: Math.min(x, y), end: Math.max(x, y) })))

  /** A buffer and a split point inside it. */
  const splitArbitrary = bufferArbitrary.chain((bytes) => fc.tuple(
    fc.constant(bytes), fc.integer({ min: 0, max: bytes.length })))

  describe('crc32c properties', () => {
    test.prop([bufferArbitrary], { numRuns })(
      'crc32c of a whole buffer equals the bitwise reference',
      (bytes) => {
        expect(crc32c(bytes)).toBe(referenceCrc32c(bytes))
      })

    test.prop([sliceArbitrary], { numRuns })(
      'crc32c of any [start, end) slice equals the bitwise reference of that slice',
      ({ bytes, start, end }) => {
        expect(crc32c(bytes, start, end)).toBe(referenceCrc32c(bytes.subarray(start, end)))
      })

    test.prop([sliceArbitrary], { numRuns })(
      'a slice given by range and the same slice given as a view have the same crc',
      ({ bytes, start, end }) => {
        const view = new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start)
        expect(crc32c(view)).toBe(crc32c(bytes, start, end))
      })

    test.prop([splitArbitrary], { numRuns })(
      'continuing a crc from a prefix over the rest equals the one-shot crc',
      ([bytes, split]) => {
        const prefix = crc32c(bytes, 0, split, 0)
        expect(crc32c(bytes, split, bytes.length, prefix)).toBe(crc32c(bytes))
      })

    test.prop([fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 })], { numRuns })(
      'folding crc32c over consecutive chunks equals the crc of their concatenation',
      (chunks) => {
        const whole = Buffer.concat(chunks)
        let crc = 0
        for (const chunk of chunks) crc = crc32c(chunk, 0, chunk.length, crc)
        expect(crc).toBe(crc32c(whole))
        expect(crc).toBe(referenceCrc32c(whole))
      })

    test.prop([fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.nat(), fc.integer({ min: 0, max: 7 })],
      { numRuns })(
      'flipping any single bit changes the crc',
      (bytes, index, bit) => {
        const flipped = Uint8Array.from(bytes)
        flipped[index % bytes.length]! ^= 1 << bit
        expect(crc32c(flipped)).not.toBe(crc32c(bytes))
      })
  })
})
}
