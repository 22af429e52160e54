/**
 * Broker benchmark: Weir embedded in this process, driven only through the public client API
 * (`Weir.open`, admin, producer, consumer), on a topic of 4 partitions with the default flush
 * policy 'always' (one fdatasync per group commit). Phases, each in a fresh directory that is
 * deleted afterwards:
 *
 *   produce   idempotent and plain producers, acks 'all', interleaved rounds, medians reported
 *   consume   a group consumer reads every record from 'earliest' (auto commit on)
 *   latency   publish → consume latency at a fixed rate (5,000 msgs/s), acks 'all'
 *
 * Progress goes to stderr; the last stdout line is one JSON object (see README.md).
 *
 *   npm run bench:broker -- [--records N] [--latency-seconds S] [--dir PATH] [--only phase,...]
 *                           [--rounds N] [--partitions N] [--send-records N]
 *                           [--sends-in-flight N] [--linger-ms N] [--batch-bytes N] [--marks]
 *
 * `--marks` logs each timed window (monotonic µs) so a `--cpu-prof` profile can be cut to it.
 * Unlike src/, the bench uses `setTimeout` and `performance.now()` directly: it is the
 * application, and the rate pacing needs a timer that keeps the process alive.
 */
import {
  benchLogger, collectGarbage, machineFields, median, openBenchDirectory, readFlags, round,
} from './bench-common.ts'
import { randomBytes } from 'node:crypto'
import * as os from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Consumer } from '../src/client/consumer.ts'
import type { ProducerConfig } from '../src/client/producer-config.ts'
import { Weir } from '../src/client/weir.ts'
import {
  paced, percentile, produceAll, readLatencies, topicRecords, VALUE_BYTES,
} from './client-drive.ts'

const TOPIC = 'bench'
const MiB = 1024 * 1024
const MB = 1_000_000
const LATENCY_RATE_MSGS_PER_S = 5000
const LATENCY_WARMUP_SECONDS = 1
/** Bound on every wait for a condition the bench expects (assignment, delivery). */
const WAIT_MS_MAX = 60_000


interface Args {
  dir: string | undefined
  records: number
  latencySeconds: number
  rounds: number
  partitions: number
  sendRecords: number
  sendsInFlight: number
  lingerMs: number
  batchBytes: number
  only: Set<string> | undefined
  marks: boolean
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { dir: undefined, records: 1_000_000, latencySeconds: 10,
    rounds: Number(process.env.WEIR_BENCH_ROUNDS ?? 3), partitions: 4, sendRecords: 1000,
    sendsInFlight: 16, lingerMs: 0, batchBytes: MiB, only: undefined, marks: false }
  readFlags(argv, ({ flag, value, int }) => {
    switch (flag) {
    case '--dir': args.dir = value(); break
    case '--records': args.records = int(); break
    case '--latency-seconds': args.latencySeconds = int(); break
    case '--rounds': args.rounds = int(); break
    case '--partitions': args.partitions = int(); break
    case '--send-records': args.sendRecords = int(); break
    case '--sends-in-flight': args.sendsInFlight = int(); break
    case '--linger-ms': args.lingerMs = int(0); break
    case '--batch-bytes': args.batchBytes = int(); break
    case '--only': args.only = new Set(value().split(',')); break
    case '--marks': args.marks = true; break
    default: throw new Error(`unknown argument ${flag}`)
    }
  })
  return args
}

const args = parseArgs(process.argv.slice(2))
const runs = (phase: string): boolean => args.only === undefined || args.only.has(phase)
const log = benchLogger('broker-bench')
const format = (n: number): string => Math.round(n).toLocaleString('en-US')

/** Producer settings of both produce phases (and the fill of the consume phase). */
const throughputSettings: Partial<ProducerConfig> = {
  acks: 'all', lingerMs: args.lingerMs, batchBytes: args.batchBytes,
}
/** The latency phase sends each record at once: linger would only add to the latency. */
const latencySettings: Partial<ProducerConfig> = { acks: 'all', lingerMs: 0 }

// --- directories -------------------------------------------------------------------------------

const scratch = await openBenchDirectory('broker-bench', args.dir)

/** Opens Weir in a fresh directory under the bench root with the bench topic; removes it after. */
function withWeir<T>(name: string, body: (weir: Weir) => Promise<T>): Promise<T> {
  return scratch.inFreshDir(name, async dir => {
    const weir = await Weir.open({ dir })
    try {
      await weir.admin().createTopics([{ topic: TOPIC, partitions: args.partitions }])
      return await body(weir)
    } finally {
      await weir.close()
    }
  })
}

// --- timing ------------------------------------------------------------------------------------

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

/** Waits until `condition` holds, checking every 5 ms, for at most WAIT_MS_MAX. */
async function until(what: string, condition: () => boolean): Promise<void> {
  const started = performance.now()
  while (!condition()) {
    if (performance.now() - started > WAIT_MS_MAX) throw new Error(`timed out waiting: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

// --- produce -----------------------------------------------------------------------------------

interface Timed {
  readonly seconds: number
  readonly records: number
}

const rate = (result: Timed): number => result.records / result.seconds

/** Random 100-byte values, one pool for the whole run; records are views into it. */
const valuePool = randomBytes((runs('produce') || runs('consume') ? args.records : 1) * VALUE_BYTES)


/** One timed produce run in a fresh directory; the producer id is fetched before timing. */
function produceRound(idempotent: boolean, records: number): Promise<Timed> {
  return withWeir(idempotent ? 'produce-idempotent' : 'produce-plain', async weir => {
    const producer = weir.producer({ ...throughputSettings, idempotent })
    // One untimed record: the producer id (idempotent) and topic metadata are set-up costs.
    await producer.send({ topic: TOPIC, messages: [{ value: valuePool.subarray(0, VALUE_BYTES),
      partition: 0 }] })
    collectGarbage()
    const stop = startTimer()
    await produceAll(producer, TOPIC, records, args, valuePool)
    const seconds = stop()
    const stored = await topicRecords(weir, TOPIC)
    if (stored !== records + 1) throw new Error(`topic holds ${stored}, expected ${records + 1}`)
    return { seconds, records }
  })
}

async function producePhase(output: Record<string, unknown>): Promise<void> {
  log('produce: warm-up (untimed, 10% of the records, each mode)')
  const warmup = Math.max(args.sendRecords, Math.floor(args.records / 10))
  await produceRound(true, warmup)
  await produceRound(false, warmup)
  const idempotent: number[] = []
  const plain: number[] = []
  for (let i = 0; i < args.rounds; i++) {
    for (const [mode, rates] of [['idempotent', idempotent], ['plain', plain]] as const) {
      const result = await produceRound(mode === 'idempotent', args.records)
      rates.push(rate(result))
      log(`round ${i + 1}: produce_${mode}: ${result.records} records in `
        + `${result.seconds.toFixed(3)} s = ${format(rate(result))} msgs/s, `
        + `${(result.records * VALUE_BYTES / MB / result.seconds).toFixed(1)} MB/s of values`)
    }
  }
  const idem = median(idempotent)
  const base = median(plain)
  output.produce_idempotent_msgs_per_s = round(idem)
  output.produce_plain_msgs_per_s = round(base)
  output.idempotence_overhead = round(1 - idem / base, 4)
  output.produce_idempotent_msgs_per_s_per_round = idempotent.map(r => round(r))
  output.produce_plain_msgs_per_s_per_round = plain.map(r => round(r))
  output.idempotence_overhead_per_round = idempotent.map((r, i) => round(1 - r / plain[i]!, 4))
  log(`produce: idempotent ${format(idem)} msgs/s, plain ${format(base)} msgs/s (medians), `
    + `idempotence overhead ${(100 * (1 - idem / base)).toFixed(1)}%`)
}

// --- consume -----------------------------------------------------------------------------------

/** Reads batches until `records` records arrived; gives the first-batch and end times (ms). */
async function consumeAll(consumer: Consumer, records: number): Promise<{ firstMs: number }> {
  let firstMs = Number.NaN
  let count = 0
  for await (const batch of consumer) {
    if (count === 0) firstMs = performance.now()
    count += batch.records.length
    if (count >= records) break
  }
  if (count !== records) throw new Error(`consumed ${count} records, expected ${records}`)
  return { firstMs }
}

async function consumePhase(output: Record<string, unknown>): Promise<void> {
  const result = await withWeir('consume', async weir => {
    log(`consume: filling ${format(args.records)} records (untimed, idempotent producer)`)
    await produceAll(weir.producer(throughputSettings), TOPIC, args.records, args, valuePool)
    collectGarbage()
    const consumer = weir.consumer({ groupId: 'bench-consume', autoOffsetReset: 'earliest' })
    const started = performance.now()
    const stop = startTimer()
    consumer.subscribe({ topics: [TOPIC] })
    const { firstMs } = await consumeAll(consumer, args.records)
    const seconds = stop()
    await consumer.close() // commits; not timed
    return { seconds, records: args.records, joinMs: firstMs - started }
  })
  output.consume_group_msgs_per_s = round(rate(result))
  output.consume_group_first_batch_ms = round(result.joinMs, 1)
  log(`consume_group: ${result.records} records in ${result.seconds.toFixed(3)} s = `
    + `${format(rate(result))} msgs/s (subscribe → first batch ${result.joinMs.toFixed(1)} ms, `
    + 'included)')
}

// --- latency -----------------------------------------------------------------------------------


interface LatencyResult {
  readonly rate: number
  readonly sends: number
  readonly sorted: Float64Array
}

async function measureLatency(weir: Weir): Promise<LatencyResult> {
  const warmup = LATENCY_RATE_MSGS_PER_S * LATENCY_WARMUP_SECONDS
  const timed = LATENCY_RATE_MSGS_PER_S * args.latencySeconds
  const consumer = weir.consumer({ groupId: 'bench-latency', autoOffsetReset: 'earliest',
    maxWaitMs: 100 })
  consumer.subscribe({ topics: [TOPIC] })
  const reader = readLatencies(consumer, warmup, timed)
  await until('the latency consumer is assigned every partition',
    () => consumer.assignment().length === args.partitions)
  const producer = weir.producer(latencySettings)
  const failures: unknown[] = []
  log(`latency: ${LATENCY_WARMUP_SECONDS} s warm-up at ${LATENCY_RATE_MSGS_PER_S} msgs/s`)
  await paced(producer, TOPIC, args.partitions, 0, warmup, LATENCY_RATE_MSGS_PER_S, failures)
  await until('the warm-up records are consumed', () => reader.received() >= warmup)
  collectGarbage()
  log(`latency: ${args.latencySeconds} s timed at ${LATENCY_RATE_MSGS_PER_S} msgs/s`)
  const stop = startTimer()
  const run = await paced(producer, TOPIC, args.partitions, warmup, timed,
    LATENCY_RATE_MSGS_PER_S, failures)
  stop()
  await producer.flush()
  if (failures.length > 0) throw failures[0]
  await Promise.race([reader.done, until('every timed record is consumed',
    () => reader.received() >= warmup + timed)])
  await consumer.close()
  const missing = reader.latencies.filter(Number.isNaN).length
  if (missing > 0) throw new Error(`${missing} timed records were not consumed`)
  return { rate: timed / run.seconds, sends: run.sends, sorted: reader.latencies.sort() }
}

async function latencyPhase(output: Record<string, unknown>): Promise<void> {
  const result = await withWeir('latency', measureLatency)
  const [p50, p99, p999] = [0.5, 0.99, 0.999].map(p => percentile(result.sorted, p))
  output.latency_rate_msgs_per_s = round(result.rate)
  output.latency_p50_ms = round(p50!, 3)
  output.latency_p99_ms = round(p99!, 3)
  output.latency_p999_ms = round(p999!, 3)
  output.latency_max_ms = round(result.sorted[result.sorted.length - 1]!, 3)
  output.latency_records = result.sorted.length
  output.latency_sends = result.sends
  log(`latency: ${result.sorted.length} records at ${format(result.rate)} msgs/s in `
    + `${result.sends} sends: p50 ${p50!.toFixed(2)} ms, p99 ${p99!.toFixed(2)} ms, `
    + `p99.9 ${p999!.toFixed(2)} ms, max ${output.latency_max_ms as number} ms`)
}

// --- main --------------------------------------------------------------------------------------

const output: Record<string, unknown> = {}
log(`bench directory: ${scratch.description}`)
log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} cpus; `
  + `${format(args.records)} records × ${VALUE_BYTES} B, ${args.partitions} partitions, `
  + `sends of ${args.sendRecords} × ${args.sendsInFlight} in flight, lingerMs ${args.lingerMs}, `
  + `batchBytes ${args.batchBytes}`)

try {
  if (runs('produce')) await producePhase(output)
  collectGarbage()
  if (runs('consume')) await consumePhase(output)
  collectGarbage()
  if (runs('latency')) await latencyPhase(output)
} finally {
  await scratch.remove()
}

const result = {
  bench: 'broker',
  records: args.records,
  value_bytes: VALUE_BYTES,
  ...output,
  partitions: args.partitions,
  send_records: args.sendRecords,
  sends_in_flight: args.sendsInFlight,
  linger_ms: args.lingerMs,
  batch_bytes: args.batchBytes,
  rounds: args.rounds,
  latency_seconds: args.latencySeconds,
  flush: 'always',
  dir: scratch.root,
  ...machineFields(),
}
process.stdout.write(`${JSON.stringify(result)}\n`)
