/**
 * On-disk framing shared by `.index` and `.timeindex` files:
 *
 *   entries             fixed-size entries, written in order
 *   trailer (36 bytes)  magic "WIX1", entryBytes u32, entryCount u32, logBytes u32,
 *                       nextOffset i64, maxTimestamp i64, crc u32 (CRC-32C of everything before)
 *
 * `logBytes` and `nextOffset` describe the segment at the moment the index was written, so an
 * index is trusted only for a `.log` at least that long. Index files are written whole when a
 * segment rolls or the log closes; any damage (torn write, bit flip, truncation) fails the CRC and
 * the index is rebuilt from the segment. Indexes are a cache of the log, never a source of truth.
 */
import { crc32c } from '../util/crc32c.ts'
import { readInt64, writeInt64 } from '../util/varint.ts'

const MAGIC = 0x57495831 // "WIX1"
export const INDEX_TRAILER_BYTES = 36

export interface IndexFileSummary {
  readonly logBytes: number
  readonly nextOffset: number
  readonly maxTimestamp: number
}

export function encodeIndexFile(entries: Buffer, entryBytes: number, summary: IndexFileSummary):
Buffer {
  const file = Buffer.allocUnsafe(entries.length + INDEX_TRAILER_BYTES)
  entries.copy(file, 0)
  const at = entries.length
  file.writeUInt32BE(MAGIC, at)
  file.writeUInt32BE(entryBytes, at + 4)
  file.writeUInt32BE(entries.length / entryBytes, at + 8)
  file.writeUInt32BE(summary.logBytes, at + 12)
  writeInt64(file, at + 16, summary.nextOffset)
  writeInt64(file, at + 24, summary.maxTimestamp)
  file.writeUInt32BE(crc32c(file, 0, at + 32), at + 32)
  return file
}

/** Entries and summary of an index file, or undefined when it is damaged in any way. */
export function decodeIndexFile(file: Buffer, entryBytes: number):
{ entries: Buffer, summary: IndexFileSummary } | undefined {
  if (file.length < INDEX_TRAILER_BYTES) return undefined
  const at = file.length - INDEX_TRAILER_BYTES
  if (file.readUInt32BE(at) !== MAGIC || file.readUInt32BE(at + 4) !== entryBytes) return undefined
  if (file.readUInt32BE(at + 8) * entryBytes !== at) return undefined
  if (file.readUInt32BE(at + 32) !== crc32c(file, 0, at + 32)) return undefined
  return {
    entries: file.subarray(0, at),
    summary: {
      logBytes: file.readUInt32BE(at + 12),
      nextOffset: readInt64(file, at + 16),
      maxTimestamp: readInt64(file, at + 24),
    },
  }
}
