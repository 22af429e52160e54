/**
 * Goal: exactly-once copy-consume-produce survives crashes (Kafka's transactions system test).
 * A copier that reads an input topic read_committed and writes each record to an output topic in
 * transactions carrying its consumed offsets must, however often it is SIGKILLed or stopped and
 * restarted, leave every input record in the output exactly once, per partition in input order,
 * with the group's committed offsets at the input's end.
 *
 * Method: N numbered records are written to a 3-partition input topic (test/helpers/copier.ts).
 * test/txn/copier-process.ts runs as a child process with Weir embedded, so a SIGKILL is a crash
 * of the client and the broker at once, landing anywhere: in recovery, in initTransactions
 * (which must abort what the previous copier left open), in the group join, mid-transaction,
 * between PrepareCommit and the markers. A seeded plan kills it at chosen points (after it reports
 * at least k records copied, plus 0–40 ms, or within 1.25 × the last start-up time after it
 * starts opening) and stops some
 * runs with SIGTERM (a graceful stop: the transaction in hand commits). Restarts continue the
 * same directory until a copier finishes on its own. Then the parent opens the directory and
 * reads the output with a read_committed consumer from the beginning. Also checked along the way:
 * every restart finds at least the progress the last child reported as committed.
 *
 * `npm run test:crash` runs it with WEIR_COPIER_RECORDS=50000 (and more kills); replay a failure
 * with WEIR_COPIER_SEED=<seed> (and the same WEIR_COPIER_RECORDS / _KILLS / _TERMS).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import { CrashRandom } from '../crash/crash-child.ts'
import {
  CopierChild, type CopierEvent, copyProblems, fillCopierInput, readCopierOutput,
} from '../helpers/copier.ts'

function envInt(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name}: ${text}`)
  return value
}

const records = envInt('WEIR_COPIER_RECORDS', 2000)
const seed = envInt('WEIR_COPIER_SEED', 20261124)
const kills = envInt('WEIR_COPIER_KILLS', Math.max(6, Math.round(records / 2500)))
const terms = envInt('WEIR_COPIER_TERMS', Math.max(2, Math.round(kills / 5)))
/** Small transactions and fetches, so that a run has many transactions to be killed in. */
const COPIER_OPTIONS = ['--txn-records-max', '30', '--max-bytes-per-partition', '1024',
  '--commit-interval-ms', '100']
/** Runs without an interruption before the test calls the copier stuck. */
const UNINTERRUPTED_RUNS_MAX = 2
const CYCLE_TIMEOUT_MS = 30_000 + records * 2
/** Start-up kills land within this multiple of the last measured start-up (start → open). */
const STARTUP_SPAN = 1.25
/** The start-up time assumed before one has been measured. */
const STARTUP_MS_GUESS = 150
const COPYING_DELAY_MS_MAX = 40

interface Interruption {
  readonly signal: 'SIGKILL' | 'SIGTERM'
  /**
   * Fires a fraction of the last start-up time (start → open) after `start` (in recovery and
   * set-up), or a delay after a progress line reports `copied` at or past a count.
   */
  readonly trigger: { readonly startupFraction: number }
    | { readonly afterCopied: number, readonly delayMs: number }
}

/** Kills (a quarter of them during start-up) and SIGTERMs, in the order they will be used. */
function planInterruptions(random: CrashRandom): Interruption[] {
  const copying: Array<Interruption & { trigger: { afterCopied: number } }> = []
  const startup: Interruption[] = []
  for (let i = 0; i < kills + terms; i++) {
    const signal = i < kills ? 'SIGKILL' : 'SIGTERM'
    if (signal === 'SIGKILL' && random.below(4) === 0) {
      startup.push({ signal, trigger: { startupFraction: random.below(1000) / 1000
        * STARTUP_SPAN } })
    } else {
      copying.push({ signal, trigger: { afterCopied: random.below(records),
        delayMs: random.below(COPYING_DELAY_MS_MAX) } })
    }
  }
  const plan: Interruption[] = copying.sort((a, b) => a.trigger.afterCopied
    - b.trigger.afterCopied)
  for (const interruption of startup) plan.splice(random.below(plan.length + 1), 0, interruption)
  return plan
}

interface Cycle {
  readonly exit: { code: number | null, signal: NodeJS.Signals | null }
  readonly sent: { signal: 'SIGKILL' | 'SIGTERM', copied: number } | undefined
  readonly timedOut: boolean
  readonly events: readonly CopierEvent[]
  /** From `start` to `open`, when the child got that far. */
  readonly startupMs: number | undefined
}

const copiedOf = (events: readonly CopierEvent[]): number =>
  events.reduce((most, event) => Math.max(most, event.copied ?? 0), 0)

/** Lets `child` go, interrupts it as planned, and waits for it to exit. */
async function runCycle(child: CopierChild, interruption: Interruption | undefined,
  startupMs: number): Promise<Cycle> {
  let sent: Cycle['sent']
  let startedAt: number | undefined
  let openedAt: number | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let timedOut = false
  const fire = (delayMs: number): void => {
    if (interruption === undefined || timer !== undefined) return
    timer = setTimeout(() => {
      const copied = copiedOf(child.events)
      if (child.signal(interruption.signal)) sent = { signal: interruption.signal, copied }
    }, delayMs)
  }
  child.onEvent(event => {
    if (event.event === 'start') startedAt = performance.now()
    if (event.event === 'open') openedAt = performance.now()
    const trigger = interruption?.trigger
    if (trigger === undefined) return
    if ('startupFraction' in trigger) {
      if (event.event === 'start') fire(Math.round(trigger.startupFraction * startupMs))
    } else if ((event.event === 'open' || event.event === 'commit')
      && (event.copied ?? 0) >= trigger.afterCopied) {
      fire(trigger.delayMs)
    }
  })
  const watchdog = setTimeout(() => {
    timedOut = true
    child.signal('SIGKILL')
  }, CYCLE_TIMEOUT_MS)
  child.go()
  const exit = await child.exited.finally(() => {
    clearTimeout(timer)
    clearTimeout(watchdog)
  })
  const measured = startedAt !== undefined && openedAt !== undefined ? openedAt - startedAt
    : undefined
  return { exit, sent, timedOut, events: [...child.events], startupMs: measured }
}

/** Why a cycle's end is wrong, or undefined when it ended as it may. */
function cycleFailure(cycle: Cycle, child: CopierChild): string | undefined {
  const last = cycle.events.at(-1)?.event
  const tail = `; last events ${JSON.stringify(cycle.events.slice(-3))}; stderr:\n`
    + child.stderrTail
  if (cycle.timedOut) return `copier made no progress for ${CYCLE_TIMEOUT_MS} ms${tail}`
  if (child.protocolError !== undefined) return child.protocolError + tail
  if (cycle.exit.signal === 'SIGKILL' && cycle.sent?.signal === 'SIGKILL') return undefined
  if (cycle.exit.code === 0 && (last === 'done'
    || (last === 'stopped' && cycle.sent?.signal === 'SIGTERM'))) return undefined
  return `copier exited with code ${cycle.exit.code}, signal ${cycle.exit.signal}${tail}`
}

/** One line per cycle for assertion messages. */
function describeCycle(index: number, cycle: Cycle, plan: Interruption | undefined): string {
  const open = cycle.events.find(event => event.event === 'open')
  const commits = cycle.events.filter(event => event.event === 'commit').length
  const planned = plan === undefined ? 'run to the end'
    : `${plan.signal} ${JSON.stringify(plan.trigger)}`
  const where = open === undefined ? 'before open' : `at copied ${cycle.sent?.copied}`
  const outcome = cycle.sent === undefined ? `exit ${cycle.exit.code ?? cycle.exit.signal}`
    : `${cycle.sent.signal} ${where}`
  return `#${index} ${planned}: opened at ${open?.copied ?? '-'}, ${commits} commits, `
    + `${outcome}, last ${cycle.events.at(-1)?.event ?? '-'}`
}

let directory: string | undefined

afterEach(async () => {
  await CopierChild.disposeAll()
  if (directory !== undefined) await rm(directory, { recursive: true, force: true })
  directory = undefined
})

interface CopierRun {
  readonly log: string[]
  readonly aborts: CopierEvent[]
  killedWhileCopying: number
}

/** Runs copiers on `dir` through the plan until one finishes; fails on any bad cycle. */
async function runCopiers(dir: string, plan: readonly Interruption[]): Promise<CopierRun> {
  const run: CopierRun = { log: [], aborts: [], killedWhileCopying: 0 }
  let durable = 0 // progress some child reported committed: every restart must find at least it
  let startupMs = STARTUP_MS_GUESS
  let next = new CopierChild(dir, COPIER_OPTIONS)
  try {
    for (let index = 0; ; index++) {
      expect(index, `copier did not finish:\n${run.log.join('\n')}`)
        .toBeLessThan(plan.length + UNINTERRUPTED_RUNS_MAX)
      const child = next
      next = new CopierChild(dir, COPIER_OPTIONS) // loads while this one runs
      const cycle = await runCycle(child, plan[index], startupMs)
      startupMs = cycle.startupMs ?? startupMs
      run.log.push(describeCycle(index, cycle, plan[index]))
      const context = `seed ${seed}, ${records} records:\n${run.log.join('\n')}\n`
      expect(cycleFailure(cycle, child), context).toBeUndefined()
      const opened = cycle.events.find(event => event.event === 'open')
      if (opened !== undefined) {
        expect(opened.copied, `${context}a restart lost committed progress`)
          .toBeGreaterThanOrEqual(durable)
      }
      durable = Math.max(durable, copiedOf(cycle.events.filter(e => e.event !== 'abort')))
      run.aborts.push(...cycle.events.filter(event => event.event === 'abort'))
      if (cycle.sent?.signal === 'SIGKILL' && opened !== undefined) run.killedWhileCopying++
      if (cycle.events.at(-1)?.event === 'done') return run
    }
  } finally {
    await next.dispose()
  }
}

test(`transactional copy of ${records} records survives ${kills} SIGKILLs and ${terms} SIGTERMs `
  + 'exactly once and in order', async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-copier-'))
  const setup = await Weir.open({ dir: directory })
  await fillCopierInput(setup, records)
  await setup.close()

  const plan = planInterruptions(new CrashRandom(seed))
  const run = await runCopiers(directory, plan)

  const weir = await Weir.open({ dir: directory })
  const output = await readCopierOutput(weir).finally(() => weir.close())
  const summary = `seed ${seed}, ${records} records, output ${JSON.stringify({
    lastStableOffsets: output.lastStableOffsets, highWatermarks: output.highWatermarks,
    inputEnds: output.inputEnds, committed: output.committed })}\n${run.log.join('\n')}`
  expect(copyProblems(records, output.read, output.keyMismatches), summary).toEqual([])
  expect(output.inputEnds.reduce((a, b) => a + b, 0), summary).toBe(records)
  expect(output.committed, `${summary}\ngroup offsets ≠ input end offsets`)
    .toEqual(output.inputEnds)
  expect(output.lastStableOffsets, `${summary}\na transaction was left open`)
    .toEqual(output.highWatermarks)
  expect(run.aborts, `${summary}\na single copier had to abort transactions`).toEqual([])
  expect(run.killedWhileCopying, `${summary}\nno kill landed after recovery`)
    .toBeGreaterThan(0)
  if (process.env.WEIR_COPIER_RECORDS !== undefined) process.stderr.write(`${summary}\n`)
}, Math.max(120_000, 60_000 + records * 3))
