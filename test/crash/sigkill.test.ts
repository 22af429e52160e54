/**
 * Goal: show that an append acknowledged under `flush: 'always'` survives the writing process
 * being killed with SIGKILL at any moment: during appends with group commit in flight, during a
 * segment roll or checkpoint write, or during the open and recovery that follow an earlier kill.
 *
 * Method: crash-harness.ts runs a real child process (crash-child.ts) that appends seeded random
 * batches and prints an `ack` line with each batch's checksum only once its append resolved. The
 * harness SIGKILLs it after a seeded random delay, recovers a copy of the log and reads it all
 * back, checking that every range acknowledged in any cycle so far is present with the same
 * checksum and that offsets are contiguous. Several cycles continue one directory. The run must
 * acknowledge records, so it cannot pass by checking nothing. Replay a failure with its seed:
 * `WEIR_CRASH_SEED=<seed> npx vitest run test/crash`, or soak with `npm run test:crash`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { runCrashCycles } from './crash-harness.ts'

const seed = Number(process.env.WEIR_CRASH_SEED ?? 20240611)
const cycles = Number(process.env.WEIR_CRASH_CYCLES ?? 5)
let directory: string | undefined

afterEach(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true })
  directory = undefined
})

test('acknowledged appends survive SIGKILL of the writing process', async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-sigkill-'))
  const result = await runCrashCycles({
    cycles, dir: directory, seed, killAfterMsMin: 150, killAfterMsMax: 600,
  })
  const summary = `seed ${seed}: ${JSON.stringify(result)}`
  expect(result.firstFailure, summary).toBeUndefined()
  expect(result.lost, summary).toBe(0)
  expect(result.mismatched, summary).toBe(0)
  expect(result.cycles, summary).toBe(cycles)
  expect(result.acknowledgedRecords, summary).toBeGreaterThan(0)
  expect(result.verifiedRecords, summary).toBe(result.acknowledgedRecords)
}, 60_000)
