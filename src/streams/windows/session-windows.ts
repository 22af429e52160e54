/**
 * Session windows, Kafka Streams' SessionWindows: per key, records closer than `gapMs` in event
 * time belong to one session [start, end] (both inclusive: the first and last record's times). A
 * record merges every session of its key it falls within `gapMs` of — so one record can join
 * two sessions into one — and the merged session replaces them. A session whose end + grace <
 * stream time is closed (its end is inclusive, so it still takes a record at end + grace): a
 * record whose merged session would be closed is late and dropped (Kafka:
 * KStreamSessionWindowAggregate drops when the merged end < stream time − grace).
 */
import { WeirError } from '../../errors.ts'

export interface SessionWindow {
  /** Inclusive, ms: the first record's time. */
  readonly start: number
  /** Inclusive, ms: the last record's time. */
  readonly end: number
}

export interface SessionMerge<A> {
  /** The session the record ends up in. */
  readonly window: SessionWindow
  /** Existing sessions it absorbed (to delete from the store), in the order given. */
  readonly merged: ReadonlyArray<{ window: SessionWindow, aggregate: A }>
}

export class SessionWindows {
  private constructor(readonly gapMs: number, readonly graceMs: number) {}

  static withGap(gapMs: number, options: { graceMs?: number } = {}): SessionWindows {
    const graceMs = options.graceMs ?? 0
    for (const [name, value, min] of [['The gap', gapMs, 1], ['graceMs', graceMs, 0]] as const) {
      if (!Number.isSafeInteger(value) || value < min) {
        throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `${name} must be an integer number of `
          + `milliseconds ≥ ${min}, got ${value}.`)
      }
    }
    return new SessionWindows(gapMs, graceMs)
  }

  /** Whether a record at `timestamp` may join or extend `session` (within the gap). */
  reaches(session: SessionWindow, timestamp: number): boolean {
    return timestamp >= session.start - this.gapMs && timestamp <= session.end + this.gapMs
  }

  /**
   * The session a record at `timestamp` makes together with the key's `existing` sessions it
   * reaches (the others are left alone).
   */
  merge<A>(timestamp: number, existing: ReadonlyArray<{ window: SessionWindow, aggregate: A }>):
  SessionMerge<A> {
    let start = timestamp
    let end = timestamp
    const merged = existing.filter(session => this.reaches(session.window, timestamp))
    for (const { window } of merged) {
      start = Math.min(start, window.start)
      end = Math.max(end, window.end)
    }
    return { window: { start, end }, merged }
  }

  /** Whether a session ending at `end` still takes records at stream time `streamTimeMs`. */
  isOpen(end: number, streamTimeMs: number): boolean {
    return end + this.graceMs >= streamTimeMs
  }

  /**
   * How long behind stream time a session is kept (gap + grace, Kafka's session retention): one
   * ending earlier can only be reached by a record whose merged session is closed.
   */
  get retentionMs(): number {
    return this.gapMs + this.graceMs
  }
}
