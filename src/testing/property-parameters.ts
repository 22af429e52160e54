/**
 * fast-check parameters from the environment, so one suite soaks and replays without edits:
 * WEIR_NUM_RUNS sets the number of runs (soak: `WEIR_NUM_RUNS=500 npx vitest run`), and
 * WEIR_SEED with WEIR_PATH replay the failure fast-check reported.
 *
 * @example
 * await fc.assert(property, propertyParameters(6, { examples: [[knownCase]] }))
 * @throws RangeError for a WEIR_NUM_RUNS that is not a positive integer
 */
import type { Parameters } from 'fast-check'

export function propertyParameters<T>(defaultRuns: number, extra: Parameters<T> = {}):
Parameters<T> {
  const runs = process.env.WEIR_NUM_RUNS
  const seed = process.env.WEIR_SEED
  const path = process.env.WEIR_PATH
  const numRuns = runs === undefined || runs === '' ? defaultRuns : Number(runs)
  if (!Number.isSafeInteger(numRuns) || numRuns < 1) {
    throw new RangeError(`WEIR_NUM_RUNS must be a positive integer, got ${runs}`)
  }
  return { ...extra, numRuns,
    ...(seed === undefined || seed === '' ? {} : { seed: Number(seed) }),
    ...(path === undefined || path === '' ? {} : { path }) }
}
