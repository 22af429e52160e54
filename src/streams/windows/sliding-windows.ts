/**
 * Sliding windows, Kafka Streams' SlidingWindows (KIP-450): windows of one fixed size, the time
 * difference d, placed by the records rather than by the clock. A window [start, start + d]
 * holds both of its bounds (Kafka: d is the largest time difference between two records of one
 * window, inclusive). Per key, a record at t has its left window [t − d, t], ending at it, and —
 * once a later record comes within d + 1 of it — its right window [t + 1, t + 1 + d], starting
 * just after it. So every set of records that one window of size d can hold has a window, and
 * only windows holding a record exist (Kafka's javadoc: a window is created each time a record
 * enters or leaves the sliding window). Unlike Kafka, windows may start before time 0: Kafka
 * folds the records earlier than d into one window [0, d] instead, as its window store keys
 * cannot hold a negative start; Weir's sliding store has no such keys.
 *
 * Closing, as in Kafka: a window is closed once stream time > end + grace (its end is inclusive,
 * so it still takes a record at stream time end + grace), and a closed window takes no more
 * records. A record whose every window is closed — the last one that could hold it is [t, t + d]
 * — is late and dropped whole (KStreamSlidingWindowAggregate: t + 1 + d ≤ stream time − grace).
 */
import { checkDuration } from './time-windows.ts'

export class SlidingWindows {
  private constructor(readonly timeDifferenceMs: number, readonly graceMs: number) {}

  /** Kafka: SlidingWindows.ofTimeDifferenceAndGrace (a time difference of 0 is allowed). */
  static withTimeDifference(timeDifferenceMs: number, options: { graceMs?: number } = {}):
  SlidingWindows {
    checkDuration('The time difference', timeDifferenceMs, 0)
    return new SlidingWindows(timeDifferenceMs,
      checkDuration('graceMs', options.graceMs ?? 0, 0))
  }

  /** Whether a window ending at `end` (inclusive) still takes records at `streamTimeMs`. */
  isOpen(end: number, streamTimeMs: number): boolean {
    return end + this.graceMs >= streamTimeMs
  }

  /** Whether a record at `timestamp` is dropped whole: every window it could fall in is closed. */
  isLate(timestamp: number, streamTimeMs: number): boolean {
    return !this.isOpen(timestamp + this.timeDifferenceMs, streamTimeMs)
  }

  /**
   * How far behind stream time a window's start and a record's time are kept: 3d + grace.
   * A record still taken is at t ≥ stream time − grace − d; the windows it updates or makes
   * start at t − d or later, and each new one starts from a window holding the same earlier
   * records, which starts at t − 2d or later (the left window of its latest record, or the
   * right window of the record before that one's earliest). Kafka keeps 2d + grace, as it
   * finds those windows by iterating its store over [t − 2d, t + 1] by start.
   */
  get retentionMs(): number {
    return 3 * this.timeDifferenceMs + this.graceMs
  }

  /**
   * The starts, ascending, of the windows the key's records `times` (distinct, ascending) make
   * that start in [from, to]: left windows x − d, and right windows x + 1 of every record time x
   * followed by another within d + 1.
   */
  startsBetween(times: readonly number[], from: number, to: number): number[] {
    const d = this.timeDifferenceMs
    const starts = new Set<number>()
    for (const [i, x] of times.entries()) {
      if (x - d >= from && x - d <= to) starts.add(x - d)
      const next = times[i + 1]
      if (next !== undefined && next <= x + 1 + d && x + 1 >= from && x + 1 <= to) {
        starts.add(x + 1)
      }
    }
    return [...starts].sort((a, b) => a - b)
  }
}
