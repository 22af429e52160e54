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
