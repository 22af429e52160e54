/**
 * Retention for `cleanupPolicy: 'delete'` (Kafka's UnifiedLog.deleteOldSegments): which closed
 * segments to delete, oldest first. Whole segments only; the active segment is never deleted, so
 * the log start offset moves to the base offset of the first segment kept. Pure: the log does
 * the deleting.
 */
import type { LogConfig } from './log-config.ts'

export interface SegmentStats {
  readonly baseOffset: number
  readonly sizeBytes: number
  /** Largest record timestamp in the segment, -1 when empty. */
  readonly maxTimestamp: number
}

/** How many of the oldest segments retention deletes now (never the last, active one). */
export function segmentsToDelete(segments: readonly SegmentStats[],
  config: Pick<LogConfig, 'retentionMs' | 'retentionBytes'>, nowMs: number): number {
  const closed = segments.length - 1
  let count = 0
  if (config.retentionMs >= 0) {
    while (count < closed && nowMs - segments[count]!.maxTimestamp > config.retentionMs) count++
  }
  if (config.retentionBytes >= 0) {
    let excess = segments.reduce((sum, s) => sum + s.sizeBytes, 0) - config.retentionBytes
    for (let i = 0; i < count; i++) excess -= segments[i]!.sizeBytes
    while (count < closed && excess - segments[count]!.sizeBytes >= 0) {
      excess -= segments[count]!.sizeBytes
      count++
    }
  }
  return count
}
