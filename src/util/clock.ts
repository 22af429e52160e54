/**
 * Time comes from an injected `Clock` so tests run in virtual time. `Date.now` and timers are
 * used only here (STYLE.md: clocks, randomness and timers live in util/).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number
}

/** Cancels a timer started by a `Scheduler`. */
export type CancelTimer = () => void

export interface Scheduler {
  /** Runs `task` every `intervalMs` until cancelled; the timer never keeps the process alive. */
  every(intervalMs: number, task: () => void): CancelTimer
  /**
   * Runs `task` once after `delayMs` unless cancelled. Unlike `every`, it keeps the process alive
   * meanwhile: someone awaits it (a linger, a backoff, a long poll) and would otherwise be dropped.
   */
  after(delayMs: number, task: () => void): CancelTimer
}

/** Resolves after `delayMs` on `scheduler` (a backoff or a pause between polls). */
export function sleep(scheduler: Scheduler, delayMs: number): Promise<void> {
  return new Promise(resolve => {
    scheduler.after(delayMs, resolve)
  })
}

export const systemClock: Clock = { nowMs: () => Date.now() }

export const systemScheduler: Scheduler = {
  every(intervalMs, task) {
    const timer = setInterval(task, intervalMs)
    timer.unref()
    return () => clearInterval(timer)
  },
  after(delayMs, task) {
    const timer = setTimeout(task, delayMs)
    return () => clearTimeout(timer)
  },
}

/** A clock that moves only when told to, for tests and simulations. */
export class ManualClock implements Clock {
  constructor(private now = 0) {}

  nowMs(): number {
    return this.now
  }

  advance(ms: number): void {
    this.now += ms
  }
}
