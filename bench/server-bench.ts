/**
 * Server benchmark (issue 6): Weir over loopback (produce and fetch on the client's WebSocket
 * data channel, or over HTTP with `--data-channel http`), the client in this process and the server
 * (bench/server-process.ts: `WeirServer` over a directory under the bench root, default broker
 * options, flush policy 'always') in a child process, one for the whole run, so that the two do
 * not share an event loop, as in a real deployment. The same workloads run through `Weir.open`
 * in this process for reference, driven identically (the drives of bench/client-drive.ts, which
 * bench:broker uses too). Phases:
 *
 *   produce           embedded and remote rounds, interleaved (E R, R E, ...), medians reported
 *   consume           a group consumer reads every record from 'earliest', remote and embedded
 *   latency           publish → consume latency at 5,000 msgs/s through the remote client
 *   latency-embedded  the same embedded (only when named in --only)
 *
 * Progress goes to stderr; the last stdout line is one JSON object (see README.md).
 *
 *   npm run bench:server -- [--records N] [--rounds N] [--consume-rounds N]
 *                           [--latency-seconds S] [--latency-rounds N] [--latency-rate N]
 *                           [--only phase,...]
 *                           [--dir PATH] [--partitions N] [--send-records N]
 *                           [--sends-in-flight N] [--linger-ms N] [--batch-bytes N] [--plain]
 *                           [--data-channel websocket|http]
 *                           [--server-node-args "ARGS"] [--marks]
 *
 * `--server-node-args` passes node flags to the server process (e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof"); `--marks` logs each timed window (monotonic µs) so `--cpu-prof`
 * profiles of either process can be cut to it (both clocks are the machine's monotonic clock).
 */
import {
  benchLogger, collectGarbage, machineFields, median, openBenchDirectory, readFlags, round,
} from './bench-common.ts'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Consumer } from '../src/client/consumer.ts'
import type { ProducerConfig } from '../src/client/producer-config.ts'
import { Weir } from '../src/client/weir.ts'
import {
  type Paced, paced, percentile, produceAll, readLatencies, topicRecords, VALUE_BYTES,
} from './client-drive.ts'

const MiB = 1024 * 1024
const LATENCY_WARMUP_SECONDS = 1
/** Bound on every wait for a condition the bench expects (assignment, delivery). */
const WAIT_MS_MAX = 60_000
const REPOSITORY_ROOT = fileURLToPath(new URL('../', import.meta.url))
/** Targets of the issue. */
const RATIO_TARGET = 0.5
const P99_TARGET_MS = 10


interface Args {
  dir: string | undefined
  records: number
  rounds: number
  consumeRounds: number
  latencySeconds: number
  latencyRounds: number
  latencyRate: number
  partitions: number
  sendRecords: number
  sendsInFlight: number
  lingerMs: number
  batchBytes: number
  idempotent: boolean
  dataChannel: DataChannel
  serverNodeArgs: string[]
  only: Set<string> | undefined
  marks: boolean
}

type DataChannel = 'websocket' | 'http'

function channel(value: string): DataChannel {
  if (value !== 'websocket' && value !== 'http') {
    throw new Error(`--data-channel takes websocket or http, not ${value}`)
  }
  return value
}

function parseArgs(argv: readonly string[]): Args {
  const rounds = Number(process.env.WEIR_BENCH_ROUNDS ?? 3)
  const args: Args = { dir: undefined, records: 1_000_000, rounds, consumeRounds: rounds,
    latencySeconds: 10, latencyRounds: rounds, latencyRate: 5000, partitions: 4, sendRecords: 1000,
    sendsInFlight: 16, lingerMs: 0, batchBytes: MiB, idempotent: true, dataChannel: 'websocket',
    serverNodeArgs: [], only: undefined, marks: false }
  readFlags(argv, ({ flag, value, int }) => {
    switch (flag) {
    case '--dir': args.dir = value(); break
    case '--records': args.records = int(); break
    case '--rounds': args.rounds = int(); break
    case '--consume-rounds': args.consumeRounds = int(); break
    case '--latency-seconds': args.latencySeconds = int(); break
    case '--latency-rounds': args.latencyRounds = int(); break
    case '--latency-rate': args.latencyRate = int(); break
    case '--partitions': args.partitions = int(); break
    case '--send-records': args.sendRecords = int(); break
    case '--sends-in-flight': args.sendsInFlight = int(); break
    case '--linger-ms': args.lingerMs = int(0); break
    case '--batch-bytes': args.batchBytes = int(); break
    case '--plain': args.idempotent = false; break
    case '--data-channel': args.dataChannel = channel(value()); break
    case '--server-node-args': args.serverNodeArgs = value().split(/\s+/).filter(Boolean); break
    case '--only': args.only = new Set(value().split(',')); break
    case '--marks': args.marks = true; break
    default: throw new Error(`unknown argument ${flag}`)
    }
  })
  return args
}

const args = parseArgs(process.argv.slice(2))
const PHASES = ['produce', 'consume', 'latency', 'latency-embedded']
for (const phase of args.only ?? []) {
  if (!PHASES.includes(phase)) {
    throw new Error(`unknown phase ${phase}; phases: ${PHASES.join(', ')}`)
  }
}
const DEFAULT_PHASES = new Set(['produce', 'consume', 'latency'])
const runs = (phase: string): boolean => (args.only ?? DEFAULT_PHASES).has(phase)
const log = benchLogger('server-bench')
const format = (n: number): string => Math.round(n).toLocaleString('en-US')

/** Producer settings of the produce phase and of the consume phase's fill (as bench:broker). */
const throughputSettings: Partial<ProducerConfig> = {
  acks: 'all', lingerMs: args.lingerMs, batchBytes: args.batchBytes, idempotent: args.idempotent,
}
/** The latency phase sends each record at once: linger would only add to the latency. */
const latencySettings: Partial<ProducerConfig> = { acks: 'all', lingerMs: 0 }

const scratch = await openBenchDirectory('server-bench', args.dir)

// --- the server process --------------------------------------------------------------------------

interface CpuMicros { readonly user: number, readonly system: number }
const cpuTotal = (cpu: CpuMicros): number => cpu.user + cpu.system

/** bench/server-process.ts in a child process: its URL, its CPU time, and a graceful close. */
interface ServerProcess {
  readonly url: string
  readonly pid: number
  cpu(): Promise<CpuMicros>
  close(): Promise<void>
}

async function startServer(dir: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...args.serverNodeArgs, '--import', 'tsx',
    'bench/server-process.ts', '--dir', dir], { cwd: REPOSITORY_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  // Answers come one JSON line per command, in order.
  const waiting: Array<(line: Record<string, unknown>) => void> = []
  const lines = createInterface({ input: child.stdout })
  lines.on('line', line => {
    const next = waiting.shift()
    if (next === undefined) log(`server said: ${line}`)
    else next(JSON.parse(line) as Record<string, unknown>)
  })
  const nextLine = (what: string): Promise<Record<string, unknown>> =>
    Promise.race([new Promise<Record<string, unknown>>(resolve => waiting.push(resolve)),
      exited.then(code => {
        throw new Error(`the server process exited (${code}) before ${what}`)
      })])
  const ready = await nextLine('printing its URL')
  return {
    url: ready.url as string,
    pid: ready.pid as number,
    async cpu() {
      const answer = nextLine('answering cpu')
      child.stdin.write('cpu\n')
      return (await answer).cpu as CpuMicros
    },
    async close() {
      const answer = nextLine('closing')
      child.stdin.end('close\n')
      await answer
      await exited
    },
  }
}

/**
 * The one server process of the run (over `<bench root>/server`), started on first use: every
 * remote phase uses it, each round on a fresh topic that it deletes afterwards, so the server is
 * as warm in later phases as the bench process is (bench:broker runs its phases in one process).
 */
let sharedServer: Promise<ServerProcess> | undefined
function serverProcess(): Promise<ServerProcess> {
  sharedServer ??= (async () => {
    const dir = path.join(scratch.root, 'server')
    await fs.mkdir(dir)
    const started = await startServer(dir)
    log(`server process ${started.pid} at ${started.url}${args.serverNodeArgs.length > 0
      ? ` (node ${args.serverNodeArgs.join(' ')})` : ''}`)
    return started
  })()
  return sharedServer
}

/** Sums of the server's Prometheus counters, keyed `name{labels}` as rendered. */
async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(new URL('/metrics', url))
  const series = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line.length === 0) continue
    const space = line.lastIndexOf(' ')
    series.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return series
}

/** Sum of the series of metric `name` whose labels contain every one of `labels`. */
function metricSum(series: Map<string, number>, name: string, labels: readonly string[] = []):
number {
  let sum = 0
  for (const [key, value] of series) {
    if ((key === name || key.startsWith(`${name}{`)) && labels.every(l => key.includes(l))) {
      sum += value
    }
  }
  return sum
}

// --- clients -------------------------------------------------------------------------------------

type Transport = 'embedded' | 'remote'

/** Opens a client of the given kind (a fresh embedded broker in `dir`, or a connection). */
async function openWeir(kind: Transport, target: string): Promise<Weir> {
  return kind === 'embedded' ? Weir.open({ dir: target })
    : Weir.connect(target, { dataChannel: args.dataChannel })
}

/** `body` with a client whose topic `topic` exists; the client is closed after. */
async function withClient<T>(kind: Transport, target: string, topic: string,
  body: (weir: Weir) => Promise<T>): Promise<T> {
  const weir = await openWeir(kind, target)
  try {
    await weir.admin().createTopics([{ topic, partitions: args.partitions }])
    return await body(weir)
  } finally {
    await weir.close()
  }
}

// --- timing ------------------------------------------------------------------------------------

const monotonicMicros = (): bigint => process.hrtime.bigint() / 1000n

/** Starts a timed window; the returned function ends it and gives the elapsed seconds. */
function startTimer(label: string): () => number {
  const started = performance.now()
  const startedMicros = monotonicMicros()
  return () => {
    const seconds = (performance.now() - started) / 1000
    if (args.marks) log(`mark ${label} ${startedMicros} ${monotonicMicros()}`)
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

/**
 * The produce and fetch requests a remote window counts — HTTP requests, or calls on the
 * WebSocket data channel (/v1/rpc) — with the counter and the bytes metric of each.
 */
const ROUTES = [
  { name: 'http_produce', counter: 'weir_http_requests_total', label: 'route="/v1/produce"',
    bytes: 'weir_produce_bytes_total' },
  { name: 'http_fetch', counter: 'weir_http_requests_total', label: 'route="/v1/fetch"',
    bytes: 'weir_fetch_bytes_total' },
  { name: 'rpc_produce', counter: 'weir_rpc_calls_total', label: 'call="produce"',
    bytes: 'weir_produce_bytes_total' },
  { name: 'rpc_fetch', counter: 'weir_rpc_calls_total', label: 'call="fetch"',
    bytes: 'weir_fetch_bytes_total' },
] as const

/**
 * What a timed window cost: seconds, this process's CPU and, for a remote run, the server's CPU
 * and its request counters (from /metrics, read before and after the window, untimed).
 */
interface Window {
  readonly seconds: number
  readonly records: number
  readonly clientCpuMicros: number
  readonly serverCpuMicros?: number
  /** Requests answered per route name (ROUTES), all routes under 'all', and their bytes. */
  readonly requests?: Record<string, { count: number, bytes: number }>
  /** Batches the server refused (weir_produce_errors_total), e.g. OUT_OF_ORDER_SEQUENCE. */
  readonly produceErrors?: number
}

/** Times `body`; with a server, also its CPU and its requests. */
async function timed(label: string, records: number, server: ServerProcess | undefined,
  body: () => Promise<void>): Promise<Window> {
  const before = server === undefined ? undefined : await scrape(server.url)
  const serverCpu = await server?.cpu()
  collectGarbage()
  const cpu = process.cpuUsage()
  const stop = startTimer(label)
  await body()
  const seconds = stop()
  const clientCpuMicros = cpuTotal(process.cpuUsage(cpu))
  if (server === undefined || before === undefined || serverCpu === undefined) {
    return { seconds, records, clientCpuMicros }
  }
  const serverCpuMicros = cpuTotal(await server.cpu()) - cpuTotal(serverCpu)
  const after = await scrape(server.url)
  const delta = (name: string, labels: readonly string[] = []): number =>
    metricSum(after, name, labels) - metricSum(before, name, labels)
  const requests: Record<string, { count: number, bytes: number }> = {
    all: { count: delta('weir_http_requests_total') + delta('weir_rpc_calls_total'), bytes: 0 },
  }
  for (const { name, counter, label, bytes } of ROUTES) {
    requests[name] = { count: delta(counter, [label]), bytes: delta(bytes) }
  }
  const produceErrors = delta('weir_produce_errors_total')
  if (produceErrors > 0) {
    log(`${label}: the server refused ${produceErrors} batches: ${[...after]
      .filter(([key]) => key.startsWith('weir_produce_errors_total'))
      .map(([key, value]) => `${key.slice(key.indexOf('{'))} ${value - (before.get(key) ?? 0)}`)
      .join(', ')}`)
  }
  return { seconds, records, clientCpuMicros, serverCpuMicros, requests, produceErrors }
}

const rate = (window: Window): number => window.records / window.seconds

/**
 * Per-window figures beside the rate: CPU per record on each side; for each binary route with
 * requests in the window, requests/s, records and record-batch bytes per request.
 */
function windowFields(window: Window): Record<string, number> {
  const fields: Record<string, number> = {
    client_cpu_us_per_record: round(window.clientCpuMicros / window.records, 3),
  }
  if (window.serverCpuMicros !== undefined) {
    fields.server_cpu_us_per_record = round(window.serverCpuMicros / window.records, 3)
  }
  if (window.produceErrors !== undefined) fields.produce_errors = window.produceErrors
  if (window.requests !== undefined) {
    fields.requests_per_s = round(window.requests.all!.count / window.seconds)
    for (const { name } of ROUTES) {
      const { count, bytes } = window.requests[name]!
      if (count === 0) continue
      fields[`${name}_requests_per_s`] = round(count / window.seconds)
      fields[`${name}_records_per_request`] = round(window.records / count, 1)
      fields[`${name}_bytes_per_request`] = round(bytes / count)
    }
  }
  return fields
}

/** The median of each numeric field over several windows' fields. */
function medianFields(all: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const key of Object.keys(all[0] ?? {})) {
    const values = all.map(f => f[key]).filter((v): v is number => v !== undefined)
    out[key] = round(median(values), 3)
  }
  return out
}

function prefixed(prefix: string, fields: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [`${prefix}_${k}`, v]))
}

// --- produce -----------------------------------------------------------------------------------

/** Random 100-byte values, one pool for the whole run; records are views into it. */
const valuePool = randomBytes((runs('produce') || runs('consume') ? args.records : 1) * VALUE_BYTES)


let topicCounter = 0
const freshTopic = (name: string): string => `${name}-${topicCounter++}`

/**
 * One timed produce run into a fresh topic: embedded in a fresh directory (as bench:broker's
 * rounds), remote through a new connection to the run's server. One untimed record first
 * (producer id and topic metadata are set-up), then `records` records, timed until the last ack.
 */
async function produceRound(kind: Transport, server: ServerProcess, records: number):
Promise<Window> {
  const topic = freshTopic('produce')
  const run = (target: string): Promise<Window> => withClient(kind, target, topic, async weir => {
    const producer = weir.producer(throughputSettings)
    await producer.send({ topic, messages: [{ value: valuePool.subarray(0, VALUE_BYTES),
      partition: 0 }] })
    const window = await timed(`produce-${kind}`, records,
      kind === 'remote' ? server : undefined,
      () => produceAll(producer, topic, records, args, valuePool))
    const stored = await topicRecords(weir, topic)
    if (stored !== records + 1) throw new Error(`topic holds ${stored}, expected ${records + 1}`)
    if (kind === 'remote') await weir.admin().deleteTopics([topic])
    return window
  })
  return kind === 'embedded' ? scratch.inFreshDir('produce-embedded', run) : run(server.url)
}

async function producePhase(output: Record<string, unknown>): Promise<void> {
  const server = await serverProcess()
  log('produce: warm-up (untimed, 10% of the records, each transport)')
  const warmup = Math.max(args.sendRecords, Math.floor(args.records / 10))
  await produceRound('embedded', server, warmup)
  await produceRound('remote', server, warmup)
  const windows: Record<Transport, Window[]> = { embedded: [], remote: [] }
  const ratios: number[] = []
  for (let i = 0; i < args.rounds; i++) {
    const order: Transport[] = i % 2 === 0 ? ['embedded', 'remote'] : ['remote', 'embedded']
    for (const kind of order) {
      const window = await produceRound(kind, server, args.records)
      windows[kind].push(window)
      const fields = windowFields(window)
      log(`round ${i + 1}: produce ${kind}: ${window.records} records in `
        + `${window.seconds.toFixed(3)} s = ${format(rate(window))} msgs/s; `
        + Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(', '))
    }
    ratios.push(rate(windows.remote[i]!) / rate(windows.embedded[i]!))
    log(`round ${i + 1}: remote / embedded = ${ratios[i]!.toFixed(3)}`)
  }
  const embedded = median(windows.embedded.map(rate))
  const remote = median(windows.remote.map(rate))
  output.embedded_produce_msgs_per_s = round(embedded)
  output.remote_produce_msgs_per_s = round(remote)
  output.remote_vs_embedded_ratio = round(remote / embedded, 3)
  output.remote_vs_embedded_ratio_target_met = remote / embedded >= RATIO_TARGET
  output.embedded_produce_msgs_per_s_per_round = windows.embedded.map(w => round(rate(w)))
  output.remote_produce_msgs_per_s_per_round = windows.remote.map(w => round(rate(w)))
  output.remote_vs_embedded_ratio_per_round = ratios.map(r => round(r, 3))
  output.remote_vs_embedded_ratio_median_of_rounds = round(median(ratios), 3)
  Object.assign(output,
    prefixed('embedded_produce', medianFields(windows.embedded.map(windowFields))),
    prefixed('remote_produce', medianFields(windows.remote.map(windowFields))))
  log(`produce: embedded ${format(embedded)} msgs/s, remote ${format(remote)} msgs/s `
    + `(medians), ratio ${(remote / embedded).toFixed(3)} (target ≥ ${RATIO_TARGET})`)
}

// --- consume -----------------------------------------------------------------------------------

/** Reads batches until `records` records arrived; gives the time of the first batch (ms). */
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

/**
 * Fills a topic once (untimed, the produce drive), then each round a consumer of a new group
 * (`autoOffsetReset: 'earliest'`, auto commit on) reads it all, timed from subscribe().
 */
async function consumeRounds(kind: Transport, target: string, server: ServerProcess | undefined):
Promise<{ windows: Window[], firstBatchMs: number[] }> {
  const topic = freshTopic('consume')
  return withClient(kind, target, topic, async weir => {
    log(`consume ${kind}: filling ${format(args.records)} records (untimed)`)
    await produceAll(weir.producer(throughputSettings), topic, args.records, args,
      valuePool)
    const windows: Window[] = []
    const firstBatchMs: number[] = []
    for (let i = 0; i < args.consumeRounds; i++) {
      const consumer = weir.consumer({ groupId: `bench-consume-${i}`,
        autoOffsetReset: 'earliest' })
      let started = Number.NaN
      let firstMs = Number.NaN
      const window = await timed(`consume-${kind}`, args.records, server, async () => {
        started = performance.now()
        consumer.subscribe({ topics: [topic] })
        firstMs = (await consumeAll(consumer, args.records)).firstMs
      })
      await consumer.close() // commits; not timed
      windows.push(window)
      firstBatchMs.push(firstMs - started)
      log(`round ${i + 1}: consume ${kind}: ${window.records} records in `
        + `${window.seconds.toFixed(3)} s = ${format(rate(window))} msgs/s (subscribe → first `
        + `batch ${(firstMs - started).toFixed(1)} ms, included); `
        + Object.entries(windowFields(window)).map(([k, v]) => `${k} ${v}`).join(', '))
    }
    if (kind === 'remote') await weir.admin().deleteTopics([topic])
    return { windows, firstBatchMs }
  })
}

async function consumePhase(output: Record<string, unknown>): Promise<void> {
  const server = await serverProcess()
  const remote = await consumeRounds('remote', server.url, server)
  const embedded = await scratch.inFreshDir('consume-embedded',
    dir => consumeRounds('embedded', dir, undefined))
  const remoteRate = median(remote.windows.map(rate))
  const embeddedRate = median(embedded.windows.map(rate))
  output.remote_consume_msgs_per_s = round(remoteRate)
  output.remote_consume_msgs_per_s_per_round = remote.windows.map(w => round(rate(w)))
  output.remote_consume_first_batch_ms = round(median(remote.firstBatchMs), 1)
  Object.assign(output, prefixed('remote_consume', medianFields(remote.windows.map(windowFields))))
  output.embedded_consume_msgs_per_s = round(embeddedRate)
  output.embedded_consume_msgs_per_s_per_round = embedded.windows.map(w => round(rate(w)))
  output.embedded_consume_first_batch_ms = round(median(embedded.firstBatchMs), 1)
  Object.assign(output,
    prefixed('embedded_consume', medianFields(embedded.windows.map(windowFields))))
  output.remote_vs_embedded_consume_ratio = round(remoteRate / embeddedRate, 3)
  log(`consume: remote ${format(remoteRate)} msgs/s, embedded ${format(embeddedRate)} msgs/s `
    + '(medians)')
}

// --- latency -----------------------------------------------------------------------------------


interface LatencyRound {
  readonly rate: number
  readonly sends: number
  readonly sorted: Float64Array
  readonly window: Window
}

/** bench:broker's latency phase on a fresh topic: 1 s warm-up, then `latencySeconds` timed. */
async function measureLatency(weir: Weir, topic: string, group: string,
  server: ServerProcess | undefined): Promise<LatencyRound> {
  const warmup = args.latencyRate * LATENCY_WARMUP_SECONDS
  const count = args.latencyRate * args.latencySeconds
  const consumer = weir.consumer({ groupId: group, autoOffsetReset: 'earliest', maxWaitMs: 100 })
  consumer.subscribe({ topics: [topic] })
  const reader = readLatencies(consumer, warmup, count)
  await until('the latency consumer is assigned every partition',
    () => consumer.assignment().length === args.partitions)
  const producer = weir.producer(latencySettings)
  const failures: unknown[] = []
  await paced(producer, topic, args.partitions, 0, warmup, args.latencyRate, failures)
  await until('the warm-up records are consumed', () => reader.received() >= warmup)
  let run: Paced | undefined
  const window = await timed(`latency-${server === undefined ? 'embedded' : 'remote'}`, count,
    server, async () => {
      run = await paced(producer, topic, args.partitions, warmup, count, args.latencyRate,
        failures)
    })
  await producer.flush()
  if (failures.length > 0) throw failures[0]
  await Promise.race([reader.done, until('every timed record is consumed',
    () => reader.received() >= warmup + count)])
  await consumer.close()
  const missing = reader.latencies.filter(Number.isNaN).length
  if (missing > 0) throw new Error(`${missing} timed records were not consumed`)
  return { rate: count / run!.seconds, sends: run!.sends, sorted: reader.latencies.sort(), window }
}

async function latencyRounds(kind: Transport, target: string, server: ServerProcess | undefined):
Promise<LatencyRound[]> {
  const rounds: LatencyRound[] = []
  for (let i = 0; i < args.latencyRounds; i++) {
    const topic = freshTopic('latency')
    log(`latency ${kind} round ${i + 1}: ${LATENCY_WARMUP_SECONDS} s warm-up, then `
      + `${args.latencySeconds} s timed at ${args.latencyRate} msgs/s`)
    const result = await withClient(kind, target, topic, async weir => {
      const measured = await measureLatency(weir, topic, `bench-latency-${i}`, server)
      if (kind === 'remote') await weir.admin().deleteTopics([topic])
      return measured
    })
    const [p50, p99, p999] = [0.5, 0.99, 0.999].map(p => percentile(result.sorted, p))
    log(`latency ${kind} round ${i + 1}: ${result.sorted.length} records at `
      + `${format(result.rate)} msgs/s in ${result.sends} sends: p50 ${p50!.toFixed(2)} ms, `
      + `p99 ${p99!.toFixed(2)} ms, p99.9 ${p999!.toFixed(2)} ms, max `
      + `${result.sorted[result.sorted.length - 1]!.toFixed(2)} ms; `
      + Object.entries(windowFields(result.window)).map(([k, v]) => `${k} ${v}`).join(', '))
    rounds.push(result)
  }
  return rounds
}

function latencyFields(prefix: string, rounds: readonly LatencyRound[]): Record<string, unknown> {
  const at = (fraction: number): number[] => rounds.map(r => percentile(r.sorted, fraction))
  const max = rounds.map(r => r.sorted[r.sorted.length - 1]!)
  const out: Record<string, unknown> = {
    [`${prefix}_p50_ms`]: round(median(at(0.5)), 3),
    [`${prefix}_p99_ms`]: round(median(at(0.99)), 3),
    [`${prefix}_p999_ms`]: round(median(at(0.999)), 3),
    [`${prefix}_max_ms`]: round(median(max), 3),
    [`${prefix}_p50_ms_per_round`]: at(0.5).map(v => round(v, 3)),
    [`${prefix}_p99_ms_per_round`]: at(0.99).map(v => round(v, 3)),
    [`${prefix}_p999_ms_per_round`]: at(0.999).map(v => round(v, 3)),
    [`${prefix}_max_ms_per_round`]: max.map(v => round(v, 3)),
    [`${prefix}_rate_msgs_per_s`]: round(median(rounds.map(r => r.rate))),
    [`${prefix}_records`]: rounds[0]?.sorted.length ?? 0,
    [`${prefix}_sends`]: round(median(rounds.map(r => r.sends))),
  }
  return { ...out, ...prefixed(prefix, medianFields(rounds.map(r => windowFields(r.window)))) }
}

async function latencyPhase(output: Record<string, unknown>): Promise<void> {
  const server = await serverProcess()
  const rounds = await latencyRounds('remote', server.url, server)
  Object.assign(output, latencyFields('latency', rounds))
  output.latency_p99_target_met = (output.latency_p99_ms as number) < P99_TARGET_MS
  log(`latency remote (median of ${rounds.length}): p50 ${String(output.latency_p50_ms)} ms, `
    + `p99 ${String(output.latency_p99_ms)} ms (target < ${P99_TARGET_MS} ms)`)
}

async function embeddedLatencyPhase(output: Record<string, unknown>): Promise<void> {
  const rounds = await scratch.inFreshDir('latency-embedded',
    dir => latencyRounds('embedded', dir, undefined))
  Object.assign(output, latencyFields('embedded_latency', rounds))
}

// --- main --------------------------------------------------------------------------------------

const output: Record<string, unknown> = {}
const loadAverage = [round(os.loadavg()[0]!, 2)]
log(`bench directory: ${scratch.description}`)
log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} cpus, load `
  + `${loadAverage[0]}; ${format(args.records)} records × ${VALUE_BYTES} B, ${args.partitions} `
  + `partitions, sends of ${args.sendRecords} × ${args.sendsInFlight} in flight, lingerMs `
  + `${args.lingerMs}, batchBytes ${args.batchBytes}, ${args.idempotent ? 'idempotent' : 'plain'}`)

try {
  if (runs('produce')) await producePhase(output)
  collectGarbage()
  if (runs('consume')) await consumePhase(output)
  collectGarbage()
  if (runs('latency')) await latencyPhase(output)
  collectGarbage()
  if (runs('latency-embedded')) await embeddedLatencyPhase(output)
} finally {
  try {
    if (sharedServer !== undefined) await (await sharedServer).close()
  } finally {
    await scratch.remove()
  }
}
loadAverage.push(round(os.loadavg()[0]!, 2))

const result = {
  bench: 'server',
  records: args.records,
  value_bytes: VALUE_BYTES,
  ...output,
  idempotent: args.idempotent,
  partitions: args.partitions,
  send_records: args.sendRecords,
  sends_in_flight: args.sendsInFlight,
  linger_ms: args.lingerMs,
  batch_bytes: args.batchBytes,
  rounds: args.rounds,
  consume_rounds: args.consumeRounds,
  latency_rounds: args.latencyRounds,
  latency_seconds: args.latencySeconds,
  latency_target_rate_msgs_per_s: args.latencyRate,
  data_channel: args.dataChannel,
  transport: 'loopback, server in a child process',
  flush: 'always',
  load_average: loadAverage,
  dir: scratch.root,
  ...machineFields(),
}
process.stdout.write(`${JSON.stringify(result)}\n`)
