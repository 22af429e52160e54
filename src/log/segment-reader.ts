/**
 * Reads whole batches out of one segment, starting at the batch that holds a given offset. The
 * offset index gives a position at or before it; a short forward walk over batch headers finds
 * the batch. Every batch returned, and every batch walked past on the way, has passed its CRC
 * check: a corrupt batch is never served nor silently skipped, the read fails with
 * WEIR_ERR_LOG_CORRUPT naming the file and offset instead.
 */
import { WeirError } from '../errors.ts'
import type { LogSegment } from './log-segment.ts'
import { BATCH_HEADER_BYTES, batchDefect, batchSizeAt } from './record-batch.ts'
import { readInt64 } from '../util/varint.ts'

export interface SegmentRead {
  /** Whole batches, back to back, as stored. Empty when nothing at or after the offset. */
  readonly bytes: Buffer
  /** Offset after the last batch returned (or the segment's next offset if none). */
  readonly nextOffset: number
}

export interface SegmentReadOptions {
  readonly offset: number
  /** Stop before exceeding this many bytes, except that the first batch is always whole. */
  readonly maxBytes: number
  /** Only batches whose base offset is below this are returned (high watermark). */
  readonly maxOffset: number
  readonly indexIntervalBytes: number
}

function corrupt(segment: LogSegment, offset: number, defect: string): WeirError {
  return new WeirError('WEIR_ERR_LOG_CORRUPT',
    `Segment ${segment.path} holds a corrupt batch at or after offset ${offset} (${defect}); `
    + 'it is not served. Restore this partition from a replica or a backup.')
}

export async function readSegment(segment: LogSegment, options: SegmentReadOptions):
Promise<SegmentRead> {
  const { offset, maxBytes, maxOffset } = options
  const limit = segment.sizeBytes
  const floor = segment.offsetIndex.floor(offset)
  let position = floor.position
  // Offsets lie outside the batch CRC (Kafka's v2 layout), so a flipped bit there passes the CRC.
  // Each batch must start after the one before it ends and end inside the segment; a batch is
  // served only once the header after it (or the segment end) has confirmed where it ends.
  let expectedOffset = floor.offset
  let chunkBytes = options.indexIntervalBytes + maxBytes + BATCH_HEADER_BYTES
  while (position < limit) {
    const wanted = Math.min(chunkBytes, limit - position)
    const chunk = await segment.readBytes(position, wanted)
    if (chunk.length < wanted) throw corrupt(segment, offset, 'file shorter than its contents')
    let at = 0
    let start = -1
    let end = 0
    let nextOffset = segment.nextOffset
    let confirmed = false
    while (chunk.length - at >= BATCH_HEADER_BYTES) {
      const size = batchSizeAt(chunk, at)
      const baseOffset = readInt64(chunk, at)
      if (size < BATCH_HEADER_BYTES || position + at + size > limit) {
        throw corrupt(segment, expectedOffset, `bad length ${size}`)
      }
      const lastOffset = baseOffset + chunk.readInt32BE(at + 23)
      if (baseOffset < expectedOffset || lastOffset < baseOffset
        || lastOffset >= segment.nextOffset) {
        throw corrupt(segment, expectedOffset, `offsets ${baseOffset}..${lastOffset} out of order`)
      }
      if (start < 0 && lastOffset < offset) {
        // lastOffsetDelta lies inside the CRC, and a flipped bit there would make a batch look
        // shorter and its last records be skipped without a word: check a batch before passing
        // it (the walk from the index entry is short, at most about indexIntervalBytes).
        if (at + size > chunk.length) break // read on from this batch, whole
        const defect = batchDefect(chunk, at)
        if (defect !== undefined) throw corrupt(segment, baseOffset, defect)
        expectedOffset = lastOffset + 1
        at += size
        continue
      }
      if (baseOffset >= maxOffset) {
        nextOffset = baseOffset
        confirmed = true
        break
      }
      const fits = at + size <= chunk.length
      if (start >= 0 && (!fits || at + size - start > maxBytes)) {
        nextOffset = baseOffset
        confirmed = true
        break
      }
      if (!fits) break
      const defect = batchDefect(chunk, at)
      if (defect !== undefined) throw corrupt(segment, baseOffset, defect)
      if (start < 0) start = at
      end = at + size
      nextOffset = lastOffset + 1
      expectedOffset = lastOffset + 1
      at += size
    }
    if (start >= 0) {
      const after = position + end
      if (!confirmed && after < limit) {
        // The chunk ended before the next header: read its base offset to confirm the last one.
        const next = await segment.readBytes(after, 8)
        if (next.length < 8 || readInt64(next, 0) < expectedOffset) {
          throw corrupt(segment, offset, 'offsets out of order')
        }
      }
      return { bytes: chunk.subarray(start, end), nextOffset }
    }
    if (at === 0) {
      if (chunk.length < BATCH_HEADER_BYTES) break
      // The batch at `position` is the one wanted and larger than the chunk: read it whole.
      chunkBytes = batchSizeAt(chunk, 0)
      if (readInt64(chunk, 0) >= maxOffset) break
      continue
    }
    position += at
    if (at < chunk.length && chunk.length - at >= BATCH_HEADER_BYTES) continue
    if (position >= limit || chunk.length < chunkBytes) break
  }
  return { bytes: Buffer.alloc(0), nextOffset: Math.min(segment.nextOffset, maxOffset) }
}
