/**
 * Join windows, Kafka Streams' JoinWindows: which records of two streams join, and for how long
 * each side's records wait for a partner. A left record at l and a right record at r with the
 * same key join when l − before ≤ r ≤ l + after (Kafka's SQL-style definition; `before` and
 * `after` are seen from the left stream, so a right record at r looks for left records in
 * [r − after, r + before]). `ofTimeDifferenceAndGrace(d, grace)` makes before = after = d.
 *
 * Every record has its own window, aligned on its timestamp, which closes `grace` ms of stream
 * time after its end: a left record's at l + after + grace, a right record's at r + before +
 * grace. It is open while that close time ≥ stream time (Kafka: KStreamKStreamJoin's
 * isOuterJoinWindowOpen, `minTime + lookBack + grace >= streamTime`, lookBack = after for the
 * left side and before for the right); stream-stream-join.ts says what closing means.
 *
 * Unlike Kafka, `before` and `after` must each be ≥ 0: Kafka allows one negative when their sum
 * is not, but then clamps its store lookups at time 0 differently per side, so whether two
 * records join can depend on which arrives first.
 */
import { WeirError } from '../../errors.ts'

export type JoinSide = 'left' | 'right'

function checkDuration(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `${name} must be an integer number of `
      + `milliseconds ≥ 0, got ${value}.`)
  }
  return value
}

export class JoinWindows {
  private constructor(
    /** How much earlier than a left record a right record may be, ms. */
    readonly beforeMs: number,
    /** How much later than a left record a right record may be, ms. */
    readonly afterMs: number,
    /** How long after a window's end out-of-order records are still admitted, ms. */
    readonly graceMs: number,
  ) {}

  /** Records join when their timestamps differ by at most `timeDifferenceMs` (either way). */
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    const difference = checkDuration('The time difference', timeDifferenceMs)
    return new JoinWindows(difference, difference, checkDuration('graceMs', graceMs))
  }

  /** Like ofTimeDifferenceAndGrace with grace 0: a record out of order by any amount is late. */
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0)
  }

  /** The same windows, with right records up to `beforeMs` earlier than the left one joining. */
  before(beforeMs: number): JoinWindows {
    return new JoinWindows(checkDuration('before', beforeMs), this.afterMs, this.graceMs)
  }

  /** The same windows, with right records up to `afterMs` later than the left one joining. */
  after(afterMs: number): JoinWindows {
    return new JoinWindows(this.beforeMs, checkDuration('after', afterMs), this.graceMs)
  }

  /** Whether a left record at `leftMs` and a right record at `rightMs` fall in one window. */
  matches(leftMs: number, rightMs: number): boolean {
    return leftMs - this.beforeMs <= rightMs && rightMs <= leftMs + this.afterMs
  }

  /** The stream time after which the window of a `side` record at `timestamp` is closed. */
  closesAtMs(side: JoinSide, timestamp: number): number {
    return timestamp + (side === 'left' ? this.afterMs : this.beforeMs) + this.graceMs
  }

  /** Whether the window of a `side` record at `timestamp` is open at `streamTimeMs`. */
  isOpen(side: JoinSide, timestamp: number, streamTimeMs: number): boolean {
    return this.closesAtMs(side, timestamp) >= streamTimeMs
  }

  /** The longest a record's window stays open past its timestamp, ms. */
  get retentionMs(): number {
    return Math.max(this.beforeMs, this.afterMs) + this.graceMs
  }
}
