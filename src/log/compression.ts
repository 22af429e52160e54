/**
 * The record-batch codecs Weir reads and writes (attributes bits 0–2): none, gzip (node:zlib),
 * snappy (xerial framing, snappy.ts) and lz4 (LZ4 frame, lz4.ts). zstd (4) is not available:
 * Node 20's zlib has no zstd, and the pure-JS decoder tried (fzstd 0.1.1) does unbounded work on
 * a malformed block (a fuzzed 1.4 KB frame took 3.9 s), which a broker cannot accept from any
 * producer; batches carrying it are refused with UNSUPPORTED_COMPRESSION_TYPE by the callers.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { lz4Compress, lz4Decompress } from './lz4.ts'
import { snappyCompress, snappyDecompress } from './snappy.ts'

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4'

export const compressionIds: Readonly<Record<Compression, number>> = { none: 0, gzip: 1,
  snappy: 2, lz4: 3 }

const byId: ReadonlyArray<Compression | undefined> = ['none', 'gzip', 'snappy', 'lz4']

/** The codec of a batch's attributes, or undefined for one Weir cannot read (zstd, 5–7). */
export function compressionById(id: number): Compression | undefined {
  return byId[id]
}

export function compress(compression: Compression, bytes: Uint8Array): Buffer {
  switch (compression) {
    case 'none': return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    case 'gzip': return gzipSync(bytes)
    case 'snappy': return snappyCompress(bytes)
    case 'lz4': return lz4Compress(bytes)
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
  }
}
