import fc from 'fast-check'

/**
 * One place that sets how many runs a property gets (STYLE.md: `numRuns` is set centrally with an
 * env override for soak). `WEIR_NUM_RUNS=2000 npx vitest run` soaks every property that uses it;
 * without it each property keeps the default its file chose for the time it can afford.
 */
export function numRuns(defaultRuns = 50): number {
  const override = process.env.WEIR_NUM_RUNS
  if (override === undefined || override === '') return defaultRuns
  const runs = Number(override)
  if (!Number.isSafeInteger(runs) || runs < 1) {
    throw new RangeError(`WEIR_NUM_RUNS must be a positive integer, got ${override}`)
  }
  return runs
}

/**
 * A fraction in [0, 1], spread evenly. Not `fc.double({ min: 0, max: 1 })`: fast-check draws
 * doubles evenly over their bit patterns, so over 90 % of those fall below 0.001 — cut points
 * and positions drawn that way almost never land inside the input.
 */
export const fraction: fc.Arbitrary<number> = fc.integer({ min: 0, max: 10_000 })
  .map(n => n / 10_000)
