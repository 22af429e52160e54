/**
 * xxHash32 (Yann Collet's non-cryptographic hash, as specified in xxhash_spec.md): the checksum
 * of the LZ4 frame format, which Kafka's lz4 compression uses. 32-bit arithmetic throughout
 * (Math.imul and >>> 0).
 */
const PRIME1 = 0x9e3779b1
const PRIME2 = 0x85ebca77
const PRIME3 = 0xc2b2ae3d
const PRIME4 = 0x27d4eb2f
const PRIME5 = 0x165667b1

const rotl = (value: number, bits: number): number => (value << bits) | (value >>> (32 - bits))

function round(accumulator: number, lane: number): number {
  const sum = (accumulator + Math.imul(lane, PRIME2)) | 0
  return Math.imul(rotl(sum, 13), PRIME1)
}

/** The xxHash32 of `bytes[start, end)` with `seed`, unsigned. */
export function xxhash32(bytes: Uint8Array, seed = 0, start = 0, end = bytes.length): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const length = end - start
  let at = start
  let hash: number
  if (length >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0
    let v2 = (seed + PRIME2) | 0
    let v3 = seed | 0
    let v4 = (seed - PRIME1) | 0
    for (const limit = end - 16; at <= limit; at += 16) {
      v1 = round(v1, view.getUint32(at, true))
      v2 = round(v2, view.getUint32(at + 4, true))
      v3 = round(v3, view.getUint32(at + 8, true))
      v4 = round(v4, view.getUint32(at + 12, true))
    }
    hash = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    hash = (seed + PRIME5) | 0
  }
  hash = (hash + length) | 0
  for (; at + 4 <= end; at += 4) {
    hash = (hash + Math.imul(view.getUint32(at, true), PRIME3)) | 0
    hash = Math.imul(rotl(hash, 17), PRIME4)
  }
  for (; at < end; at++) {
    hash = (hash + Math.imul(bytes[at]!, PRIME5)) | 0
    hash = Math.imul(rotl(hash, 11), PRIME1)
  }
  hash ^= hash >>> 15
  hash = Math.imul(hash, PRIME2)
  hash ^= hash >>> 13
  hash = Math.imul(hash, PRIME3)
  hash ^= hash >>> 16
  return hash >>> 0
}
