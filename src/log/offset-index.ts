/**
 * Sparse offset index of one segment: entries (relative offset int32, position int32) mapping the
 * base offset of a batch to its byte position in the `.log`, one entry every
 * `indexIntervalBytes` of log. Lookups take the floor entry and scan forward from there.
 * Kept in memory (8 bytes an entry); persisted through index-file.ts.
 */
import { assert } from '../util/assert.ts'

export const OFFSET_INDEX_ENTRY_BYTES = 8

export interface IndexEntry {
  readonly offset: number
  readonly position: number
}

export class OffsetIndex {
  private relativeOffsets = new Int32Array(16)
  private positions = new Int32Array(16)
  private count = 0

  constructor(readonly baseOffset: number) {}

  get entryCount(): number {
    return this.count
  }

  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset
    assert(relative >= 0 && relative < 2 ** 31, 'index offset must be within the segment')
    if (this.count > 0) {
      assert(relative > this.relativeOffsets[this.count - 1]!, 'index offsets must increase')
      assert(position > this.positions[this.count - 1]!, 'index positions must increase')
    }
    if (this.count === this.positions.length) this.grow()
    this.relativeOffsets[this.count] = relative
    this.positions[this.count] = position
    this.count++
  }

  /** The last entry with offset ≤ `offset`, or the segment start. */
  floor(offset: number): IndexEntry {
    const relative = offset - this.baseOffset
    let low = 0
    let high = this.count - 1
    let found = -1
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (this.relativeOffsets[middle]! <= relative) {
        found = middle
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 }
    return {
      offset: this.baseOffset + this.relativeOffsets[found]!,
      position: this.positions[found]!,
    }
  }

  /** Drops entries at or past byte `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.positions[this.count - 1]! >= position) this.count--
  }

  encodeEntries(): Buffer {
    const entries = Buffer.allocUnsafe(this.count * OFFSET_INDEX_ENTRY_BYTES)
    for (let i = 0; i < this.count; i++) {
      entries.writeInt32BE(this.relativeOffsets[i]!, i * 8)
      entries.writeInt32BE(this.positions[i]!, i * 8 + 4)
    }
    return entries
  }

  /**
   * Rebuilds an index from stored entries; undefined when they are not strictly increasing or
   * point past `logBytes` (a damaged file whose CRC happened to match is still refused).
   */
  static fromEntries(baseOffset: number, entries: Buffer, logBytes: number):
  OffsetIndex | undefined {
    const index = new OffsetIndex(baseOffset)
    let lastRelative = -1
    let lastPosition = -1
    for (let at = 0; at < entries.length; at += OFFSET_INDEX_ENTRY_BYTES) {
      const relative = entries.readInt32BE(at)
      const position = entries.readInt32BE(at + 4)
      if (relative <= lastRelative || position <= lastPosition || position >= logBytes) {
        return undefined
      }
      index.append(baseOffset + relative, position)
      lastRelative = relative
      lastPosition = position
    }
    return index
  }

  private grow(): void {
    const offsets = new Int32Array(this.count * 2)
    offsets.set(this.relativeOffsets)
    const positions = new Int32Array(this.count * 2)
    positions.set(this.positions)
    this.relativeOffsets = offsets
    this.positions = positions
  }
}
