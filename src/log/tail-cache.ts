/**
 * The newest batches of a partition log's active segment, kept in memory so that a reader at the
 * end of the log — a consumer long-polling for what was just appended, the common case — is
 * answered without a file read. A read from disk costs a thread-pool round trip (tens of µs of
 * CPU on a small VM, bench/README.md) for bytes that were in hand a moment ago; Kafka leans on
 * the page cache for the same reason.
 *
 * Holds whole batches exactly as written, in offset order, without gaps, up to `bytesMax` in
 * total (older batches are evicted first; a batch larger than the whole cache is not kept). The
 * log clears it when the active segment rolls, so it only ever mirrors the active segment, which
 * compaction and retention never rewrite. A read it cannot answer completely (an offset before
 * its first batch) returns undefined and goes to disk; one it answers returns what the disk read
 * would have: whole batches from the one holding the offset, below `maxOffset`, the first whole
 * and the rest within `maxBytes`.
 */
import { assert } from '../util/assert.ts'

interface CachedBatch {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly bytes: Buffer
}

export class TailCache {
  private batches: CachedBatch[] = []
  /** Index of the oldest live batch in `batches` (evicted ones are dropped in bulk). */
  private head = 0
  private bytes = 0

  constructor(private readonly bytesMax: number) {}

  /** Keeps a batch just written at the end of the active segment. */
  add(batch: Buffer, baseOffset: number, lastOffset: number): void {
    if (batch.length > this.bytesMax) {
      this.clear()
      return
    }
    const newest = this.batches[this.batches.length - 1]
    assert(this.head >= this.batches.length || newest === undefined
      || newest.lastOffset + 1 === baseOffset, 'tail cache batches are contiguous')
    // A view into a larger buffer (a network frame) would keep all of it alive: copy it out.
    const bytes = batch.buffer.byteLength > 2 * batch.length ? Buffer.from(batch) : batch
    this.batches.push({ baseOffset, lastOffset, bytes })
    this.bytes += batch.length
    while (this.bytes > this.bytesMax) this.bytes -= this.batches[this.head++]!.bytes.length
    if (this.head > 64 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head)
      this.head = 0
    }
  }

  clear(): void {
    this.batches = []
    this.head = 0
    this.bytes = 0
  }

  /** The batches a read from `offset` returns, or undefined when they are not all here. */
  read(offset: number, maxOffset: number, maxBytes: number):
  { bytes: Buffer, nextOffset: number } | undefined {
    const { batches } = this
    if (offset >= maxOffset || this.head >= batches.length
      || offset < batches[this.head]!.baseOffset) return undefined
    let first = batches.length - 1
    while (first > this.head && batches[first]!.baseOffset > offset) first--
    if (batches[first]!.lastOffset < offset) return undefined // past the newest batch
    const taken: Buffer[] = []
    let size = 0
    let nextOffset = offset
    for (let i = first; i < batches.length; i++) {
      const batch = batches[i]!
      if (batch.baseOffset >= maxOffset) break
      if (taken.length > 0 && size + batch.bytes.length > maxBytes) break
      taken.push(batch.bytes)
      size += batch.bytes.length
      nextOffset = batch.lastOffset + 1
    }
    if (taken.length === 0) return undefined
    return { bytes: taken.length === 1 ? taken[0]! : Buffer.concat(taken, size), nextOffset }
  }
}
