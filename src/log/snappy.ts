/**
 * Kafka's snappy compression (codec 2): raw Snappy blocks (format_description.txt) inside the
 * xerial framing the Java client writes (snappy-java's SnappyOutputStream: a 16-byte header,
 * then blocks each preceded by its big-endian compressed length). Reading also takes a raw
 * Snappy block without the framing, which some clients send and Kafka's reader accepts.
 *
 * Writing: 32 KiB blocks, each compressed by a greedy matcher over a hash of 4-byte sequences.
 * Reading: the declared lengths are checked against `outputMax` before anything is allocated,
 * and every copy offset against the output so far: a malformed block throws, never reads out
 * of bounds.
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_BYTES = 16
const BLOCK_BYTES = 32 * 1024
const HASH_BITS = 14

export class SnappyFormatError extends Error {}

function fail(what: string): never {
  throw new SnappyFormatError(`snappy: ${what}`)
}

function writeLiteral(input: Uint8Array, from: number, to: number, out: Uint8Array,
  at: number): number {
  const length = to - from
  if (length === 0) return at
  const n = length - 1
  if (n < 60) out[at++] = n << 2
  else {
    const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4
    out[at++] = (59 + bytes) << 2
    for (let i = 0; i < bytes; i++) out[at++] = (n >>> (8 * i)) & 0xff
  }
  out.set(input.subarray(from, to), at)
  return at + length
}

/** A copy of `length` (≥ 4) bytes from `offset` back, as 2-byte-offset copies of ≤ 64. */
function writeCopy(out: Uint8Array, at: number, offset: number, length: number): number {
  let rest = length
  while (rest > 0) {
    // Never leave a piece shorter than 4 (a copy needs at least 1 byte; 4 keeps it simple).
    const piece = rest > 64 ? (rest - 64 < 4 ? rest - 4 : 64) : rest
    out[at++] = ((piece - 1) << 2) | 2
    out[at++] = offset & 0xff
    out[at++] = offset >>> 8
    rest -= piece
  }
  return at
}

/** One raw Snappy block of `input[start, end)` into `out` at `at`; the end position. */
function compressBlock(input: Uint8Array, start: number, end: number, out: Uint8Array,
  at: number): number {
  let length = end - start
  while (length >= 0x80) {
    out[at++] = (length & 0x7f) | 0x80
    length >>>= 7
  }
  out[at++] = length
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  const table = new Int32Array(1 << HASH_BITS).fill(-1)
  let anchor = start
  let position = start
  while (position + 4 <= end) {
    const word = view.getUint32(position, true)
    const h = Math.imul(word, 0x1e35a7bd) >>> (32 - HASH_BITS)
    const candidate = table[h]!
    table[h] = position
    if (candidate < 0 || view.getUint32(candidate, true) !== word) {
      position++
      continue
    }
    let matched = 4
    while (position + matched < end && input[candidate + matched] === input[position + matched]) {
      matched++
    }
    at = writeLiteral(input, anchor, position, out, at)
    at = writeCopy(out, at, position - candidate, matched)
    position += matched
    anchor = position
  }
  return writeLiteral(input, anchor, end, out, at)
}

/** `input` in xerial framing of raw Snappy blocks (Kafka's snappy records section). */
export function snappyCompress(input: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(input.length / BLOCK_BYTES))
  // Worst case per block: varint, literal tags, the bytes, and the length word.
  const out = Buffer.allocUnsafe(XERIAL_HEADER_BYTES + blocks * (BLOCK_BYTES + BLOCK_BYTES / 60
    + 16))
  XERIAL_MAGIC.copy(out, 0)
  out.writeInt32BE(1, 8) // version
  out.writeInt32BE(1, 12) // compatible version
  let at = XERIAL_HEADER_BYTES
  for (let start = 0; start < input.length; start += BLOCK_BYTES) {
    const end = Math.min(input.length, start + BLOCK_BYTES)
    const size = compressBlock(input, start, end, out, at + 4) - (at + 4)
    out.writeInt32BE(size, at)
    at += 4 + size
  }
  return out.subarray(0, at)
}

/** The uncompressed length a raw block declares, and where its elements start. */
function declaredLength(input: Uint8Array, start: number, end: number):
{ length: number, at: number } {
  let length = 0
  for (let shift = 0, at = start; at < end && shift <= 28; shift += 7) {
    const byte = input[at++]!
    length += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return { length, at }
  }
  return fail('bad block length')
}

/** Decodes the raw block `input[start, end)` into `out` at `written`; the new output end. */
function decompressBlock(input: Uint8Array, start: number, end: number, out: Uint8Array,
  written: number): number {
  const { length, at: first } = declaredLength(input, start, end)
  const blockStart = written
  const blockEnd = written + length
  if (blockEnd > out.length) fail('output exceeds its limit')
  let at = first
  while (at < end) {
    const tag = input[at++]!
    const kind = tag & 3
    if (kind === 0) {
      let n = tag >>> 2
      if (n >= 60) {
        const bytes = n - 59
        if (at + bytes > end) fail('a literal length runs past its block')
        n = 0
        for (let i = 0; i < bytes; i++) n += input[at + i]! * 2 ** (8 * i)
        at += bytes
      }
      const literal = n + 1
      if (at + literal > end || written + literal > blockEnd) fail('a literal runs past its block')
      out.set(input.subarray(at, at + literal), written)
      at += literal
      written += literal
      continue
    }
    let copy: number
    let offset: number
    if (kind === 1) {
      if (at + 1 > end) fail('truncated copy')
      copy = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | input[at++]!
    } else {
      const bytes = kind === 2 ? 2 : 4
      if (at + bytes > end) fail('truncated copy')
      copy = (tag >>> 2) + 1
      offset = 0
      for (let i = 0; i < bytes; i++) offset += input[at + i]! * 2 ** (8 * i)
      at += bytes
    }
    if (offset === 0 || offset > written - blockStart) fail(`copy offset ${offset} out of range`)
    if (written + copy > blockEnd) fail('a copy runs past its block')
    for (let from = written - offset, i = 0; i < copy; i++) out[written++] = out[from + i]!
  }
  if (written !== blockEnd) fail(`block holds ${written - blockStart} bytes, not ${length}`)
  return written
}

const isXerial = (input: Uint8Array): boolean => input.length >= XERIAL_HEADER_BYTES
  && XERIAL_MAGIC.every((byte, i) => input[i] === byte)

/**
 * Decodes a snappy records section: xerial-framed blocks, or one raw block.
 * @throws SnappyFormatError when malformed or longer than `outputMax` bytes
 */
export function snappyDecompress(input: Uint8Array, outputMax: number): Buffer {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  const blocks: Array<[number, number]> = []
  if (isXerial(input)) {
    for (let at = XERIAL_HEADER_BYTES; at < input.length;) {
      if (at + 4 > input.length) fail('truncated block length')
      const size = view.getInt32(at, false)
      if (size < 0 || at + 4 + size > input.length) fail('a block runs past the data')
      blocks.push([at + 4, at + 4 + size])
      at += 4 + size
    }
  } else {
    blocks.push([0, input.length])
  }
  // Allocate what the blocks declare, once, after checking it against the limit.
  let total = 0
  for (const [start, end] of blocks) total += declaredLength(input, start, end).length
  if (total > outputMax) fail('output exceeds its limit')
  const out = Buffer.allocUnsafe(total)
  let written = 0
  for (const [start, end] of blocks) written = decompressBlock(input, start, end, out, written)
  return out
}
