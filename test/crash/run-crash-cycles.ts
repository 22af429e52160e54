/**
 * Soak runner for the SIGKILL crash test (crash-harness.ts):
 *
 *   tsx test/crash/run-crash-cycles.ts --cycles 1000 [--seed N] [--dir D]
 *     [--kill-min-ms 150] [--kill-max-ms 600] [--log-bytes-max 33554432]
 *
 * Prints the seed and a progress line every 10 cycles to stderr, and one JSON summary line to
 * stdout. Exit code 0 when every acknowledged append survived, 1 on any loss, mismatch or other
 * failure found in the log, 2 when the harness itself broke (bad arguments, child would not run).
 * Without --dir it works in a fresh temp directory, removed at the end unless something failed
 * (then it is kept, and named, for inspection).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { systemClock } from '../../src/util/clock.ts'
import { runCrashCycles } from './crash-harness.ts'

const PROGRESS_EVERY_CYCLES = 10

function integerOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const text = values[name]
  if (text === undefined) return fallback
  const value = Number(text)
  if (typeof text !== 'string' || !/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`)
  }
  return value
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: {
    'cycles': { type: 'string' }, 'seed': { type: 'string' }, 'dir': { type: 'string' },
    'kill-min-ms': { type: 'string' }, 'kill-max-ms': { type: 'string' },
    'log-bytes-max': { type: 'string' },
  } })
  const cycles = integerOption(values, 'cycles', 100)
  const seed = integerOption(values, 'seed', systemClock.nowMs() % 2 ** 32)
  const killAfterMsMin = integerOption(values, 'kill-min-ms', 150)
  const killAfterMsMax = integerOption(values, 'kill-max-ms', 600)
  const logBytesMax = integerOption(values, 'log-bytes-max', 32 * 1024 * 1024)
  const dir = values.dir ?? await mkdtemp(join(tmpdir(), 'weir-crash-'))
  process.stderr.write(`crash: seed ${seed}, ${cycles} cycles, kill after `
    + `${killAfterMsMin}-${killAfterMsMax} ms, directory ${dir}\n`)
  const result = await runCrashCycles({
    cycles, dir, seed, killAfterMsMin, killAfterMsMax, logBytesMax,
    onProgress: progress => {
      if (progress.cyclesDone % PROGRESS_EVERY_CYCLES !== 0) return
      process.stderr.write(`crash: ${progress.cyclesDone}/${cycles} cycles `
        + `(log generation ${progress.generation}), `
        + `${progress.acknowledgedRecords} acknowledged records, `
        + `${(progress.elapsedMs / 1000).toFixed(1)} s\n`)
    },
  })
  process.stdout.write(`${JSON.stringify(result)}\n`)
  const ok = result.lost === 0 && result.mismatched === 0 && result.firstFailure === undefined
  if (!ok) {
    process.stderr.write(`crash: FAILED (replay with --seed ${seed}): ${result.firstFailure}\n`
      + `crash: log kept in ${dir}\n`)
    return 1
  }
  if (values.dir === undefined) await rm(dir, { recursive: true, force: true })
  return 0
}

main().then(code => {
  process.exitCode = code
}, (error: unknown) => {
  process.stderr.write(`crash: harness error: ${error instanceof Error ? error.stack : error}\n`)
  process.exitCode = 2
})
