/**
 * Fixed-size time windows, Kafka Streams' TimeWindows: a window is [start, start + size) in event
 * time (ms), windows start at multiples of `advance`; `advance === size` makes them tumbling
 * (each record in exactly one window), a smaller `advance` makes them hopping (each record in
 * size/advance overlapping windows, fewer near time 0: no window starts before 0).
 *
 * A window closes `grace` ms after its end in stream time (the task's largest timestamp seen):
 * a record for a window whose end + grace ≤ stream time is late and dropped, as in Kafka
 * (KStreamWindowAggregate: windowEnd > streamTime − grace is still open). A closed window's
 * result is final; the store may forget it once no record can reach it (retention = size +
 * grace behind stream time).
 */
import { WeirError } from '../../errors.ts'

export interface TimeWindow {
  /** Inclusive, ms. */
  readonly start: number
  /** Exclusive, ms. */
  readonly end: number
}

/** A duration option, checked: an integer number of ms ≥ `min`. */
export function checkDuration(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `${name} must be an integer number of `
      + `milliseconds ≥ ${min}, got ${value}.`)
  }
  return value
}

export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  /** Tumbling windows of `sizeMs` with a grace period (Kafka: ofSizeAndGrace). */
  static tumbling(sizeMs: number, options: { graceMs?: number } = {}): TimeWindows {
    checkDuration('The window size', sizeMs, 1)
    return new TimeWindows(sizeMs, sizeMs, checkDuration('graceMs', options.graceMs ?? 0, 0))
  }

  /** Hopping windows of `sizeMs` starting every `advanceMs` (0 < advance ≤ size). */
  static hopping(sizeMs: number, advanceMs: number, options: { graceMs?: number } = {}):
  TimeWindows {
    checkDuration('The window size', sizeMs, 1)
    checkDuration('The advance', advanceMs, 1)
    if (advanceMs > sizeMs) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `The advance (${advanceMs} ms) must not `
        + `exceed the window size (${sizeMs} ms): records between windows would be lost.`)
    }
    return new TimeWindows(sizeMs, advanceMs, checkDuration('graceMs', options.graceMs ?? 0, 0))
  }

  /** The windows a record at `timestamp` belongs to, oldest first. */
  windowsFor(timestamp: number): TimeWindow[] {
    const { sizeMs, advanceMs } = this
    // The oldest window holding it starts after timestamp − size (Kafka's windowsFor).
    const first = Math.floor(Math.max(0, timestamp - sizeMs + advanceMs) / advanceMs) * advanceMs
    const windows: TimeWindow[] = []
    for (let start = first; start <= timestamp; start += advanceMs) {
      windows.push({ start, end: start + sizeMs })
    }
    return windows
  }

  /** Whether a window ending at `end` still takes records at stream time `streamTimeMs`. */
  isOpen(end: number, streamTimeMs: number): boolean {
    return end + this.graceMs > streamTimeMs
  }

  /** How long behind stream time a window must be kept: size + grace (Kafka's default). */
  get retentionMs(): number {
    return this.sizeMs + this.graceMs
  }
}
