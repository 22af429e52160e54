/**
 * Log benchmark: raw Node append ceiling vs. Weir's PartitionLog (append under each flush policy,
 * sequential and pipelined; reads decoded and undecoded) and CRC-32C throughput, all in one run on
 * one disk. Progress goes to stderr; the last stdout line is one JSON object (see README.md).
 *
 *   npm run bench:log -- [--dir PATH] [--records N] [--records-1k N] [--batch-1k N]
 *                        [--only phase,phase,...] [--marks]
 *
 * `--marks` logs each timed window (monotonic µs) so a `--cpu-prof` profile can be cut to it.
 * Phases: crc, ceiling, always, pipelined, never, read, read_batches, append_1k.
 */
import {
  benchLogger, collectGarbage, machineFields, median, openBenchDirectory, readFlags, round,
} from './bench-common.ts'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { type LogConfig, logConfigDefaults } from '../src/log/log-config.ts'
import { PartitionLog } from '../src/log/partition-log.ts'
import { encodeBatch, forEachBatch, type RecordInput } from '../src/log/record-batch.ts'
import { crc32c } from '../src/util/crc32c.ts'

const MB = 1_000_000
const MiB = 1024 * 1024
const WARMUP_BATCHES = 20
const PIPELINE_DEPTH = 8
/** Alternating rounds of ceiling and always-append (medians reported). */
const ROUNDS = Number(process.env.WEIR_BENCH_ROUNDS ?? 3)

const RECORD_COUNT_OFFSET = 57

interface Args {
  dir: string | undefined
  records: number
  batchRecords: number
  records1k: number
  batch1k: number | undefined
  only: Set<string> | undefined
  /** Log each timed window on the monotonic clock (µs), to cut a --cpu-prof to it. */
  marks: boolean
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { dir: undefined, records: 1_000_000, batchRecords: 1000,
    records1k: 100_000, batch1k: undefined, only: undefined, marks: false }
  readFlags(argv, ({ flag, value, int }) => {
    switch (flag) {
    case '--dir': args.dir = value(); break
    case '--records': args.records = int(); break
    case '--batch-records': args.batchRecords = int(); break
    case '--records-1k': args.records1k = int(); break
    case '--batch-1k': args.batch1k = int(); break
    case '--only': args.only = new Set(value().split(',')); break
    case '--marks': args.marks = true; break
    default: throw new Error(`unknown argument ${flag}`)
    }
  })
  return args
}

const args = parseArgs(process.argv.slice(2))
const runs = (phase: string): boolean => args.only === undefined || args.only.has(phase)
const log = benchLogger('log-bench')
const TIMESTAMP = Date.now()

// --- directories -------------------------------------------------------------------------------

const scratch = await openBenchDirectory('log-bench', args.dir)
const inFreshDir = scratch.inFreshDir

// --- data --------------------------------------------------------------------------------------

/**
 * `count` records with `valueBytes`-byte random values and null keys, split into batches. The
 * record objects are made batch by batch as the phases iterate, as a producer makes them: holding
 * a million of them for the whole run inflated every major GC and made the appendRecords figures
 * swing by half between rounds.
 */
class Batches implements Iterable<RecordInput[]> {
  private constructor(
    private readonly pool: Buffer,
    readonly count: number,
    private readonly valueBytes: number,
    private readonly batchRecords: number,
  ) {}

  static make(count: number, valueBytes: number, batchRecords: number): Batches {
    return new Batches(randomBytes(count * valueBytes), count, valueBytes, batchRecords)
  }

  /** The first `batches` batches. */
  slice(start: 0, batches: number): Batches {
    return new Batches(this.pool, Math.min(this.count, batches * this.batchRecords),
      this.valueBytes, this.batchRecords)
  }

  first(): RecordInput[] {
    return this[Symbol.iterator]().next().value as RecordInput[]
  }

  *[Symbol.iterator](): Iterator<RecordInput[]> {
    const { pool, valueBytes } = this
    for (let start = 0; start < this.count; start += this.batchRecords) {
      const end = Math.min(this.count, start + this.batchRecords)
      const batch: RecordInput[] = new Array(end - start)
      for (let i = start; i < end; i++) {
        batch[i - start] = { key: null, value: pool.subarray(i * valueBytes, (i + 1) * valueBytes) }
      }
      yield batch
    }
  }
}

/** Encodes every batch the way the log would store it (consecutive base offsets). */
function encodeAll(batches: Iterable<RecordInput[]>): Buffer[] {
  let baseOffset = 0
  const encoded: Buffer[] = []
  for (const records of batches) {
    encoded.push(encodeBatch(records, { timestamp: TIMESTAMP, baseOffset }))
    baseOffset += records.length
  }
  return encoded
}

// --- phases ------------------------------------------------------------------------------------

interface Timed {
  readonly seconds: number
  readonly records: number
  readonly bytes: number
}

const monotonicMicros = (): bigint => process.hrtime.bigint() / 1000n

/** Starts a timed window; the returned function ends it and gives the elapsed seconds. */
function startTimer(): () => number {
  const started = performance.now()
  const startedMicros = monotonicMicros()
  return () => {
    const seconds = (performance.now() - started) / 1000
    if (args.marks) log(`mark ${startedMicros} ${monotonicMicros()}`)
    return seconds
  }
}

function rate(result: Timed): number {
  return result.records / result.seconds
}

async function rawAppend(dir: string, buffers: readonly Buffer[]): Promise<Timed> {
  const handle = await fs.open(path.join(dir, 'raw.log'), 'w')
  try {
    let position = 0
    let records = 0
    const stop = startTimer()
    for (const buffer of buffers) {
      let written = 0
      while (written < buffer.length) {
        const { bytesWritten } = await handle.write(buffer, written, buffer.length - written,
          position + written)
        written += bytesWritten
      }
      position += buffer.length
      await handle.datasync()
      records += buffer.readInt32BE(RECORD_COUNT_OFFSET)
    }
    const seconds = stop()
    return { seconds, records, bytes: position }
  } finally {
    await handle.close()
  }
}

async function openLog(dir: string, config: Partial<LogConfig>): Promise<PartitionLog> {
  return PartitionLog.open({ directory: dir, config })
}

/**
 * Appends every batch through `appendRecords` with at most `depth` appends in flight (1 =
 * sequential). Encoding is inside the timing; opening and closing the log are not.
 */
async function weirAppend(dir: string, batches: Iterable<RecordInput[]>,
  config: Partial<LogConfig>, depth: number): Promise<Timed> {
  const partitionLog = await openLog(dir, config)
  try {
    let records = 0
    let bytes = 0
    const inFlight: Array<Promise<unknown>> = []
    const stop = startTimer()
    for (const batch of batches) {
      const appended = partitionLog.appendRecords(batch, { timestamp: TIMESTAMP })
      records += batch.length
      if (depth === 1) {
        await appended
        continue
      }
      inFlight.push(appended)
      if (inFlight.length >= depth) await inFlight.shift()
    }
    await Promise.all(inFlight)
    const seconds = stop()
    bytes = partitionLog.sizeBytes
    return { seconds, records, bytes }
  } finally {
    await partitionLog.close()
  }
}

/**
 * Fills a log with `count` 100-byte records, generating them a batch at a time: the read phases
 * then run with a heap the size a consumer would have, not holding a million producer records
 * (which measured as doubled GC time in the reads).
 */
/**
 * The broker's path: appends producer-encoded batches with `append`, which validates each one
 * (CRC-32C, record framing, limits) and assigns offsets, sequentially. Encoding is the producer's
 * work and happens before the timing, as it would in another process.
 */
async function weirAppendEncoded(dir: string, encoded: readonly Buffer[]): Promise<Timed> {
  const partitionLog = await openLog(dir, { flush: 'always' })
  try {
    let records = 0
    const stop = startTimer()
    for (const batch of encoded) {
      await partitionLog.append(batch)
      records += batch.readInt32BE(RECORD_COUNT_OFFSET)
    }
    const seconds = stop()
    return { seconds, records, bytes: partitionLog.sizeBytes }
  } finally {
    await partitionLog.close()
  }
}

async function fillLog(dir: string, count: number): Promise<void> {
  const partitionLog = await openLog(dir, { flush: 'never' })
  for (let start = 0; start < count; start += args.batchRecords) {
    const batch = Batches.make(Math.min(args.batchRecords, count - start), 100, args.batchRecords)
    await partitionLog.appendRecords(batch.first(), { timestamp: TIMESTAMP })
  }
  await partitionLog.close()
}

/** What one read call gave: records and value bytes seen, and where to read next. */
interface ReadStep {
  readonly records: number
  readonly bytes: number
  readonly nextOffset: number
}

/** Reads the whole log from offset 0, one `step` per call, timing only the reads. */
async function readWhole(dir: string, step: (log: PartitionLog, offset: number) =>
Promise<ReadStep>): Promise<Timed> {
  const partitionLog = await openLog(dir, { flush: 'never' })
  try {
    const end = partitionLog.logEndOffset
    let offset = 0
    let records = 0
    let bytes = 0
    const stop = startTimer()
    while (offset < end) {
      const result = await step(partitionLog, offset)
      if (result.nextOffset <= offset) throw new Error(`read stalled at offset ${offset}`)
      records += result.records
      bytes += result.bytes
      offset = result.nextOffset
    }
    const seconds = stop()
    return { seconds, records, bytes }
  } finally {
    await partitionLog.close()
  }
}

/** `readRecords` of up to `maxBytes` a call: CRC checked and every record decoded. */
function readDecoded(dir: string, maxBytes: number): Promise<Timed> {
  return readWhole(dir, async (log, offset) => {
    const { records, nextOffset } = await log.readRecords(offset, { maxBytes })
    let bytes = 0
    for (const record of records) bytes += record.value?.length ?? 0
    return { records: records.length, bytes, nextOffset }
  })
}

/** `read` of up to `maxBytes` a call: CRC checked, records counted from batch headers only. */
function readBatches(dir: string, maxBytes: number): Promise<Timed> {
  return readWhole(dir, async (log, offset) => {
    const { bytes: buffer, nextOffset } = await log.read(offset, { maxBytes })
    let records = 0
    forEachBatch(buffer, position => {
      records += buffer.readInt32BE(position + RECORD_COUNT_OFFSET)
    })
    return { records, bytes: buffer.length, nextOffset }
  })
}

function crcThroughput(): number {
  const buffer = randomBytes(MiB)
  let sink = 0
  for (let i = 0; i < 20; i++) sink ^= crc32c(buffer) // warm-up (JIT)
  let iterations = 0
  const started = performance.now()
  let elapsed = 0
  while (elapsed < 1000 || iterations < 50) {
    sink ^= crc32c(buffer)
    iterations++
    elapsed = performance.now() - started
  }
  if (sink === 0.5) log('unreachable') // keep `sink` alive
  return (iterations * buffer.length) / MB / (elapsed / 1000)
}

/** Warm-up: a few batches through the same code path into a throwaway log. */
async function warmUp(name: string, batches: Batches,
  body: (dir: string, batches: Batches) => Promise<unknown>): Promise<void> {
  await inFreshDir(`warmup-${name}`, dir => body(dir, batches.slice(0, WARMUP_BATCHES)))
}

function report(name: string, result: Timed): void {
  log(`${name}: ${result.records} records in ${result.seconds.toFixed(3)} s = `
    + `${Math.round(rate(result)).toLocaleString('en-US')} msgs/s, `
    + `${(result.bytes / MB / result.seconds).toFixed(1)} MB/s`)
}

// --- main --------------------------------------------------------------------------------------

const output: Record<string, unknown> = {}
const notes: string[] = []
log(`bench directory: ${scratch.description}`)
log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} cpus`)

try {
  if (runs('crc')) {
    const crc = crcThroughput()
    output.crc32c_mb_per_s = round(crc)
    log(`crc32c: ${crc.toFixed(0)} MB/s over a 1 MiB buffer`)
  }

  // Reads first, in a process whose heap the append phases have not yet grown and churned:
  // a consumer process does not carry a producer's garbage.
  const readPhases = [
    ['read', 'read_100b', readDecoded],
    ['read_batches', 'read_100b_batches', readBatches],
  ] as const
  for (const [phase, field, reader] of readPhases) {
    if (!runs(phase)) continue
    await inFreshDir(`${phase} warm-up`, async dir => {
      await fillLog(dir, WARMUP_BATCHES * args.batchRecords)
      await reader(dir, MiB)
    })
    const rates = await inFreshDir(phase, async dir => {
      log(`${phase}: filling log (untimed, flush never)`)
      await fillLog(dir, args.records)
      await reader(dir, MiB) // one untimed pass: a long-running consumer runs optimised code
      const measured: number[] = []
      for (let i = 0; i < ROUNDS; i++) {
        collectGarbage()
        const result = await reader(dir, MiB)
        if (result.records !== args.records) {
          throw new Error(`${phase} read ${result.records} records, expected ${args.records}`)
        }
        report(`round ${i + 1}: ${field} (maxBytes 1 MiB)`, result)
        measured.push(rate(result))
      }
      return measured
    })
    output[`${field}_msgs_per_s`] = round(median(rates))
    output[`${field}_msgs_per_s_per_round`] = rates.map(r => round(r))
  }
  if (runs('read') || runs('read_batches')) {
    notes.push('reads run right after an untimed fill of the same log, so they come from the page '
      + 'cache, not the device')
  }

  const needs100b = ['ceiling', 'always', 'pipelined', 'never', 'read', 'read_batches'].some(runs)
  const batches100 = Batches.make(needs100b ? args.records : 0, 100, args.batchRecords)

  if (runs('ceiling') && runs('always')) {
    // The disk of a shared VM drifts by tens of percent within a minute, so the ceiling and
    // Weir's always-append alternate, round by round, and each reports its median.
    const encoded = encodeAll(batches100)
    await warmUp('ceiling', batches100, dir => rawAppend(dir, encoded.slice(0, WARMUP_BATCHES)))
    await warmUp('always', batches100, (dir, b) => weirAppend(dir, b, { flush: 'always' }, 1))
    await warmUp('encoded', batches100, dir =>
      weirAppendEncoded(dir, encodeAll(batches100.slice(0, WARMUP_BATCHES))))
    const ceilings: number[] = []
    const encodedAppends: number[] = []
    const recordAppends: number[] = []
    let lastCeiling: Timed | undefined
    for (let i = 0; i < ROUNDS; i++) {
      collectGarbage()
      lastCeiling = await inFreshDir('ceiling', dir => rawAppend(dir, encoded))
      report(`round ${i + 1}: ceiling (raw write+datasync per batch)`, lastCeiling)
      ceilings.push(rate(lastCeiling))
      const broker = await inFreshDir('always', dir => weirAppendEncoded(dir, encoded))
      report(`round ${i + 1}: append_100b_always (append of encoded batches)`, broker)
      encodedAppends.push(rate(broker))
      collectGarbage()
      const embedded = await inFreshDir('always-records', dir =>
        weirAppend(dir, batches100, { flush: 'always' }, 1))
      report(`round ${i + 1}: append_records_100b_always (appendRecords, encoding timed)`,
        embedded)
      recordAppends.push(rate(embedded))
    }
    output.ceiling_100b_msgs_per_s = round(median(ceilings))
    output.append_100b_always_msgs_per_s = round(median(encodedAppends))
    output.ratio_to_ceiling = round(median(encodedAppends) / median(ceilings), 3)
    output.ratio_to_ceiling_per_round = encodedAppends.map((a, i) => round(a / ceilings[i]!, 3))
    output.append_records_100b_always_msgs_per_s = round(median(recordAppends))
    output.records_ratio_to_ceiling = round(median(recordAppends) / median(ceilings), 3)
    output.records_ratio_to_ceiling_per_round =
      recordAppends.map((a, i) => round(a / ceilings[i]!, 3))
    output.rounds = ROUNDS
    output.ceiling_100b_mb_per_s = round(lastCeiling!.bytes / MB / lastCeiling!.seconds, 1)
    output.bytes_per_record_100b = round(lastCeiling!.bytes / lastCeiling!.records, 2)
  }

  const appendPhases = [
    ['pipelined', 'append_100b_always_pipelined', { flush: 'always' }, PIPELINE_DEPTH],
    ['never', 'append_100b_never', { flush: 'never' }, 1],
  ] as const
  for (const [phase, field, config, depth] of appendPhases) {
    if (!runs(phase)) continue
    await warmUp(phase, batches100, (dir, b) => weirAppend(dir, b, config, depth))
    const result = await inFreshDir(phase, dir => weirAppend(dir, batches100, config, depth))
    report(`${field} (depth ${depth})`, result)
    output[`${field}_msgs_per_s`] = round(rate(result))
  }
  if (typeof output.append_100b_always_pipelined_msgs_per_s === 'number'
    && typeof output.ceiling_100b_msgs_per_s === 'number') {
    output.pipelined_ratio_to_ceiling = round(output.append_100b_always_pipelined_msgs_per_s
      / output.ceiling_100b_msgs_per_s, 3)
  }

  if (runs('append_1k')) {
    const recordBytes = 1024
    // 1 KiB records take ~1034 B encoded: pick the largest of 1000/500/100 records per batch
    // that fits the default batchBytesMax, unless --batch-1k says otherwise.
    const fits = (n: number): boolean => encodeBatch(
      Batches.make(n, recordBytes, n).first(), { timestamp: TIMESTAMP }).length
      <= logConfigDefaults.batchBytesMax
    const batch1k = args.batch1k ?? [1000, 500, 100].find(fits) ?? 100
    if (!fits(batch1k)) throw new Error(`--batch-1k ${batch1k} exceeds batchBytesMax`)
    const batches1k = Batches.make(args.records1k, recordBytes, batch1k)
    const config = { flush: 'always' } as const
    await warmUp('append_1k', batches1k, (dir, b) => weirAppend(dir, b, config, 1))
    const result = await inFreshDir('append_1k', dir => weirAppend(dir, batches1k, config, 1))
    report(`append_1k_always (${batch1k} records/batch)`, result)
    output.append_1k_always_msgs_per_s = round(rate(result))
    output.append_1k_always_mb_per_s = round(result.records * recordBytes / MB / result.seconds, 1)
    output.records_1k = args.records1k
    output.batch_records_1k = batch1k
    notes.push(`1 KiB phase: ${batch1k}-record batches (${
      encodeBatch(batches1k.first(), { timestamp: TIMESTAMP }).length} B each) fit the default `
      + `batchBytesMax (${logConfigDefaults.batchBytesMax} B); config left at defaults; `
      + 'mb_per_s counts value bytes (1 MB = 10^6 B)')
  }
} finally {
  await scratch.remove()
}

const result = {
  ...output,
  records: args.records,
  batch_records: args.batchRecords,
  pipeline_depth: PIPELINE_DEPTH,
  dir: scratch.root,
  ...machineFields(),
  notes,
}
process.stdout.write(`${JSON.stringify(result)}\n`)
