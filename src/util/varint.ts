/**
 * Zig-zag varints as Kafka's record format uses them (protobuf's sint32/sint64 encoding).
 *
 * Values are JavaScript numbers: Weir keeps offsets and timestamps as numbers, exact up to 2^53,
 * which covers any offset or millisecond timestamp a log will see. Encoding works on the
 * zig-zagged value with arithmetic (not 32-bit bit operators) so 64-bit deltas round-trip.
 *
 * The zig-zagged value of a safe integer needs 54 bits, more than a double holds exactly, so
 * beyond 31 bits it is never formed: the code works on the magnitude `m` (value, or -value - 1
 * when negative; always safe) and the sign bit, since zigzag = 2m + sign. The first byte carries
 * the sign and the low 6 bits of `m`; each later byte 7 more bits of `m`.
 */
import { AssertionError } from './assert.ts'

/** Largest number of bytes a varlong takes (10 for 64 bits; 8 suffice for 2^53). */
export const VARLONG_BYTES_MAX = 10
const TWO_POW_32 = 2 ** 32

/** `value` for non-negative values, `-value - 1` (exact for safe integers) for negative ones. */
function magnitude(value: number): number {
  return value < 0 ? -value - 1 : value
}

/** Bytes that `writeVarint(value)` writes. */
export function varintSize(value: number): number {
  if (value < 0x40 && value >= -0x40) return 1
  if (value < 0x2000 && value >= -0x2000) return 2
  let rest = Math.floor(magnitude(value) / 64)
  let size = 1
  while (rest > 0) {
    rest = Math.floor(rest / 128)
    size++
  }
  return size
}

/** Writes `value` zig-zag varint encoded at `position`; returns the position after it. */
export function writeVarint(target: Uint8Array, position: number, value: number): number {
  // Hot path (every field of every record): the message is built only when the check fails.
  if (!Number.isSafeInteger(value)) {
    throw new AssertionError(`varint value must be a safe integer, got ${value}`)
  }
  let at = position
  // Fast path for values whose zig-zag form fits 31 bits: bit operators beat division.
  if (value < 0x40000000 && value >= -0x40000000) {
    let v = value >= 0 ? value * 2 : -value * 2 - 1
    while (v >= 0x80) {
      target[at++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    target[at++] = v
    return at
  }
  const m = magnitude(value)
  let low = (m % 64) * 2 + (value < 0 ? 1 : 0)
  let rest = Math.floor(m / 64)
  while (rest > 0) {
    target[at++] = low | 0x80
    low = rest % 128
    rest = Math.floor(rest / 128)
  }
  target[at++] = low
  return at
}

/** Result slot reused by `readVarint` so the hot path does not allocate. */
export interface VarintCursor {
  value: number
  position: number
}

/**
 * Reads a zig-zag varint at `cursor.position` not past `end`; stores the value and the new
 * position in `cursor`. Returns false when the bytes end early or the varint is over 10 bytes:
 * the caller turns that into its own corruption error.
 */
export function readVarint(source: Uint8Array, end: number, cursor: VarintCursor): boolean {
  let at = cursor.position
  if (at >= end) return false
  let byte = source[at++]!
  const negative = (byte & 1) === 1
  let m = (byte & 0x7f) >>> 1
  let multiplier = 64
  for (let i = 1; byte >= 0x80; i++) {
    if (i >= VARLONG_BYTES_MAX || at >= end) return false
    byte = source[at++]!
    m += (byte & 0x7f) * multiplier
    multiplier *= 128
  }
  // m beyond 2^53 - 1 (or -m - 1 below -(2^53 - 1)) is not a safe integer: treat as corrupt.
  if (m > (negative ? Number.MAX_SAFE_INTEGER - 1 : Number.MAX_SAFE_INTEGER)) return false
  cursor.value = negative ? -m - 1 : m
  cursor.position = at
  return true
}

/** Writes a signed 64-bit big-endian integer given as a safe-integer number. */
export function writeInt64(target: Buffer, position: number, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new AssertionError(`int64 value must be a safe integer, got ${value}`)
  }
  const high = Math.floor(value / TWO_POW_32)
  target.writeInt32BE(high, position)
  target.writeUInt32BE(value - high * TWO_POW_32, position + 4)
}

/** Reads a signed 64-bit big-endian integer; values beyond 2^53 lose precision (never in logs). */
export function readInt64(source: Buffer, position: number): number {
  return source.readInt32BE(position) * TWO_POW_32 + source.readUInt32BE(position + 4)
}
