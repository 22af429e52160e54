/**
 * Sparse time index of one segment: entries (timestamp int64, relative offset int32). An entry
 * (t, o) says "the batch at offset o raised the segment's largest timestamp so far to t", so every
 * batch before o has all its timestamps ≤ t. To find the first record with timestamp ≥ T, start
 * at the last entry with t < T and scan forward (Kafka's TimeIndex works the same way).
 */
import { assert } from '../util/assert.ts'
import { readInt64, writeInt64 } from '../util/varint.ts'

export const TIME_INDEX_ENTRY_BYTES = 12

export interface TimeIndexEntry {
  readonly timestamp: number
  readonly offset: number
}

export class TimeIndex {
  private entries: TimeIndexEntry[] = []

  constructor(readonly baseOffset: number) {}

  get entryCount(): number {
    return this.entries.length
  }

  get last(): TimeIndexEntry | undefined {
    return this.entries[this.entries.length - 1]
  }

  /** Adds an entry if `timestamp` is larger than the last one (entries only ever increase). */
  maybeAppend(timestamp: number, offset: number): void {
    const last = this.last
    if (last !== undefined && timestamp <= last.timestamp) return
    assert(last === undefined || offset > last.offset, 'time index offsets must increase')
    assert(offset >= this.baseOffset, 'time index offset must be within the segment')
    this.entries.push({ timestamp, offset })
  }

  /** Offset to start scanning from when looking for the first timestamp ≥ `timestamp`. */
  scanStart(timestamp: number): number {
    let low = 0
    let high = this.entries.length - 1
    let found = -1
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (this.entries[middle]!.timestamp < timestamp) {
        found = middle
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return found < 0 ? this.baseOffset : this.entries[found]!.offset
  }

  /** Drops entries at or past `offset` (the log was truncated there). */
  truncateToOffset(offset: number): void {
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.offset >= offset) {
      this.entries.pop()
    }
  }

  encodeEntries(): Buffer {
    const buffer = Buffer.allocUnsafe(this.entries.length * TIME_INDEX_ENTRY_BYTES)
    this.entries.forEach((entry, i) => {
      writeInt64(buffer, i * TIME_INDEX_ENTRY_BYTES, entry.timestamp)
      buffer.writeInt32BE(entry.offset - this.baseOffset, i * TIME_INDEX_ENTRY_BYTES + 8)
    })
    return buffer
  }

  /** Rebuilds from stored entries; undefined unless both columns strictly increase. */
  static fromEntries(baseOffset: number, buffer: Buffer, nextOffset: number):
  TimeIndex | undefined {
    const index = new TimeIndex(baseOffset)
    for (let at = 0; at < buffer.length; at += TIME_INDEX_ENTRY_BYTES) {
      const timestamp = readInt64(buffer, at)
      const offset = baseOffset + buffer.readInt32BE(at + 8)
      const last = index.last
      if (offset >= nextOffset || offset < baseOffset) return undefined
      if (last !== undefined && (timestamp <= last.timestamp || offset <= last.offset)) {
        return undefined
      }
      index.entries.push({ timestamp, offset })
    }
    return index
  }
}
