/**
 * Goal: the test kit has teeth: a property written only with the public kit (simulate,
 * faultSchedules, exactlyOnce-style numbering check) passes on a correct topology and finds a
 * failing fault schedule for the deliberately broken one (examples/testing/broken-external-
 * counter.ts: numbering kept in a Map outside the transaction), within a bounded number of runs;
 * without faults the broken one passes, as example-based tests would.
 * Method: fc.check with a fixed seed over fault schedules of crashes (with and without state
 * loss); the property: each key's numbers, read_committed, are exactly 1..n. The broken
 * topology must fail within 30 runs; the report names the seed and the shrunk schedule.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
// Only the public entry points, as a user's suite would import them.
import { count, topology, type Topology } from 'weir'
import { faultSchedules, type ScheduledFault, simulate } from 'weir/testing'
import { brokenCounter } from '../../examples/testing/broken-external-counter.ts'

const KEYS = ['a', 'b', 'c']
const inputs = Array.from({ length: 24 }, (_, i) => ({ topic: 'events',
  record: { key: KEYS[i % KEYS.length]!, value: KEYS[i % KEYS.length]! } }))

function correctCounter(): Topology {
  const t = topology('correct-counter')
  t.stream<string>('events').pipe(count({ store: 'numbers' })).to('numbered')
  return t
}

/** Each key's numbers are exactly 1..n, once each, in order. */
async function numberedExactly(build: () => Topology, faults: ScheduledFault[]):
Promise<boolean> {
  const { outputs } = await simulate(build(), { seed: 1, inputs, faults,
    outputs: ['numbered'], partitions: 2 })
  const byKey = new Map<string, unknown[]>()
  for (const record of outputs.numbered!) {
    byKey.set(record.key, [...byKey.get(record.key) ?? [], record.value])
  }
  return KEYS.every(key => JSON.stringify(byKey.get(key))
    === JSON.stringify(Array.from({ length: inputs.length / KEYS.length }, (_, i) => i + 1)))
}

const schedules = faultSchedules({ kinds: ['crash'], maxFaults: 2, inputs: inputs.length })

describe('the kit catches a topology that keeps state outside the transaction', () => {
  it('without faults the broken topology passes (what example tests see)', async () => {
    expect(await numberedExactly(brokenCounter, [])).toBe(true)
  })

  it('property: a correct counter numbers 1..n under any crash schedule', async () => {
    await fc.assert(fc.asyncProperty(schedules,
      async faults => numberedExactly(correctCounter, faults)), { numRuns: 8, seed: 42 })
  })

  it('property: the broken counter fails under some crash schedule, found within 30 runs',
    async () => {
      const report = await fc.check(fc.asyncProperty(schedules,
        async faults => numberedExactly(brokenCounter, faults)), { numRuns: 30, seed: 42 })
      expect(report.failed).toBe(true)
      expect(report.counterexample).not.toBeNull()
      const [shrunk] = report.counterexample!
      expect(shrunk.length).toBeGreaterThan(0)
      // What a user sees: the seed to replay with and the smallest schedule that breaks it.
      console.log(`broken counter caught: seed ${report.seed}, path ${report.counterexamplePath}, `
        + `after ${report.numRuns} runs; schedule ${JSON.stringify(shrunk)}`)
    })
})
