/**
 * The record-batch codecs (attributes bits 0–2): none, gzip (node:zlib), snappy (xerial
 * framing, snappy.ts), lz4 (LZ4 frame, lz4.ts) and zstd (zstd.ts: read with a pure-JS decoder;
 * written only as stored blocks, when compaction rewrites a zstd batch). Ids 5–7 are refused
 * with UNSUPPORTED_COMPRESSION_TYPE by the callers.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { lz4Compress, lz4Decompress } from './lz4.ts'
import { snappyCompress, snappyDecompress } from './snappy.ts'
import { zstdDecompress, zstdStore } from './zstd.ts'

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

export const compressionIds: Readonly<Record<Compression, number>> = { none: 0, gzip: 1,
  snappy: 2, lz4: 3, zstd: 4 }

const byId: ReadonlyArray<Compression | undefined> = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** The codec of a batch's attributes, or undefined for an id Kafka does not define (5–7). */
export function compressionById(id: number): Compression | undefined {
  return byId[id]
}

export function compress(compression: Compression, bytes: Uint8Array): Buffer {
  switch (compression) {
    case 'none': return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    case 'gzip': return gzipSync(bytes)
    case 'snappy': return snappyCompress(bytes)
    case 'lz4': return lz4Compress(bytes)
    case 'zstd': return zstdStore(bytes)
  }
}

/**
 * The decompressed bytes, at most `outputMax` of them (a compression bomb is refused before it
 * allocates).
 * @throws the codec's error (callers turn it into CORRUPT_MESSAGE)
 */
export function decompress(compression: Compression, bytes: Buffer, outputMax: number): Buffer {
  switch (compression) {
    case 'none': return bytes
    case 'gzip': return gunzipSync(bytes, { maxOutputLength: outputMax })
    case 'snappy': return snappyDecompress(bytes, outputMax)
    case 'lz4': return lz4Decompress(bytes, outputMax)
    case 'zstd': return zstdDecompress(bytes, outputMax)
  }
}
