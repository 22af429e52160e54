/**
 * Real-process crash testing of the partition log: run crash-child.ts, SIGKILL it at a seeded
 * random moment, and check that every append it saw acknowledged is still there, byte for byte
 * (by the canonical checksum crash-child.ts defines and prints with each acknowledgement).
 *
 * Each cycle continues the same log directory, so later cycles recover what earlier kills left
 * behind. Only children ever open that directory: the checker recovers a copy, so the next child
 * meets the crashed state itself (torn tail, stale checkpoint) and may be killed mid-recovery.
 * Every check re-reads the whole log, so once the log outgrows `logBytesMax` (after a clean
 * check) the run moves on to a fresh directory, a new generation: a 1000-cycle soak would
 * otherwise grow the log to gigabytes and the check cost with it.
 *
 * Invariants checked after every cycle, over the acknowledgements of all cycles so far (of the
 * generation):
 * - every acknowledged range [base, last] is below the high watermark of the recovered log, and
 *   its records have the acknowledged checksum;
 * - offsets from the log start to the high watermark are contiguous (no retention or compaction
 *   here) and every batch decodes;
 * - each child appended from the log end it recovered, which is at or past everything already
 *   acknowledged, and its acknowledgements are contiguous from there.
 *
 * The kill timer starts when the child prints `start` (just before it opens the log), not at
 * spawn: loading tsx and the modules takes about a second, which would otherwise eat the kill
 * window. Children are spawned one cycle ahead and wait for `go`, so that load overlaps the
 * previous cycle's check. Kills still land during open and recovery; such a cycle acknowledges
 * nothing, and the next child recovers whatever the interrupted recovery left.
 */
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KiB } from '../../src/limits.ts'
import { PartitionLog } from '../../src/log/partition-log.ts'
import { assert } from '../../src/util/assert.ts'
import { systemClock } from '../../src/util/clock.ts'
import { spawnWaitingChild, splitLines, type WaitingChild } from '../helpers/child-process.ts'
import { CRASH_LOG_CONFIG, CrashRandom, checksumRecord } from './crash-child.ts'

/** Bounds on what one child may send before the harness calls it a runaway. */
const LINES_PER_CYCLE_MAX = 1_000_000
const START_TIMEOUT_MS = 30_000
const READ_BYTES_MAX = 1024 * KiB

const CHILD_PATH = fileURLToPath(new URL('./crash-child.ts', import.meta.url))

export interface CrashProgress {
  readonly cyclesDone: number
  readonly generation: number
  readonly acknowledgedRecords: number
  readonly elapsedMs: number
}

export interface CrashCycleOptions {
  readonly cycles: number
  /**
   * Working directory: generation g of the log lives in `<dir>/log-<g>`, the checker's copy in
   * `<dir>/verify-<g>`. Finished generations are deleted once checked clean.
   */
  readonly dir: string
  readonly seed: number
  readonly killAfterMsMin: number
  readonly killAfterMsMax: number
  /** A new log generation starts after a cycle leaves the log at least this large. */
  readonly logBytesMax?: number
  readonly onProgress?: (progress: CrashProgress) => void
}

export interface CrashCycleResult {
  readonly seed: number
  /** Cycles completed (fewer than asked when a failure stopped the run). */
  readonly cycles: number
  /** Log directories used, one after another (see `logBytesMax`). */
  readonly generations: number
  /** Cycles in which the child was killed before its open (and recovery) finished. */
  readonly killedBeforeOpen: number
  readonly acknowledgedBatches: number
  readonly acknowledgedRecords: number
  /** Acknowledged records found intact by the last check of each generation. */
  readonly verifiedRecords: number
  /** Records the last check of each generation read, acknowledged or not. */
  readonly logRecords: number
  /** Acknowledged batches missing (wholly or partly) from the recovered log. */
  readonly lost: number
  /** Acknowledged batches present with a different checksum. */
  readonly mismatched: number
  /** The first thing found wrong, naming the offset; undefined when all is well. */
  readonly firstFailure: string | undefined
  readonly elapsedMs: number
}

/** Acknowledged ranges from all cycles, in offset order, never overlapping. */
class AckLedger {
  readonly bases: number[] = []
  readonly lasts: number[] = []
  readonly checksums: number[] = []
  readonly cycles: number[] = []
  records = 0

  /** Offset after the last acknowledged one. */
  get end(): number {
    return this.lasts.length === 0 ? 0 : this.lasts[this.lasts.length - 1]! + 1
  }

  add(ack: Ack, cycle: number): void {
    assert(ack.base >= this.end, 'acknowledged ranges never overlap')
    assert(ack.last >= ack.base, 'a range holds at least one offset')
    this.bases.push(ack.base)
    this.lasts.push(ack.last)
    this.checksums.push(ack.checksum)
    this.cycles.push(cycle)
    this.records += ack.last - ack.base + 1
  }

  describe(index: number): string {
    return `[${this.bases[index]}, ${this.lasts[index]}] acknowledged in cycle `
      + `${this.cycles[index]}`
  }
}

interface Ack {
  readonly base: number
  readonly last: number
  readonly checksum: number
}

/**
 * One child process. It is spawned with `--wait-for-go` ahead of its cycle, so loading tsx and
 * the modules (about a second) overlaps the previous cycle's check; `run` lets it go and kills it.
 */
class CrashChild {
  private readonly child: WaitingChild
  private readonly lines: string[] = []
  private killed = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private killAfterMs = 0

  constructor(logDirectory: string, seed: number) {
    // A spawn failure rejects `exited`, which `run` (or `dispose`) awaits.
    this.child = spawnWaitingChild(CHILD_PATH, [logDirectory, String(seed)],
      splitLines(line => this.receive(line)))
  }

  private receive(line: string): void {
    if (line === 'start') this.arm(this.killAfterMs)
    if (this.lines.length >= LINES_PER_CYCLE_MAX) this.kill()
    else this.lines.push(line)
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.kill(), delayMs)
  }

  private kill(): void {
    this.killed = true
    this.child.process.kill('SIGKILL')
  }

  /** Lets the child go, SIGKILLs it `killAfterMs` after it says `start`, returns whole lines. */
  async run(killAfterMs: number): Promise<readonly string[]> {
    this.killAfterMs = killAfterMs
    this.arm(START_TIMEOUT_MS)
    this.child.go()
    const exit = await this.child.exited.finally(() => clearTimeout(this.timer))
    // A last line without its newline was cut by the kill: `splitLines` never delivers it.
    if (!this.killed || exit.signal !== 'SIGKILL') {
      throw new Error(`crash child exited on its own (code ${exit.code}, signal ${exit.signal})`
        + ` instead of being killed; stderr:\n${this.child.stderrTail}`)
    }
    const start = this.lines.indexOf('start')
    if (this.lines[0] !== 'ready' || start !== 1) {
      throw new Error(`crash child did not start within ${START_TIMEOUT_MS} ms; `
        + `stderr:\n${this.child.stderrTail}`)
    }
    if (this.lines.length >= LINES_PER_CYCLE_MAX) {
      throw new Error(`crash child sent more than ${LINES_PER_CYCLE_MAX} lines in one cycle`)
    }
    return this.lines.slice(start + 1)
  }

  /** Kills a child that never ran (the run stopped early). */
  async dispose(): Promise<void> {
    const child = this.child.process
    if (child.exitCode === null && child.signalCode === null) this.kill()
    await this.child.exited.catch(() => undefined)
  }
}

interface CycleAcks {
  readonly opened: boolean
  readonly acks: readonly Ack[]
  readonly violation: string | undefined
}

/** Parses a cycle's lines and checks the child appended from the end it recovered. */
function parseCycle(lines: readonly string[], acknowledgedEnd: number, cycle: number): CycleAcks {
  const acks: Ack[] = []
  let openedEnd: number | undefined
  for (const line of lines) {
    const open = /^open (\d+) (\d+)$/.exec(line)
    const ack = /^ack (\d+) (\d+) ([0-9a-f]{1,8})$/.exec(line)
    if (open !== null && openedEnd === undefined && acks.length === 0) {
      openedEnd = Number(open[2])
      if (openedEnd < acknowledgedEnd) {
        return { opened: true, acks: [], violation: `cycle ${cycle}: the child recovered the log `
          + `to end ${openedEnd}, but offsets below ${acknowledgedEnd} were acknowledged: first `
          + `lost offset ${openedEnd}` }
      }
    } else if (ack !== null && openedEnd !== undefined) {
      const next = { base: Number(ack[1]), last: Number(ack[2]), checksum: parseInt(ack[3]!, 16) }
      const expected = acks.length === 0 ? openedEnd : acks[acks.length - 1]!.last + 1
      if (next.base !== expected || next.last < next.base) {
        return { opened: true, acks, violation: `cycle ${cycle}: acknowledged [${next.base}, `
          + `${next.last}] but the next append should have started at offset ${expected}` }
      }
      acks.push(next)
    } else {
      throw new Error(`cycle ${cycle}: unexpected line from the crash child: `
        + JSON.stringify(line))
    }
  }
  return { opened: openedEnd !== undefined, acks, violation: undefined }
}

interface Verification {
  readonly verifiedRecords: number
  readonly logRecords: number
  readonly lost: number
  readonly mismatched: number
  readonly firstFailure: string | undefined
}

/**
 * Keeps the checker's directory an exact copy of the log directory without recopying the whole
 * log every cycle. Only closed segments' `.log` files are ever reused, and only while their size
 * and mtime are unchanged on both sides: neither the child nor the checker's recovery writes them.
 * Everything else (active segment, indexes, checkpoint) is small and recopied every time, because
 * the checker's own recovery rewrites such files, possibly within one coarse mtime tick.
 */
class LogMirror {
  private readonly copied = new Map<string, string>()

  constructor(readonly source: string, readonly target: string) {}

  private static async fingerprint(path: string): Promise<string | undefined> {
    const stats = await stat(path, { bigint: true }).catch(() => undefined)
    return stats === undefined ? undefined : `${stats.size}:${stats.mtimeNs}`
  }

  /** Brings the copy up to date; resolves with the size of the source in bytes. */
  async sync(): Promise<number> {
    await mkdir(this.target, { recursive: true })
    let bytes = 0
    const names = new Set(await readdir(this.source))
    for (const name of await readdir(this.target)) {
      if (names.has(name)) continue
      await rm(join(this.target, name), { force: true })
      this.copied.delete(name)
    }
    const active = [...names].filter(name => name.endsWith('.log')).sort().at(-1)
    for (const name of names) {
      const from = join(this.source, name)
      const to = join(this.target, name)
      bytes += Number((await stat(from)).size)
      const closedSegment = name.endsWith('.log') && name !== active
      if (closedSegment && this.copied.get(name) === await LogMirror.fingerprints(from, to)) {
        continue
      }
      await copyFile(from, to)
      this.copied.set(name, await LogMirror.fingerprints(from, to))
    }
    return bytes
  }

  private static async fingerprints(from: string, to: string): Promise<string> {
    return `${await LogMirror.fingerprint(from)}|${await LogMirror.fingerprint(to)}`
  }

  async remove(): Promise<void> {
    await rm(this.source, { recursive: true, force: true })
    await rm(this.target, { recursive: true, force: true })
  }
}

/** Recovers the (synced) copy and checks every acknowledged range in it (see the file comment). */
async function verifyMirror(mirror: LogMirror, ledger: AckLedger): Promise<Verification> {
  let log: PartitionLog
  try {
    log = await PartitionLog.open({ directory: mirror.target, config: CRASH_LOG_CONFIG })
  } catch (error) {
    const first = ledger.bases.length === 0 ? '' : `; first lost offset ${ledger.bases[0]}`
    return { verifiedRecords: 0, logRecords: 0, lost: ledger.bases.length, mismatched: 0,
      firstFailure: `recovery failed: ${String(error)}${first}` }
  }
  try {
    return await checkRecords(log, ledger)
  } finally {
    await log.close()
  }
}

async function checkRecords(log: PartitionLog, ledger: AckLedger): Promise<Verification> {
  const count = ledger.bases.length
  const highWatermark = log.highWatermark
  let failure: string | undefined
  let index = 0
  let lost = 0
  let mismatched = 0
  let verifiedRecords = 0
  let checksum = 0
  let expected = log.logStartOffset
  while (index < count && ledger.bases[index]! < expected) {
    failure ??= `${ledger.describe(index)} is below the log start ${expected}`
    lost++
    index++
  }
  scan: while (expected < highWatermark) {
    let page: Awaited<ReturnType<PartitionLog['readRecords']>>
    try {
      page = await log.readRecords(expected, { maxBytes: READ_BYTES_MAX })
    } catch (error) {
      failure ??= `reading the batch at offset ${expected} failed: ${String(error)}`
      break
    }
    if (page.records.length === 0) {
      failure ??= `a read from ${expected} returned nothing below the high watermark `
        + `${highWatermark}`
      break
    }
    for (const record of page.records) {
      if (record.offset !== expected) {
        failure ??= `offsets are not contiguous: expected ${expected}, read ${record.offset}`
        break scan
      }
      expected++
      if (index >= count || record.offset < ledger.bases[index]!) continue
      checksum = checksumRecord(checksum, record)
      if (record.offset < ledger.lasts[index]!) continue
      if (checksum === ledger.checksums[index]) {
        verifiedRecords += ledger.lasts[index]! - ledger.bases[index]! + 1
      } else {
        failure ??= `${ledger.describe(index)} has checksum ${checksum.toString(16)}, `
          + `acknowledged as ${ledger.checksums[index]!.toString(16)}`
        mismatched++
      }
      checksum = 0
      index++
    }
    if (page.nextOffset !== expected) {
      failure ??= `a read from ${expected} returned records up to ${page.nextOffset}`
      break
    }
  }
  if (index < count) {
    failure ??= `first lost offset ${Math.max(expected, ledger.bases[index]!)}: `
      + `${ledger.describe(index)}, but the recovered log ends at ${expected} `
      + `(high watermark ${highWatermark})`
    lost += count - index
  }
  return { verifiedRecords, logRecords: expected - log.logStartOffset, lost, mismatched,
    firstFailure: failure }
}

function generationMirror(dir: string, generation: number): LogMirror {
  return new LogMirror(join(dir, `log-${generation}`), join(dir, `verify-${generation}`))
}

/** Totals over the generations already finished. */
interface Finished {
  acknowledgedBatches: number
  acknowledgedRecords: number
  verifiedRecords: number
  logRecords: number
}

function summarize(options: CrashCycleOptions, state: {
  done: number, generation: number, killedBeforeOpen: number, started: number,
  ledger: AckLedger, finished: Finished, verification: Verification,
}): CrashCycleResult {
  const { ledger, finished, verification } = state
  return {
    seed: options.seed, cycles: state.done, generations: state.generation + 1,
    killedBeforeOpen: state.killedBeforeOpen,
    acknowledgedBatches: finished.acknowledgedBatches + ledger.bases.length,
    acknowledgedRecords: finished.acknowledgedRecords + ledger.records,
    verifiedRecords: finished.verifiedRecords + verification.verifiedRecords,
    logRecords: finished.logRecords + verification.logRecords,
    lost: verification.lost, mismatched: verification.mismatched,
    firstFailure: verification.firstFailure, elapsedMs: systemClock.nowMs() - state.started,
  }
}

/**
 * Runs `cycles` spawn → SIGKILL → recover-and-check cycles and returns what was checked. Cycles
 * continue one log directory until it outgrows `logBytesMax` (32 MiB by default), then a fresh
 * generation starts, which bounds the cost of a check (each re-reads the whole log) in a long
 * soak. Stops at the first cycle that finds a failure (see `firstFailure`). Throws when the
 * harness itself cannot work: the child would not start, exited on its own, or spoke nonsense.
 */
export async function runCrashCycles(options: CrashCycleOptions): Promise<CrashCycleResult> {
  const { cycles, dir, killAfterMsMin, killAfterMsMax } = options
  const logBytesMax = options.logBytesMax ?? 32 * 1024 * KiB
  assert(Number.isSafeInteger(cycles) && cycles >= 1, 'at least one cycle')
  assert(killAfterMsMin >= 0, 'kill delay is non-negative')
  assert(killAfterMsMin <= killAfterMsMax, 'kill delay range is ordered')
  const random = new CrashRandom(options.seed)
  const state = { done: 0, generation: 0, killedBeforeOpen: 0, started: systemClock.nowMs(),
    ledger: new AckLedger(), verification: undefined as Verification | undefined,
    finished: { acknowledgedBatches: 0, acknowledgedRecords: 0, verifiedRecords: 0,
      logRecords: 0 } }
  let mirror = generationMirror(dir, 0)
  await mkdir(mirror.source, { recursive: true })
  let next = new CrashChild(mirror.source, random.nextUint32())
  try {
    while (state.done < cycles) {
      const lines = await next.run(random.between(killAfterMsMin, killAfterMsMax))
      const cycle = parseCycle(lines, state.ledger.end, state.done)
      if (!cycle.opened) state.killedBeforeOpen++
      for (const ack of cycle.acks) state.ledger.add(ack, state.done)
      const rotate = await mirror.sync() >= logBytesMax
      // Spawned now so that it loads while this cycle is checked; it waits for `go`.
      const nextSource = rotate ? generationMirror(dir, state.generation + 1).source : mirror.source
      if (state.done + 1 < cycles) next = new CrashChild(nextSource, random.nextUint32())
      const verification = await verifyMirror(mirror, state.ledger)
      state.verification = { ...verification,
        firstFailure: cycle.violation ?? verification.firstFailure }
      state.done++
      options.onProgress?.({ cyclesDone: state.done, generation: state.generation,
        acknowledgedRecords: state.finished.acknowledgedRecords + state.ledger.records,
        elapsedMs: systemClock.nowMs() - state.started })
      if (state.verification.firstFailure !== undefined) break
      if (rotate && state.done < cycles) mirror = await startGeneration(dir, mirror, state)
    }
  } finally {
    await next.dispose()
  }
  const verification = state.verification
  assert(verification !== undefined, 'at least one cycle ran')
  return summarize(options, { ...state, verification })
}

/** Folds a generation that checked clean into the totals, deletes it, starts the next. */
async function startGeneration(dir: string, mirror: LogMirror, state: {
  generation: number, ledger: AckLedger, finished: Finished, verification?: Verification,
}): Promise<LogMirror> {
  const verification = state.verification
  assert(verification !== undefined, 'a generation is finished after its check')
  assert(verification.firstFailure === undefined, 'only a clean generation is finished')
  state.finished.acknowledgedBatches += state.ledger.bases.length
  state.finished.acknowledgedRecords += state.ledger.records
  state.finished.verifiedRecords += verification.verifiedRecords
  state.finished.logRecords += verification.logRecords
  state.ledger = new AckLedger()
  state.verification = undefined
  await mirror.remove()
  state.generation++
  const next = generationMirror(dir, state.generation)
  await mkdir(next.source, { recursive: true })
  return next
}
