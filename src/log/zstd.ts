/**
 * Kafka's zstd compression (codec 4). Reading: `fzstd`, a pure-JS Zstandard decoder (a full
 * decoder is entropy coding, FSE and Huffman tables: far more code than the other codecs, and
 * Node 20's zlib has none), streamed so the output is counted block by block and refused past
 * `outputMax` before it grows further. Writing: only when the log cleaner rewrites a zstd batch
 * (a rewritten batch keeps its codec): one frame of raw blocks, which every decoder reads; the
 * producer does not offer zstd, since these frames do not shrink anything.
 */
import { Decompress } from 'fzstd'

const MAGIC = 0xfd2fb528
/** The most a raw block may hold (Block_Maximum_Size). */
const RAW_BLOCK_BYTES = 128 * 1024

export class ZstdFormatError extends Error {}

class OverLimit extends Error {}

/**
 * The largest window a frame may ask for beyond `outputMax`: the decoder allocates it before
 * reading a block. 16 MiB is window log 24, above every standard level's (≤ 23, level 19);
 * only --ultra levels ask for more.
 */
const WINDOW_BYTES_MAX = 16 * 1024 * 1024

function fail(what: string): never {
  throw new ZstdFormatError(`zstd: ${what}`)
}

/**
 * Walks the frames' headers and block headers before anything is decoded, and refuses a frame
 * whose declared size or window is beyond the limits: the decoder allocates what a frame
 * declares (a 20-byte frame can declare a gigabyte).
 */
function checkFrames(input: Uint8Array, outputMax: number): void {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  let declared = 0
  for (let at = 0; at < input.length;) {
    if (at + 8 <= input.length && (view.getUint32(at, true) & 0xfffffff0) === 0x184d2a50) {
      at += 8 + view.getUint32(at + 4, true) // a skippable frame
      continue
    }
    if (at + 5 > input.length || view.getUint32(at, true) !== MAGIC) fail('bad frame magic')
    const descriptor = input[at + 4]!
    const singleSegment = (descriptor & 0x20) !== 0
    let cursor = at + 5
    let window = 0
    if (!singleSegment) {
      const wd = input[cursor++] ?? fail('truncated frame header')
      const base = 2 ** (10 + (wd >>> 3))
      window = base + (base / 8) * (wd & 7)
    }
    cursor += [0, 1, 2, 4][descriptor & 3]!
    const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >>> 6]!
    if (cursor + sizeBytes > input.length) fail('truncated frame header')
    let size = 0
    for (let i = 0; i < sizeBytes; i++) size += input[cursor + i]! * 2 ** (8 * i)
    if (sizeBytes === 2) size += 256
    cursor += sizeBytes
    if (singleSegment) window = size
    declared += size
    if (declared > outputMax) fail('frame content exceeds the output limit')
    if (window > Math.max(outputMax, WINDOW_BYTES_MAX)) fail(`window of ${window} bytes`)
    for (let last = false; !last;) {
      if (cursor + 3 > input.length) fail('truncated block header')
      const header = input[cursor]! | (input[cursor + 1]! << 8) | (input[cursor + 2]! << 16)
      last = (header & 1) !== 0
      cursor += 3 + (((header >>> 1) & 3) === 1 ? 1 : header >>> 3)
    }
    at = cursor + ((descriptor & 0x04) !== 0 ? 4 : 0)
  }
}

/**
 * Decodes zstd frames (one or more, back to back).
 * @throws ZstdFormatError when malformed or longer than `outputMax` bytes
 */
export function zstdDecompress(input: Uint8Array, outputMax: number): Buffer {
  checkFrames(input, outputMax)
  const chunks: Buffer[] = []
  let total = 0
  const stream = new Decompress(data => {
    total += data.length
    if (total > outputMax) throw new OverLimit()
    // A copy: the decoder reuses its window buffer for the next blocks.
    chunks.push(Buffer.from(data))
  })
  try {
    stream.push(input, true)
  } catch (error) {
    throw new ZstdFormatError(error instanceof OverLimit ? 'zstd: output exceeds its limit'
      : `zstd: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return Buffer.concat(chunks, total)
}

/** `input` as one zstd frame of raw (stored) blocks, with its content size. */
export function zstdStore(input: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(input.length / RAW_BLOCK_BYTES))
  const out = Buffer.allocUnsafe(4 + 1 + 8 + blocks * 3 + input.length)
  out.writeUInt32LE(MAGIC, 0)
  // Frame_Header_Descriptor: 8-byte content size, single segment (no window descriptor).
  out[4] = 0xe0
  out.writeBigUInt64LE(BigInt(input.length), 5)
  let at = 13
  for (let block = 0; block < blocks; block++) {
    const start = block * RAW_BLOCK_BYTES
    const end = Math.min(input.length, start + RAW_BLOCK_BYTES)
    // Block_Header: last flag (bit 0), type raw (0), size (bits 3–23).
    const header = ((end - start) << 3) | (block === blocks - 1 ? 1 : 0)
    out[at] = header & 0xff
    out[at + 1] = (header >>> 8) & 0xff
    out[at + 2] = (header >>> 16) & 0xff
    out.set(input.subarray(start, end), at + 3)
    at += 3 + end - start
  }
  return out.subarray(0, at)
}
