/**
 * Exactly-once benchmark: what transactions cost a copy-consume-produce loop (the target
 * is under 10 % of throughput). Weir embedded in this process, driven only through the public
 * client, copies `records` 100-byte records from a pre-filled input topic to an output topic,
 * partition to partition, in one of two modes with the same loop:
 *
 *   transactional   a transactional producer; every `commit-interval-ms` the loop awaits the
 *                   sends together with sendOffsetsToTransaction, then commitTransaction
 *   at-least-once   an idempotent producer; every `commit-interval-ms` the loop awaits the
 *                   sends, then the consumer commits the same offsets (consumer.commit)
 *
 * In both, each fetched batch is sent whole without awaiting it (pipelined), the consumer is the
 * same (group, read_committed, auto commit off) and so are the producer settings apart from the
 * transactional id. Rounds alternate the modes (the order flips every round, so drift of a
 * shared VM's disk does not favour one), each in a fresh directory whose input is filled untimed
 * just before; medians are reported. Progress goes to stderr; the last stdout line is one JSON
 * object (see README.md).
 *
 *   npm run bench:txn -- [--records N] [--rounds N] [--commit-interval-ms N] [--partitions N]
 *                        [--batch-bytes N] [--dir PATH]
 */
import {
  benchLogger, collectGarbage, machineFields, median, openBenchDirectory, readFlags, round,
} from './bench-common.ts'
import { randomBytes } from 'node:crypto'
import * as os from 'node:os'
import { performance } from 'node:perf_hooks'
import type { Consumer } from '../src/client/consumer.ts'
import type { Message, Producer } from '../src/client/producer.ts'
import type { PartitionOffset } from '../src/client/transport/transport.ts'
import { Weir } from '../src/client/weir.ts'

const INPUT = 'copy-input'
const OUTPUT = 'copy-output'
const GROUP = 'bench-copier'
const VALUE_BYTES = 100
const FILL_SEND_RECORDS = 1000
const FILL_SENDS_IN_FLIGHT = 16
const MiB = 1024 * 1024
/** Bound on the wait for the last transaction's markers after a round. */
const STABLE_WAIT_MS_MAX = 10_000

type Mode = 'transactional' | 'at-least-once'

interface Args {
  dir: string | undefined
  records: number
  rounds: number
  commitIntervalMs: number
  partitions: number
  batchBytes: number
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { dir: undefined, records: 500_000,
    rounds: Number(process.env.WEIR_BENCH_ROUNDS ?? 3), commitIntervalMs: 100, partitions: 4,
    batchBytes: MiB }
  readFlags(argv, ({ flag, value, int }) => {
    switch (flag) {
    case '--dir': args.dir = value(); break
    case '--records': args.records = int(); break
    case '--rounds': args.rounds = int(); break
    case '--commit-interval-ms': args.commitIntervalMs = int(); break
    case '--partitions': args.partitions = int(); break
    case '--batch-bytes': args.batchBytes = int(); break
    default: throw new Error(`unknown argument ${flag}`)
    }
  })
  return args
}

const args = parseArgs(process.argv.slice(2))
const log = benchLogger('txn-bench')
const format = (n: number): string => Math.round(n).toLocaleString('en-US')
const scratch = await openBenchDirectory('txn-bench', args.dir)

/** Opens Weir in a fresh directory with the input and output topics; removes it after. */
function withWeir<T>(name: string, body: (weir: Weir) => Promise<T>): Promise<T> {
  return scratch.inFreshDir(name, async dir => {
    const weir = await Weir.open({ dir })
    try {
      await weir.admin().createTopics([{ topic: INPUT, partitions: args.partitions },
        { topic: OUTPUT, partitions: args.partitions }])
      return await body(weir)
    } finally {
      await weir.close()
    }
  })
}

/** Random 100-byte values, one pool for the whole run; input records are views into it. */
const valuePool = randomBytes(args.records * VALUE_BYTES)

/** Fills the input with `records` records, round-robin by send over the partitions (untimed). */
async function fillInput(weir: Weir, records: number): Promise<void> {
  const producer = weir.producer({ batchBytes: args.batchBytes })
  const sends = Math.ceil(records / FILL_SEND_RECORDS)
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < sends) {
      const index = next++
      const messages: Message[] = []
      for (let i = index * FILL_SEND_RECORDS; i < Math.min(records, (index + 1)
        * FILL_SEND_RECORDS); i++) {
        messages.push({ value: valuePool.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES),
          partition: index % args.partitions })
      }
      await producer.send({ topic: INPUT, messages })
    }
  }
  await Promise.all(Array.from({ length: FILL_SENDS_IN_FLIGHT }, loop))
  await producer.close()
}

interface CopyResult {
  readonly seconds: number
  readonly commits: number
  /** Time spent awaiting sends and then the commit, at the commit points. */
  readonly commitWaitSeconds: number
}

/**
 * The loop both modes share: pull batches for `commitIntervalMs`, sending each whole without
 * awaiting it; then await the sends and commit the offsets after the last batch of each
 * partition, in the transaction or through the consumer.
 */
async function copyLoop(mode: Mode, producer: Producer, consumer: Consumer, records: number):
Promise<Omit<CopyResult, 'seconds'>> {
  let copied = 0
  let commits = 0
  let commitWaitMs = 0
  while (copied < records) {
    if (mode === 'transactional') producer.beginTransaction()
    const started = performance.now()
    const sends: Array<Promise<unknown>> = []
    const offsets = new Map<number, number>()
    while (copied < records && performance.now() - started < args.commitIntervalMs) {
      const result = await consumer.next()
      if (result.done === true) throw new Error('the consumer closed while copying')
      const batch = result.value
      sends.push(producer.send({ topic: OUTPUT, messages: batch.records.map(record =>
        ({ key: record.key, value: record.value, partition: batch.partition })) }))
      offsets.set(batch.partition, batch.nextOffset)
      copied += batch.records.length
    }
    const committing = performance.now()
    const entries: PartitionOffset[] = [...offsets].map(([partition, offset]) =>
      ({ topic: INPUT, partition, offset }))
    if (mode === 'transactional') {
      // Each mode commits the way it is correct to: offsets join the transaction while its
      // sends are still in flight (they count only if everything commits), whereas a plain
      // offset commit must wait until the records it covers are acknowledged.
      await Promise.all([...sends, producer.sendOffsetsToTransaction(entries,
        consumer.groupMetadata())])
      await producer.commitTransaction()
    } else {
      await Promise.all(sends)
      await consumer.commit(entries)
    }
    commitWaitMs += performance.now() - committing
    commits++
  }
  if (copied !== records) throw new Error(`copied ${copied} records, expected ${records}`)
  return { commits, commitWaitSeconds: commitWaitMs / 1000 }
}

/** Checks the round's end state: offsets at the input's end, no open transaction, no losses. */
async function checkRound(weir: Weir, mode: Mode, records: number): Promise<void> {
  const partitions = Array.from({ length: args.partitions }, (_, partition) => partition)
  const ends = async (topic: string, isolationLevel: 'read_committed' | 'read_uncommitted'):
  Promise<number[]> => (await weir.transport.listOffsets(partitions.map(partition =>
    ({ topic, partition, spec: 'latest' as const, isolationLevel }))))
    .sort((a, b) => a.partition - b.partition).map(offset => offset.offset)
  const inputEnds = await ends(INPUT, 'read_uncommitted')
  // commitTransaction resolves once the decision is durable; its markers (and so the offsets
  // and the last stable offset) land just after. Wait for them, briefly.
  let committed: number[] = []
  let stable: number[] = []
  let high: number[] = []
  const started = performance.now()
  for (let first = true; ; first = false) {
    // Never a tight loop: these calls resolve without I/O and would starve the marker writes.
    if (!first) await new Promise(resolve => setTimeout(resolve, 10))
    committed = (await weir.admin().fetchOffsets(GROUP)).filter(entry => entry.topic === INPUT)
      .sort((a, b) => a.partition - b.partition).map(entry => entry.offset)
    stable = await ends(OUTPUT, 'read_committed')
    high = await ends(OUTPUT, 'read_uncommitted')
    const settled = String(committed) === String(inputEnds) && String(stable) === String(high)
    if (settled || performance.now() - started > STABLE_WAIT_MS_MAX) break
  }
  if (String(committed) !== String(inputEnds)) {
    throw new Error(`${mode}: committed ${committed}, input ends ${inputEnds}`)
  }
  const total = high.reduce((a, b) => a + b, 0)
  if (String(stable) !== String(high)) {
    throw new Error(`${mode}: output LSO ${stable} ≠ high watermark ${high}`)
  }
  // Transactional output also holds one commit marker per partition per transaction.
  if (mode === 'at-least-once' ? total !== records : total < records) {
    throw new Error(`${mode}: output holds ${total} offsets for ${records} records`)
  }
}

/** One copy of `records` records in a fresh directory; the fill and set-up are not timed. */
function copyRound(mode: Mode, records: number): Promise<CopyResult> {
  return withWeir(mode, async weir => {
    await fillInput(weir, records)
    const producer = weir.producer({ batchBytes: args.batchBytes,
      ...(mode === 'transactional' ? { transactionalId: 'bench-copier' } : {}) })
    if (mode === 'transactional') await producer.initTransactions()
    const consumer = weir.consumer({ groupId: GROUP, autoOffsetReset: 'earliest',
      autoCommit: false, isolationLevel: 'read_committed' })
    collectGarbage()
    const started = performance.now()
    consumer.subscribe({ topics: [INPUT] })
    const result = await copyLoop(mode, producer, consumer, records)
    const seconds = (performance.now() - started) / 1000
    await checkRound(weir, mode, records)
    return { ...result, seconds }
  })
}

const COMMIT_COST_ITERATIONS = 200

/**
 * What one commit point costs apart from the data: the median time of a tiny cycle — one record
 * to each partition and the offsets of each — as a transaction (begin, send, sendOffsets,
 * commit) and as at-least-once (send, await, commit offsets). Far steadier than the throughput
 * ratio on a shared machine, and divided by the commit interval it estimates the overhead.
 */
function commitPointMs(mode: Mode): Promise<number> {
  return withWeir(`cost-${mode}`, async weir => {
    const producer = weir.producer(mode === 'transactional'
      ? { transactionalId: 'bench-cost' } : {})
    if (mode === 'transactional') await producer.initTransactions()
    const partitions = Array.from({ length: args.partitions }, (_, partition) => partition)
    const times: number[] = []
    for (let i = 0; i < COMMIT_COST_ITERATIONS; i++) {
      const messages = partitions.map(partition => ({ value: 'x', partition }))
      const offsets = partitions.map(partition => ({ topic: INPUT, partition, offset: i + 1 }))
      const started = performance.now()
      if (mode === 'transactional') {
        producer.beginTransaction()
        await Promise.all([producer.send({ topic: OUTPUT, messages }),
          producer.sendOffsetsToTransaction(offsets, { groupId: 'bench-cost' })])
        await producer.commitTransaction()
      } else {
        await producer.send({ topic: OUTPUT, messages })
        await weir.transport.commitOffsets({ groupId: 'bench-cost', generationId: -1,
          memberId: '', offsets })
      }
      times.push(performance.now() - started)
    }
    return median(times)
  })
}

const output: Record<string, unknown> = {}
log(`bench directory: ${scratch.description}`)
log(`node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} cpus; `
  + `${format(args.records)} records × ${VALUE_BYTES} B, ${args.partitions} partitions, commit `
  + `every ${args.commitIntervalMs} ms, batchBytes ${args.batchBytes}`)

const rates: Record<Mode, number[]> = { 'transactional': [], 'at-least-once': [] }
const commits: Record<Mode, number[]> = { 'transactional': [], 'at-least-once': [] }
const commitWaitShares: Record<Mode, number[]> = { 'transactional': [], 'at-least-once': [] }
try {
  log('warm-up (untimed, 10% of the records, each mode)')
  const warmup = Math.max(FILL_SEND_RECORDS, Math.floor(args.records / 10))
  await copyRound('transactional', warmup)
  await copyRound('at-least-once', warmup)
  const transactionalCommitMs = await commitPointMs('transactional')
  const atLeastOnceCommitMs = await commitPointMs('at-least-once')
  output.transactional_commit_point_ms = round(transactionalCommitMs, 3)
  output.at_least_once_commit_point_ms = round(atLeastOnceCommitMs, 3)
  output.estimated_overhead_pct = round(
    100 * (transactionalCommitMs - atLeastOnceCommitMs) / args.commitIntervalMs, 2)
  log(`commit point alone: transactional ${transactionalCommitMs.toFixed(2)} ms, at-least-once `
    + `${atLeastOnceCommitMs.toFixed(2)} ms`)
  for (let i = 0; i < args.rounds; i++) {
    const order: Mode[] = i % 2 === 0 ? ['transactional', 'at-least-once']
      : ['at-least-once', 'transactional']
    for (const mode of order) {
      const result = await copyRound(mode, args.records)
      const rate = args.records / result.seconds
      rates[mode].push(rate)
      commits[mode].push(result.commits)
      commitWaitShares[mode].push(result.commitWaitSeconds / result.seconds)
      log(`round ${i + 1}: ${mode}: ${format(args.records)} records in `
        + `${result.seconds.toFixed(3)} s = ${format(rate)} msgs/s, ${result.commits} commits, `
        + `${(100 * result.commitWaitSeconds / result.seconds).toFixed(1)}% of the time at `
        + 'commit points')
    }
  }
} finally {
  await scratch.remove()
}

const transactional = median(rates.transactional)
const atLeastOnce = median(rates['at-least-once'])
const ratio = transactional / atLeastOnce
output.transactional_msgs_per_s = round(transactional)
output.at_least_once_msgs_per_s = round(atLeastOnce)
output.ratio = round(ratio, 4)
output.overhead_pct = round((1 - ratio) * 100, 2)
output.transactional_msgs_per_s_per_round = rates.transactional.map(r => round(r))
output.at_least_once_msgs_per_s_per_round = rates['at-least-once'].map(r => round(r))
const ratios = rates.transactional.map((r, i) => r / rates['at-least-once'][i]!)
output.ratio_per_round = ratios.map(r => round(r, 4))
output.ratio_median_of_rounds = round(median(ratios), 4)
output.transactional_commits_per_round = commits.transactional
output.at_least_once_commits_per_round = commits['at-least-once']
output.transactional_commit_wait_share = round(median(commitWaitShares.transactional), 4)
output.at_least_once_commit_wait_share = round(median(commitWaitShares['at-least-once']), 4)
log(`transactional ${format(transactional)} msgs/s, at-least-once ${format(atLeastOnce)} msgs/s `
  + `(medians): ratio ${ratio.toFixed(3)}, overhead ${((1 - ratio) * 100).toFixed(1)}%`)

const result = {
  bench: 'txn',
  records: args.records,
  value_bytes: VALUE_BYTES,
  ...output,
  commit_interval_ms: args.commitIntervalMs,
  partitions: args.partitions,
  batch_bytes: args.batchBytes,
  rounds: args.rounds,
  isolation_level: 'read_committed',
  flush: 'always',
  dir: scratch.root,
  ...machineFields(),
}
process.stdout.write(`${JSON.stringify(result)}\n`)
