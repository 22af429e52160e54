/**
 * Streams benchmark: a stateful count-by-key topology under exactly-once and under at-least-once
 * in the same run (the issue's target: exactly-once costs under 10 % of throughput), and the
 * restore of a store from a large changelog (target: ≥ 300,000 records/s).
 *
 *   count      `t.stream(input, { serde: bytes() }).pipe(tap(n++), count({ store: 'counts' }))`
 *              `.to(<appId>-out)` (`--no-sink` leaves the `to` out) over `records` 100-byte
 *              records with `keys` keys, the input filled once (untimed) and read by one app per
 *              run (a fresh appId, stateDir and output topic each time). Timed from `start()`
 *              until `caughtUp()` resolves, called once the tap has seen the last record (called
 *              earlier, its forced commits would override the commit interval). Modes:
 *              exactly-once and at-least-once with the same `commit-interval-ms` (the ratio is
 *              the cost of transactions), and at-least-once with its default interval (30 s).
 *   windowed-exactly-once
 *              the same under exactly-once with `windowedCount` in 1-minute tumbling windows
 *              instead of `count` (issue 7): input event times 0.6 ms apart, so 1,000,000
 *              records with 10,000 keys make 100,000 windows of 10 records. Closed windows
 *              are swept from the store as stream time passes (retention size + grace).
 *   join-exactly-once
 *              the same input under exactly-once through `leftJoin` with a table of `keys` keys
 *              (topic `join-table`, filled once) and on to the output (issue 7): every record
 *              looks its key up; the table is read into its store inside the timed run, as a
 *              fresh app must. A left join, so the output has one record per input record even
 *              for records read before their key's table entry.
 *   restore    a changelog of `restore-entries` distinct keys (100-byte values) is produced
 *              straight into `<appId>-table-changelog` in transactions of 10,000 records
 *              (untimed); then a table app starts on an empty stateDir and restores it, timed
 *              from `start()` to the last restore progress report. The same app over a
 *              changelog of one entry per partition gives the fixed cost of a restart.
 *
 * Rounds alternate the mode order; medians are reported. Progress goes to stderr; the last stdout
 * line is one JSON object (see README.md).
 *
 *   npm run bench:streams -- [--records N] [--keys N] [--partitions N] [--rounds N]
 *     [--commit-interval-ms N] [--restore-entries N] [--restore-rounds N] [--no-sink]
 *     [--only exactly-once,at-least-once,at-least-once-default,windowed-exactly-once,
 *       join-exactly-once,restore]
 *     [--dir PATH]
 */
import {
  benchLogger, collectGarbage, machineFields, median, openBenchDirectory, readFlags, round,
} from './bench-common.ts'
import { randomBytes } from 'node:crypto'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { tap } from 'rxjs'
import {
  bytes, count, type Message, type StreamsApp, TimeWindows, topology, Weir, windowedCount,
} from '../src/index.ts'

type Mode = 'exactly-once' | 'at-least-once' | 'at-least-once-default' | 'windowed-exactly-once'
  | 'join-exactly-once'
type Phase = Mode | 'restore'

const MODES: readonly Mode[] = ['exactly-once', 'at-least-once', 'at-least-once-default',
  'windowed-exactly-once', 'join-exactly-once']
/** The table of the stream–table join: one 100-byte value per key. */
const JOIN_TABLE = 'join-table'
const PHASES: readonly Phase[] = [...MODES, 'restore']
const INPUT = 'count-input'
const WARMUP_INPUT = 'count-warmup'
const TABLE_INPUT = 'table-input'
const RESTORE_APP = 'restore-app'
/** The same app over a changelog of one entry per partition: the fixed cost of a restart. */
const RESTORE_STARTUP_APP = 'restore-startup'
const RESTORE_STORE = 'table'
const VALUE_BYTES = 100
const FILL_SEND_RECORDS = 1000
const FILL_SENDS_IN_FLIGHT = 16
const CHANGELOG_TXN_RECORDS = 10_000
const MiB = 1024 * 1024
/** A run that makes no progress for this long has hung: the bench fails rather than waits. */
const STALL_MS_MAX = 120_000
const PROGRESS_LOG_MS = 2000
/** How long the check waits for the store to show every count after caughtUp(). */
const STORE_LAG_MS_MAX = 10_000

interface Args {
  dir: string | undefined
  records: number
  keys: number
  partitions: number
  rounds: number
  commitIntervalMs: number
  restoreEntries: number
  restoreRounds: number | undefined
  sink: boolean
  only: Set<Phase>
}

function parseArgs(argv: readonly string[]): Args {
  const rounds = Number(process.env.WEIR_BENCH_ROUNDS ?? 3)
  const args: Args = { dir: undefined, records: 1_000_000, keys: 10_000, partitions: 4, rounds,
    commitIntervalMs: 100, restoreEntries: 1_000_000, restoreRounds: undefined, sink: true,
    only: new Set(PHASES) }
  readFlags(argv, ({ flag, value, int }) => {
    switch (flag) {
    case '--dir': args.dir = value(); break
    case '--records': args.records = int(); break
    case '--keys': args.keys = int(); break
    case '--partitions': args.partitions = int(); break
    case '--rounds': args.rounds = int(); break
    case '--commit-interval-ms': args.commitIntervalMs = int(); break
    case '--restore-entries': args.restoreEntries = int(); break
    case '--restore-rounds': args.restoreRounds = int(); break
    case '--no-sink': args.sink = false; break
    case '--only': {
      const phases = value().split(',')
      const unknown = phases.filter(phase => !PHASES.includes(phase as Phase))
      if (unknown.length > 0) throw new Error(`--only: unknown phase ${unknown.join(', ')}`)
      args.only = new Set(phases as Phase[])
      break
    }
    default: throw new Error(`unknown argument ${flag}`)
    }
  })
  return args
}

const parsed = parseArgs(process.argv.slice(2))
/** Restore rounds follow --rounds unless --restore-rounds says otherwise. */
const args = { ...parsed, restoreRounds: parsed.restoreRounds ?? parsed.rounds }
const log = benchLogger('streams-bench')
const format = (n: number): string => Math.round(n).toLocaleString('en-US')
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const scratch = await openBenchDirectory('streams-bench', args.dir)

/** Random 100-byte values, one pool for the run; records are views into it. */
const valuePool = randomBytes(Math.max(args.records, args.restoreEntries) * VALUE_BYTES)
const valueAt = (i: number): Buffer => valuePool.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES)

/** Produces `records` messages, 16 sends of 1000 in flight (untimed set-up). */
async function fill(weir: Weir, topic: string, records: number, messageAt: (i: number) => Message):
Promise<void> {
  const producer = weir.producer({ batchBytes: MiB })
  const sends = Math.ceil(records / FILL_SEND_RECORDS)
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < sends) {
      const index = next++
      const messages: Message[] = []
      const end = Math.min(records, (index + 1) * FILL_SEND_RECORDS)
      for (let i = index * FILL_SEND_RECORDS; i < end; i++) messages.push(messageAt(i))
      await producer.send({ topic, messages })
    }
  }
  await Promise.all(Array.from({ length: FILL_SENDS_IN_FLIGHT }, loop))
  await producer.close()
}

/** 1-minute tumbling windows of the windowed count (issue 7's bench). */
const WINDOW_MS = 60_000
/** Event time of input record i: 0.6 ms apart, so 1,000,000 records span 10 windows. */
const timestampAt = (i: number): number => 1_700_000_000_000 + Math.floor(i * 0.6)

/**
 * Keyed input: key `k<i mod keys>` (so every key gets the same count), a 100-byte value, and an
 * event time that only moves forward (no record is late for the windowed count).
 */
const inputMessage = (i: number): Message => ({ key: `k${i % args.keys}`, value: valueAt(i),
  timestamp: timestampAt(i) })

/** The windowed count of the first `records` records: `<key>@<window start>` → count. */
function windowedCounts(records: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i < records; i++) {
    const id = `k${i % args.keys}@${Math.floor(timestampAt(i) / WINDOW_MS) * WINDOW_MS}`
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

/**
 * Whether the windowed store is right: every window it holds has the expected count (closed
 * windows may already be swept: retention is size + grace), and every window of the last
 * minute, still open, is there.
 */
async function windowedStoreRight(app: StreamsApp, records: number): Promise<boolean> {
  const expected = windowedCounts(records)
  const lastStart = Math.floor(timestampAt(records - 1) / WINDOW_MS) * WINDOW_MS
  const stored = await app.query<number, { key: string, start: number }>('counts').all()
  const held = new Set<string>()
  for (const { key: { key, start }, value } of stored) {
    const id = `${key}@${start}`
    if (expected.get(id) !== value) return false
    held.add(id)
  }
  return [...expected.keys()].every(id => !id.endsWith(`@${lastStart}`) || held.has(id))
}

async function recordsIn(weir: Weir, topic: string): Promise<number> {
  const [description] = await weir.admin().describeTopics([topic])
  return description!.partitionStates.reduce((sum, state) => sum + state.highWatermark, 0)
}

interface CountRun {
  readonly seconds: number
  /** start() until the first record reached the topology (group join, task open). */
  readonly startupMs: number
  /** The last record processed until caughtUp() resolved (the final commit). */
  readonly tailMs: number
  /** CPU time of the whole process (all threads) in the timed window. */
  readonly cpuSecondsUsed: number
  /** How long after caughtUp() the store showed every count (0: at once). */
  readonly storeLagMs: number
  /** Records the app wrote to its changelog (data and commit markers). */
  readonly changelogOffsets: number
}

/** Waits until `done()` holds, failing on the app's error or a stall; logs progress. */
async function waitFor(done: () => boolean, progress: () => number, failure: () => unknown,
  label: string): Promise<void> {
  let lastProgress = progress()
  let lastProgressAt = performance.now()
  let lastLogAt = lastProgressAt
  while (!done()) {
    await sleep(5)
    if (failure() !== undefined) throw failure()
    const now = performance.now()
    if (progress() !== lastProgress) {
      lastProgress = progress()
      lastProgressAt = now
    } else if (now - lastProgressAt > STALL_MS_MAX) {
      throw new Error(`${label}: no progress for ${STALL_MS_MAX} ms at ${lastProgress}`)
    }
    if (now - lastLogAt >= PROGRESS_LOG_MS) {
      lastLogAt = now
      log(`  ${label}: ${format(lastProgress)}`)
    }
  }
}

/**
 * One count run over `input` (`records` records) under `mode` with app `appId`, in a fresh
 * stateDir; checks every key's count afterwards, then deletes the app's topics.
 */
async function countRun(weir: Weir, mode: Mode, input: string, records: number, appId: string):
Promise<CountRun> {
  const output = `${appId}-out`
  if (args.sink) await weir.admin().createTopics([{ topic: output, partitions: args.partitions }])
  let processed = 0
  let firstAt = 0
  const t = topology(appId)
  const source = t.stream<Buffer>(input, { serde: bytes() }).pipe(tap(() => {
    if (processed++ === 0) firstAt = performance.now()
  }))
  if (mode === 'join-exactly-once') {
    const joined = source.leftJoin(t.table<Buffer>(JOIN_TABLE, { serde: bytes() }),
      (value, entry) => entry ?? value)
    if (args.sink) joined.to(output, { serde: bytes() })
  } else {
    const counted = mode === 'windowed-exactly-once'
      ? source.pipe(windowedCount(TimeWindows.tumbling(WINDOW_MS), { store: 'counts' }))
      : source.pipe(count({ store: 'counts' }))
    if (args.sink) counted.to(output)
  }
  const result = await scratch.inFreshDir(appId, async stateDir => {
    collectGarbage()
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    const app = await t.start({ weir, stateDir,
      processing: mode.endsWith('exactly-once') ? 'exactly-once' : 'at-least-once',
      ...(mode === 'at-least-once-default' ? {} : { commitIntervalMs: args.commitIntervalMs }) })
    let failure: unknown
    app.done.catch((error: unknown) => {
      failure = error
    })
    try {
      await waitFor(() => processed >= records, () => processed, () => failure,
        `${mode} processed`)
      const processedAt = performance.now()
      await app.caughtUp({ timeoutMs: STALL_MS_MAX, pollMs: 5 })
      const ended = performance.now()
      const cpu = process.cpuUsage(cpuBefore)
      if (processed !== records) log(`  note: ${processed} records processed for ${records}`)
      const storeLagMs = mode === 'join-exactly-once' ? 0 : await checkCounts(app, records, mode)
      return { seconds: (ended - started) / 1000, startupMs: firstAt - started,
        tailMs: ended - processedAt, storeLagMs,
        cpuSecondsUsed: (cpu.user + cpu.system) / 1e6 }
    } finally {
      await app.close()
    }
  })
  const changelog = `${appId}-${mode === 'join-exactly-once' ? JOIN_TABLE : 'counts'}-changelog`
  const changelogOffsets = await recordsIn(weir, changelog)
  if (args.sink) {
    const outputs = await recordsIn(weir, output)
    if (mode.endsWith('exactly-once') ? outputs < records : outputs !== records) {
      throw new Error(`${mode}: ${outputs} output offsets for ${records} records`)
    }
  }
  await weir.admin().deleteTopics(args.sink ? [output, changelog] : [changelog])
  return { ...result, changelogOffsets }
}

/**
 * Checks every key's count in the app's committed store; returns how long after caughtUp() the
 * store took to show them all (0 when it did at once; see README: under exactly-once caughtUp()
 * can resolve before the last commit's store writes are applied).
 */
async function checkCounts(app: StreamsApp, records: number, mode: Mode): Promise<number> {
  const keys = Math.min(args.keys, records)
  const started = performance.now()
  for (let attempt = 0; ; attempt++) {
    const counts = await app.query<number>('counts').all()
    const total = counts.reduce((sum, entry) => sum + entry.value, 0)
    const right = mode === 'windowed-exactly-once' ? await windowedStoreRight(app, records)
      : counts.length === keys && total === records
    if (right) return attempt === 0 ? 0 : performance.now() - started
    if (performance.now() - started > STORE_LAG_MS_MAX) {
      throw new Error(`${mode}: ${counts.length} keys counting ${total} do not match the input `
        + `(${mode === 'windowed-exactly-once' ? 'per window' : `${keys} keys`})`)
    }
    log(`  note: ${mode}: right after caughtUp() the store holds ${counts.length} keys counting `
      + `${total}; checking again`)
    await sleep(10)
  }
}

/** The count phases: the input filled once, `rounds` runs per mode, order alternating. */
async function countPhases(modes: readonly Mode[]): Promise<Map<Mode, CountRun[]>> {
  const runs = new Map<Mode, CountRun[]>(modes.map(mode => [mode, []]))
  await scratch.inFreshDir('count', async dir => {
    const weir = await Weir.open({ dir: path.join(dir, 'data') })
    try {
      const warmup = Math.max(args.keys, Math.floor(args.records / 10))
      await weir.admin().createTopics([{ topic: INPUT, partitions: args.partitions },
        { topic: WARMUP_INPUT, partitions: args.partitions }])
      log(`filling ${INPUT} with ${format(args.records)} records (untimed)`)
      await fill(weir, INPUT, args.records, inputMessage)
      await fill(weir, WARMUP_INPUT, warmup, inputMessage)
      if (modes.includes('join-exactly-once')) {
        await weir.admin().createTopics([{ topic: JOIN_TABLE, partitions: args.partitions,
          config: { cleanupPolicy: 'compact' } }])
        await fill(weir, JOIN_TABLE, args.keys, i => ({ key: `k${i}`, value: valueAt(i) }))
      }
      log(`warm-up (untimed, ${format(warmup)} records, each mode)`)
      for (const mode of modes) await countRun(weir, mode, WARMUP_INPUT, warmup, `warmup-${mode}`)
      for (let round = 1; round <= args.rounds; round++) {
        const order = round % 2 === 1 ? modes : [...modes].reverse()
        for (const mode of order) {
          const run = await countRun(weir, mode, INPUT, args.records, `count-${mode}-${round}`)
          runs.get(mode)!.push(run)
          log(`round ${round}: ${mode}: ${format(args.records)} records in `
            + `${run.seconds.toFixed(3)} s = ${format(args.records / run.seconds)} records/s `
            + `(startup ${run.startupMs.toFixed(0)} ms, final commit ${run.tailMs.toFixed(0)} `
            + `ms, ${format(run.changelogOffsets)} changelog offsets, `
            + `${(run.cpuSecondsUsed * 1e6 / args.records).toFixed(1)} µs CPU per record)`)
        }
      }
    } finally {
      await weir.close()
    }
  })
  return runs
}

interface RestoreRun {
  readonly seconds: number
  /** start() until the first restore progress report (join, store open, first fetch). */
  readonly firstProgressMs: number
  /** CPU time of the whole process (all threads) until the last progress report. */
  readonly cpuSecondsUsed: number
}

/** Produces the changelog straight into the store's topic, in transactions (untimed). */
async function fillChangelog(weir: Weir, topic: string, entries: number): Promise<void> {
  const producer = weir.producer({ batchBytes: MiB, transactionalId: 'bench-changelog' })
  await producer.initTransactions()
  for (let from = 0; from < entries; from += CHANGELOG_TXN_RECORDS) {
    producer.beginTransaction()
    const sends: Array<Promise<unknown>> = []
    const end = Math.min(entries, from + CHANGELOG_TXN_RECORDS)
    for (let start = from; start < end; start += FILL_SEND_RECORDS) {
      const messages: Message[] = []
      for (let i = start; i < Math.min(end, start + FILL_SEND_RECORDS); i++) {
        messages.push({ key: `key-${i}`, value: valueAt(i), partition: i % args.partitions })
      }
      sends.push(producer.send({ topic, messages }))
    }
    await Promise.all(sends)
    await producer.commitTransaction()
  }
  await producer.close()
}

/** One restore of the changelog into an empty stateDir (the state directory lost). */
async function restoreRun(weir: Weir, appId: string, entries: number): Promise<RestoreRun> {
  const t = topology(appId)
  t.table<Buffer>(TABLE_INPUT, { store: RESTORE_STORE, serde: bytes() })
  return scratch.inFreshDir('restore-state', async stateDir => {
    const restored = new Map<string, { records: number, done: boolean }>()
    let firstAt = 0
    let lastAt = 0
    collectGarbage()
    const cpuBefore = process.cpuUsage()
    let cpuAtLast = cpuBefore
    const started = performance.now()
    const app = await t.start({ weir, stateDir, onRestore: progress => {
      lastAt = performance.now()
      cpuAtLast = process.cpuUsage(cpuBefore)
      if (firstAt === 0) firstAt = lastAt
      restored.set(progress.taskId, { records: progress.records,
        done: progress.position >= progress.endOffset })
    } })
    let failure: unknown
    app.done.catch((error: unknown) => {
      failure = error
    })
    const total = (): number => [...restored.values()].reduce((sum, task) => sum + task.records, 0)
    try {
      await waitFor(() => restored.size === args.partitions
        && [...restored.values()].every(task => task.done), total, () => failure, 'restored')
      if (total() !== entries) throw new Error(`restored ${total()} records, expected ${entries}`)
      await app.caughtUp({ timeoutMs: STALL_MS_MAX, pollMs: 5 })
      const table = app.query<Buffer>(RESTORE_STORE)
      for (const i of [0, entries >> 1, entries - 1]) {
        const value = await table.get(`key-${i}`)
        if (value === undefined || !valueAt(i).equals(value)) {
          throw new Error(`key-${i} restored wrong: ${value?.toString('hex')}`)
        }
      }
      return { seconds: (lastAt - started) / 1000, firstProgressMs: firstAt - started,
        cpuSecondsUsed: (cpuAtLast.user + cpuAtLast.system) / 1e6 }
    } finally {
      await app.close()
    }
  })
}

interface RestoreRound {
  readonly run: RestoreRun
  /** The restart of RESTORE_STARTUP_APP just before: start() until its stores are restored. */
  readonly startupMs: number
}

async function restorePhase(): Promise<RestoreRound[]> {
  const rounds: RestoreRound[] = []
  await scratch.inFreshDir('restore', async dir => {
    const weir = await Weir.open({ dir: path.join(dir, 'data') })
    try {
      const changelogOf = (appId: string): string => `${appId}-${RESTORE_STORE}-changelog`
      await weir.admin().createTopics([{ topic: TABLE_INPUT, partitions: args.partitions },
        ...[RESTORE_APP, RESTORE_STARTUP_APP].map(appId => ({ topic: changelogOf(appId),
          partitions: args.partitions, config: { cleanupPolicy: 'compact' as const } }))])
      log(`filling ${changelogOf(RESTORE_APP)} with ${format(args.restoreEntries)} distinct keys `
        + `in transactions of ${format(CHANGELOG_TXN_RECORDS)} (untimed)`)
      await fillChangelog(weir, changelogOf(RESTORE_APP), args.restoreEntries)
      await fillChangelog(weir, changelogOf(RESTORE_STARTUP_APP), args.partitions)
      for (let round = 1; round <= args.restoreRounds; round++) {
        const startup = await restoreRun(weir, RESTORE_STARTUP_APP, args.partitions)
        const run = await restoreRun(weir, RESTORE_APP, args.restoreEntries)
        rounds.push({ run, startupMs: startup.seconds * 1000 })
        log(`round ${round}: restore: ${format(args.restoreEntries)} records in `
          + `${run.seconds.toFixed(3)} s = ${format(args.restoreEntries / run.seconds)} `
          + `records/s (first progress after ${run.firstProgressMs.toFixed(0)} ms; a restart `
          + `with ${args.partitions} entries took ${(startup.seconds * 1000).toFixed(0)} ms; `
          + `${(run.cpuSecondsUsed * 1e6 / args.restoreEntries).toFixed(1)} µs CPU per record)`)
      }
    } finally {
      await weir.close()
    }
  })
  return rounds
}

const output: Record<string, unknown> = {}
const loadAtStart = os.loadavg()[0]!
log(`bench directory: ${scratch.description}`)
log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} cpus; `
  + `${format(args.records)} records × ${VALUE_BYTES} B, ${format(args.keys)} keys, `
  + `${args.partitions} partitions, commit every ${args.commitIntervalMs} ms, `
  + `sink ${args.sink ? 'on' : 'off'}`)
try {
  const modes = MODES.filter(mode => args.only.has(mode))
  if (modes.length > 0) {
    const runs = await countPhases(modes)
    const rate = (mode: Mode): number[] => runs.get(mode)?.map(run => args.records / run.seconds)
      ?? []
    for (const mode of modes) {
      const key = mode.replaceAll('-', '_')
      const mine = runs.get(mode)!
      output[`${key}_records_per_s`] = round(median(rate(mode)))
      output[`${key}_records_per_s_per_round`] = rate(mode).map(r => round(r))
      output[`${key}_cpu_us_per_record`] = round(median(mine.map(run =>
        run.cpuSecondsUsed * 1e6 / args.records)), 2)
      output[`${key}_startup_ms`] = round(median(mine.map(run => run.startupMs)))
      output[`${key}_final_commit_ms`] = round(median(mine.map(run => run.tailMs)))
      output[`${key}_changelog_offsets`] = round(median(mine.map(run => run.changelogOffsets)))
      output[`${key}_store_behind_after_caught_up_ms`] = mine.map(run => round(run.storeLagMs))
    }
    if (runs.has('exactly-once') && runs.has('at-least-once')) {
      const ratio = median(rate('exactly-once')) / median(rate('at-least-once'))
      const ratios = rate('exactly-once').map((r, i) => r / rate('at-least-once')[i]!)
      output.ratio = round(ratio, 4)
      output.overhead_pct = round((1 - ratio) * 100, 2)
      output.ratio_per_round = ratios.map(r => round(r, 4))
      output.ratio_median_of_rounds = round(median(ratios), 4)
      output.overhead_target_met = (1 - ratio) * 100 < 10
      const cpu = (mode: Mode): number => median(runs.get(mode)!.map(run => run.cpuSecondsUsed))
      output.cpu_overhead_pct = round((cpu('exactly-once') / cpu('at-least-once') - 1) * 100, 2)
      log(`exactly-once ${format(median(rate('exactly-once')))} records/s, at-least-once `
        + `${format(median(rate('at-least-once')))} records/s (medians): ratio `
        + `${ratio.toFixed(3)}, overhead ${((1 - ratio) * 100).toFixed(1)}%`)
    }
  }
  if (args.only.has('restore')) {
    const rounds = await restorePhase()
    const runs = rounds.map(entry => entry.run)
    const rates = runs.map(run => args.restoreEntries / run.seconds)
    const netRates = rounds.map(({ run, startupMs }) =>
      args.restoreEntries / (run.seconds - startupMs / 1000))
    output.restore_records_per_s = round(median(rates))
    output.restore_records_per_s_per_round = rates.map(r => round(r))
    output.restore_startup_ms = round(median(rounds.map(entry => entry.startupMs)))
    output.restore_records_per_s_net = round(median(netRates))
    output.restore_records_per_s_net_per_round = netRates.map(r => round(r))
    output.restore_cpu_us_per_record = round(median(runs.map(run =>
      run.cpuSecondsUsed * 1e6 / args.restoreEntries)), 2)
    output.restore_first_progress_ms = round(median(runs.map(run => run.firstProgressMs)))
    output.restore_target_met = median(rates) >= 300_000
  }
} finally {
  await scratch.remove()
}

const result = {
  bench: 'streams',
  records: args.records,
  keys: args.keys,
  value_bytes: VALUE_BYTES,
  ...output,
  restore_entries: args.restoreEntries,
  commit_interval_ms: args.commitIntervalMs,
  at_least_once_default_commit_interval_ms: 30_000,
  sink: args.sink,
  partitions: args.partitions,
  rounds: args.rounds,
  restore_rounds: args.restoreRounds,
  flush: 'always',
  /** 1-minute load average at the start and the end: the machine is shared. */
  load_average: [round(loadAtStart, 2), round(os.loadavg()[0]!, 2)],
  dir: scratch.root,
  ...machineFields(),
}
process.stdout.write(`${JSON.stringify(result)}\n`)
