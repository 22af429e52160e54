/**
 * The newest batches of a partition log's active segment, kept in memory so that a reader at the
 * end of the log — a consumer long-polling for what was just appended, the common case — is
 * answered without a file read. A read from disk costs a thread-pool round trip (tens of µs of
 * CPU on a small VM, bench/README.md) for bytes that were in hand a moment ago; Kafka leans on
 * the page cache for the same reason.
 *
 * One ring of `bytesMax` bytes, allocated on the first batch, into which batches are copied, and
 * their offsets and positions in typed arrays: no object per batch. Keeping a Buffer per batch
 * for the second or so it stays cached got each one promoted to the old generation and freed
 * there, which cost the server a full GC every few seconds and more latency than the file reads
 * it saved. A batch overwrites the oldest ones; one larger than the ring is not kept.
 *
 * Holds whole batches exactly as written, in offset order, without gaps. The log clears it when
 * the active segment rolls, so it only mirrors the active segment, which compaction and retention
 * never rewrite. A read it cannot answer whole (an offset before its first batch, at or past
 * `maxOffset`) returns undefined and goes to disk; one it answers returns a copy of what the disk
 * read would have: whole batches from the one holding the offset, below `maxOffset`, the first
 * whole and the rest within `maxBytes`.
 */

export class TailCache {
  private ring: Buffer | undefined
  /** Per cached batch, oldest first from `first`, circular over `capacity` slots. */
  private readonly baseOffsets: Float64Array
  private readonly lastOffsets: Float64Array
  private readonly positions: Int32Array
  private readonly sizes: Int32Array
  private first = 0
  private count = 0
  /** Where the next batch goes in the ring. */
  private writeAt = 0

  constructor(private readonly bytesMax: number) {
    // A batch takes at least its 61-byte header: no more batches than that fit in the ring.
    const capacity = Math.max(1, Math.ceil(bytesMax / 61))
    this.baseOffsets = new Float64Array(capacity)
    this.lastOffsets = new Float64Array(capacity)
    this.positions = new Int32Array(capacity)
    this.sizes = new Int32Array(capacity)
  }

  private slot(i: number): number {
    return (this.first + i) % this.baseOffsets.length
  }

  /** Copies in a batch just written at the end of the active segment. */
  add(batch: Buffer, baseOffset: number, lastOffset: number): void {
    const size = batch.length
    if (size > this.bytesMax || size === 0) {
      this.clear()
      return
    }
    this.ring ??= Buffer.allocUnsafe(this.bytesMax)
    let at = this.writeAt
    if (at + size > this.bytesMax) {
      // No batch wraps: start again at the front. The batches left after the write position
      // (the lap before) are the oldest, and out of order with the front: drop them first.
      while (this.count > 0 && this.positions[this.slot(0)]! >= at) this.evictOldest()
      at = 0
    }
    // Then the oldest batches the new one overwrites, and the oldest if every slot is taken.
    while (this.count > 0) {
      const oldest = this.slot(0)
      const start = this.positions[oldest]!
      const overlaps = start < at + size && at < start + this.sizes[oldest]!
      if (!overlaps && this.count < this.baseOffsets.length) break
      this.evictOldest()
    }
    batch.copy(this.ring, at)
    const slot = this.slot(this.count)
    this.baseOffsets[slot] = baseOffset
    this.lastOffsets[slot] = lastOffset
    this.positions[slot] = at
    this.sizes[slot] = size
    this.count++
    this.writeAt = at + size
  }

  private evictOldest(): void {
    this.first = (this.first + 1) % this.baseOffsets.length
    this.count--
  }

  clear(): void {
    this.first = 0
    this.count = 0
    this.writeAt = 0
  }

  /** The batches a read from `offset` returns, or undefined when they are not all here. */
  read(offset: number, maxOffset: number, maxBytes: number):
  { bytes: Buffer, nextOffset: number } | undefined {
    if (this.count === 0 || offset >= maxOffset || offset < this.baseOffsets[this.slot(0)]!
      || offset > this.lastOffsets[this.slot(this.count - 1)]!) return undefined
    // Binary search for the batch holding `offset`: the last one whose base offset is ≤ it.
    let low = 0
    let high = this.count - 1
    while (low < high) {
      const middle = (low + high + 1) >>> 1
      if (this.baseOffsets[this.slot(middle)]! <= offset) low = middle
      else high = middle - 1
    }
    let end = low
    let size = 0
    for (; end < this.count; end++) {
      const slot = this.slot(end)
      if (this.baseOffsets[slot]! >= maxOffset) break
      if (end > low && size + this.sizes[slot]! > maxBytes) break
      size += this.sizes[slot]!
    }
    if (end === low) return undefined
    const bytes = Buffer.allocUnsafe(size)
    let at = 0
    for (let i = low; i < end; i++) {
      const slot = this.slot(i)
      const position = this.positions[slot]!
      at += this.ring!.copy(bytes, at, position, position + this.sizes[slot]!)
    }
    return { bytes, nextOffset: this.lastOffsets[this.slot(end - 1)]! + 1 }
  }
}
