/**
 * Kafka's lz4 compression (codec 3): the LZ4 frame format (lz4_Frame_format.md) around LZ4
 * blocks (lz4_Block_format.md), with the header checksum over the frame descriptor only, as
 * Kafka writes it for record batches of magic 2 (KIP-57 fixed the older, wrong checksum).
 *
 * Writing: 64 KiB independent blocks, each compressed by a greedy matcher over a hash of 4-byte
 * sequences (a block that would not shrink is stored as is), no content size, a content
 * checksum. Reading: every frame option (block checksums, content size, content checksum,
 * linked blocks, several frames in a row), with the output bounded by `outputMax` before it
 * is allocated, and every length and offset checked: a malformed frame throws, never reads
 * out of bounds.
 */
import { xxhash32 } from '../util/xxhash32.ts'

const MAGIC = 0x184d2204
const BLOCK_BYTES = 64 * 1024
const BLOCK_SIZES = new Map([[4, 64 * 1024], [5, 256 * 1024], [6, 1024 * 1024], [7, 4 << 20]])
const MIN_MATCH = 4
/** The last match must start this far from the block's end; the last 5 bytes are literals. */
const MATCH_SAFE_END = 12
const LAST_LITERALS = 5
const HASH_BITS = 14

export class Lz4FormatError extends Error {}

function fail(what: string): never {
  throw new Lz4FormatError(`lz4: ${what}`)
}

/** Writes a length's 255-continuation bytes after its nibble. */
function writeLength(out: Uint8Array, at: number, extra: number): number {
  let rest = extra
  while (rest >= 255) {
    out[at++] = 255
    rest -= 255
  }
  out[at++] = rest
  return at
}

/** One LZ4 block of `input[start, end)` into `out` at `at`; the end position. */
function compressBlock(input: Uint8Array, start: number, end: number, out: Uint8Array,
  at: number): number {
  const table = new Int32Array(1 << HASH_BITS).fill(-1)
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  const hash = (position: number) =>
    Math.imul(view.getUint32(position, true), 2654435761) >>> (32 - HASH_BITS)
  let anchor = start
  let position = start
  const matchLimit = end - MATCH_SAFE_END
  while (position < matchLimit) {
    const h = hash(position)
    const candidate = table[h]!
    table[h] = position
    if (candidate < 0 || position - candidate > 0xffff
      || view.getUint32(candidate, true) !== view.getUint32(position, true)) {
      position++
      continue
    }
    let length = MIN_MATCH
    while (position + length < end - LAST_LITERALS
      && input[candidate + length] === input[position + length]) length++
    const literals = position - anchor
    const token = at++
    out[token] = (Math.min(literals, 15) << 4) | Math.min(length - MIN_MATCH, 15)
    if (literals >= 15) at = writeLength(out, at, literals - 15)
    out.set(input.subarray(anchor, position), at)
    at += literals
    out[at++] = (position - candidate) & 0xff
    out[at++] = (position - candidate) >>> 8
    if (length - MIN_MATCH >= 15) at = writeLength(out, at, length - MIN_MATCH - 15)
    position += length
    anchor = position
  }
  const literals = end - anchor
  out[at++] = Math.min(literals, 15) << 4
  if (literals >= 15) at = writeLength(out, at, literals - 15)
  out.set(input.subarray(anchor, end), at)
  return at + literals
}

/** `input` as one LZ4 frame (Kafka's lz4 records section). */
export function lz4Compress(input: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(input.length / BLOCK_BYTES))
  // Worst case per block: the data stored as is, plus its size word.
  const out = Buffer.allocUnsafe(7 + blocks * (BLOCK_BYTES + 4) + 8)
  out.writeUInt32LE(MAGIC, 0)
  out[4] = 0x64 // version 01, independent blocks, content checksum
  out[5] = 0x40 // 64 KiB blocks
  out[6] = (xxhash32(out, 0, 4, 6) >>> 8) & 0xff
  let at = 7
  const scratch = Buffer.allocUnsafe(BLOCK_BYTES + BLOCK_BYTES / 255 + 16)
  for (let start = 0; start < input.length; start += BLOCK_BYTES) {
    const end = Math.min(input.length, start + BLOCK_BYTES)
    const size = compressBlock(input, start, end, scratch, 0)
    if (size < end - start) {
      out.writeUInt32LE(size, at)
      scratch.copy(out, at + 4, 0, size)
      at += 4 + size
    } else {
      out.writeUInt32LE(((end - start) | 0x80000000) >>> 0, at)
      out.set(input.subarray(start, end), at + 4)
      at += 4 + end - start
    }
  }
  out.writeUInt32LE(0, at)
  out.writeUInt32LE(xxhash32(input), at + 4)
  return out.subarray(0, at + 8)
}

/** Reads a 255-continued length. */
function readLength(input: Uint8Array, cursor: { at: number }, end: number): number {
  let length = 0
  for (;;) {
    if (cursor.at >= end) fail('a length runs past its block')
    const byte = input[cursor.at++]!
    length += byte
    if (byte !== 255) return length
  }
}

/**
 * Decodes the block `input[start, end)` into `out` from `at` (earlier output is the window of
 * linked blocks); the new output end.
 */
function decompressBlock(input: Uint8Array, start: number, end: number, out: Uint8Array,
  at: number, outEnd: number): number {
  const cursor = { at: start }
  let written = at
  while (cursor.at < end) {
    const token = input[cursor.at++]!
    let literals = token >>> 4
    if (literals === 15) literals += readLength(input, cursor, end)
    if (cursor.at + literals > end) fail('literals run past their block')
    if (written + literals > outEnd) fail('output exceeds its limit')
    out.set(input.subarray(cursor.at, cursor.at + literals), written)
    cursor.at += literals
    written += literals
    if (cursor.at === end) return written
    if (cursor.at + 2 > end) fail('a match offset runs past its block')
    const offset = input[cursor.at]! | (input[cursor.at + 1]! << 8)
    cursor.at += 2
    if (offset === 0 || offset > written) fail(`match offset ${offset} is out of range`)
    let length = token & 15
    if (length === 15) length += readLength(input, cursor, end)
    length += MIN_MATCH
    if (written + length > outEnd) fail('output exceeds its limit')
    // Byte by byte: a match may overlap its own output (a repeated run).
    for (let from = written - offset, i = 0; i < length; i++) out[written++] = out[from + i]!
  }
  return written
}

/** Decodes one frame at `cursor.at` into `out` from `written`; the new output end. */
function decompressFrame(input: Uint8Array, cursor: { at: number }, out: Uint8Array,
  written: number, outputMax: number): number {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  const start = cursor.at
  if (start + 7 > input.length || view.getUint32(start, true) !== MAGIC) fail('bad frame magic')
  const flags = input[start + 4]!
  if (flags >>> 6 !== 1) fail(`frame version ${flags >>> 6}`)
  const blockChecksums = (flags & 0x10) !== 0
  const contentSize = (flags & 0x08) !== 0
  const contentChecksum = (flags & 0x04) !== 0
  const dictionary = (flags & 0x01) !== 0
  const blockMax = BLOCK_SIZES.get((input[start + 5]! >>> 4) & 7) ?? fail('bad block size')
  const descriptorEnd = start + 6 + (contentSize ? 8 : 0) + (dictionary ? 4 : 0)
  if (descriptorEnd + 1 > input.length) fail('truncated frame descriptor')
  if (input[descriptorEnd] !== ((xxhash32(input, 0, start + 4, descriptorEnd) >>> 8) & 0xff)) {
    fail('frame descriptor checksum mismatch')
  }
  cursor.at = descriptorEnd + 1
  const frameStart = written
  for (;;) {
    if (cursor.at + 4 > input.length) fail('truncated block size')
    const word = view.getUint32(cursor.at, true)
    cursor.at += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if (size > blockMax || cursor.at + size + (blockChecksums ? 4 : 0) > input.length) {
      fail('a block runs past the frame')
    }
    if ((word & 0x80000000) !== 0) {
      if (written + size > outputMax) fail('output exceeds its limit')
      out.set(input.subarray(cursor.at, cursor.at + size), written)
      written += size
    } else {
      written = decompressBlock(input, cursor.at, cursor.at + size, out, written, outputMax)
    }
    cursor.at += size + (blockChecksums ? 4 : 0)
  }
  if (contentChecksum) {
    if (cursor.at + 4 > input.length) fail('truncated content checksum')
    if (view.getUint32(cursor.at, true) !== xxhash32(out, 0, frameStart, written)) {
      fail('content checksum mismatch')
    }
    cursor.at += 4
  }
  return written
}

/** The most a frame's blocks can hold (blocks × block size), found by walking their sizes. */
function frameBound(input: Uint8Array, cursor: { at: number }): number {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  const start = cursor.at
  if (start + 7 > input.length || view.getUint32(start, true) !== MAGIC) fail('bad frame magic')
  const flags = input[start + 4]!
  const blockMax = BLOCK_SIZES.get((input[start + 5]! >>> 4) & 7) ?? fail('bad block size')
  cursor.at = start + 7 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0)
  let bound = 0
  for (;;) {
    if (cursor.at + 4 > input.length) fail('truncated block size')
    const size = view.getUint32(cursor.at, true) & 0x7fffffff
    cursor.at += 4
    if (size === 0) break
    bound += blockMax
    cursor.at += size + ((flags & 0x10) !== 0 ? 4 : 0)
  }
  cursor.at += (flags & 0x04) !== 0 ? 4 : 0
  return bound
}

/**
 * Decodes LZ4 frames (one or more, back to back).
 * @throws Lz4FormatError when malformed or longer than `outputMax` bytes
 */
export function lz4Decompress(input: Uint8Array, outputMax: number): Buffer {
  // Allocate what the blocks can hold at most, within the limit: no growing, no bomb.
  let bound = 0
  for (const scan = { at: 0 }; scan.at < input.length;) bound += frameBound(input, scan)
  const out = Buffer.allocUnsafe(Math.min(bound, outputMax))
  let written = 0
  for (const cursor = { at: 0 }; cursor.at < input.length;) {
    written = decompressFrame(input, cursor, out, written, out.length)
  }
  return out.subarray(0, written)
}
