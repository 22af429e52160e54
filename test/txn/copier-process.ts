/**
 * The transactional copier the crash test kills (Kafka's TransactionalMessageCopier, from its
 * transactions system test). Run as
 *
 *   node --import tsx test/txn/copier-process.ts <dir> [--commit-interval-ms 100]
 *     [--txn-records-max N] [--max-bytes-per-partition B] [--wait-for-go]
 *
 * It opens Weir embedded on <dir> (so this process is the broker too: killing it is a broker
 * crash), initialises the transactional id 'copier' (fencing a killed predecessor and aborting
 * what it left open), then consumes the input topic read_committed in group 'copier' and copies
 * each record to the same partition of the output topic, in transactions that also carry the
 * consumed offsets (sendOffsetsToTransaction with the consumer's groupMetadata()). A transaction
 * commits after `commit-interval-ms` or `txn-records-max` records, whichever comes first.
 *
 * It stops by itself once the group's committed offsets reach the input's end offsets, and
 * stops gracefully on SIGTERM (the transaction in hand commits, then Weir closes).
 *
 * Protocol on stdout, one JSON object a line, each written after the event happened (a pipe is
 * written synchronously on Linux, so a SIGKILL never leaves a whole line unsent):
 *
 *   {"event":"ready"}                        (--wait-for-go only) loaded; waits for `go` on stdin
 *   {"event":"start"}                        about to open Weir (and recover the directory)
 *   {"event":"open","copied":C,"total":T}    recovered and initialised; C records copied so far
 *   {"event":"commit","copied":C,"records":R}  a transaction of R records committed
 *   {"event":"abort","copied":C,"error":E}   a transaction failed and was aborted; rewound
 *   {"event":"done","copied":C} / {"event":"stopped","copied":C}   closed cleanly, exits 0
 *
 * An unexpected error is printed to stderr and the process exits 2.
 */
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'
import type { Consumer } from '../../src/client/consumer.ts'
import type { Producer } from '../../src/client/producer.ts'
import { Weir } from '../../src/client/weir.ts'
import { WeirError } from '../../src/errors.ts'
import {
  COPIER_GROUP_ID, COPIER_INPUT_TOPIC, COPIER_OUTPUT_TOPIC, COPIER_TRANSACTIONAL_ID,
} from '../helpers/copier.ts'
import { waitForGo } from '../helpers/child-process.ts'

/** Aborted transactions in a row before the copier gives up (each one is reported). */
const CONSECUTIVE_ABORTS_MAX = 10

interface Options {
  readonly dir: string
  readonly commitIntervalMs: number
  readonly txnRecordsMax: number
  readonly maxBytesPerPartition: number
  readonly waitForGo: boolean
}

type Offsets = Map<number, number>

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

const sum = (offsets: Offsets): number => [...offsets.values()].reduce((a, b) => a + b, 0)

/** Every partition's offset is at or past its end offset. */
const reached = (positions: Offsets, ends: Offsets): boolean =>
  [...ends].every(([partition, end]) => (positions.get(partition) ?? 0) >= end)

function readOptions(): Options {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: {
    'commit-interval-ms': { type: 'string', default: '100' },
    'txn-records-max': { type: 'string', default: '1000000' },
    'max-bytes-per-partition': { type: 'string', default: String(1024 * 1024) },
    'wait-for-go': { type: 'boolean', default: false },
  } })
  const positive = (name: string, text: string): number => {
    const value = Number(text)
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be ≥ 1`)
    return value
  }
  const dir = positionals[0]
  if (dir === undefined || positionals.length !== 1) throw new Error('usage: <dir> [options]')
  return { dir, waitForGo: values['wait-for-go'],
    commitIntervalMs: positive('commit-interval-ms', values['commit-interval-ms']),
    txnRecordsMax: positive('txn-records-max', values['txn-records-max']),
    maxBytesPerPartition: positive('max-bytes-per-partition',
      values['max-bytes-per-partition']) }
}

/** The input's end offsets and the group's committed offsets, by partition. */
async function progress(weir: Weir): Promise<{ ends: Offsets, committed: Offsets }> {
  const [input] = await weir.admin().describeTopics([COPIER_INPUT_TOPIC])
  if (input === undefined) throw new Error(`topic ${COPIER_INPUT_TOPIC} is missing`)
  const ends: Offsets = new Map(input.partitionStates.map(s => [s.partition, s.highWatermark]))
  const committed: Offsets = new Map()
  for (const entry of await weir.admin().fetchOffsets(COPIER_GROUP_ID)) {
    if (entry.topic === COPIER_INPUT_TOPIC && entry.offset >= 0) {
      committed.set(entry.partition, entry.offset)
    }
  }
  return { ends, committed }
}

interface CopyState {
  readonly options: Options
  readonly producer: Producer
  readonly consumer: Consumer
  readonly ends: Offsets
  /** The group's committed offsets as of the last commit. */
  readonly committed: Offsets
  stopping: boolean
}

/**
 * One transaction: pulls batches until the interval or record bound (or the end of the input),
 * sends each batch without waiting, then sends the offsets and commits.
 * @returns the offsets the transaction committed (by partition) and how many records it copied
 */
async function copyOne(state: CopyState, positions: Offsets):
Promise<{ offsets: Offsets, records: number }> {
  const { producer, consumer, options } = state
  producer.beginTransaction()
  const started = performance.now()
  const sends: Array<Promise<unknown>> = []
  const offsets: Offsets = new Map()
  let records = 0
  while (!state.stopping && records < options.txnRecordsMax
    && performance.now() - started < options.commitIntervalMs && !reached(positions, state.ends)) {
    const result = await consumer.next()
    if (result.done === true) throw new Error('the consumer closed while copying')
    const batch = result.value
    if (batch.records.length > 0) {
      sends.push(producer.send({ topic: COPIER_OUTPUT_TOPIC, messages: batch.records.map(
        record => ({ key: record.key, value: record.value, partition: batch.partition })) }))
    }
    offsets.set(batch.partition, batch.nextOffset)
    positions.set(batch.partition, batch.nextOffset)
    records += batch.records.length
  }
  await Promise.all(sends)
  if (offsets.size > 0) {
    await producer.sendOffsetsToTransaction([...offsets].map(([partition, offset]) =>
      ({ topic: COPIER_INPUT_TOPIC, partition, offset })), consumer.groupMetadata())
  }
  await producer.commitTransaction()
  return { offsets, records }
}

/** Aborts after a failed transaction and moves the consumer back to the committed offsets. */
async function abortAndRewind(state: CopyState, positions: Offsets, error: unknown):
Promise<void> {
  await state.producer.abortTransaction()
  for (const tp of state.consumer.assignment()) {
    const offset = state.committed.get(tp.partition) ?? 0
    state.consumer.seek({ ...tp, offset })
  }
  positions.clear()
  for (const [partition, offset] of state.committed) positions.set(partition, offset)
  emit({ event: 'abort', copied: sum(state.committed),
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
}

/** Copies until the committed offsets reach the input's end, or a SIGTERM asks to stop. */
async function copyAll(state: CopyState): Promise<void> {
  const positions: Offsets = new Map(state.committed)
  let aborts = 0
  while (!state.stopping && !reached(state.committed, state.ends)) {
    try {
      const { offsets, records } = await copyOne(state, positions)
      for (const [partition, offset] of offsets) state.committed.set(partition, offset)
      emit({ event: 'commit', copied: sum(state.committed), records })
      aborts = 0
    } catch (error) {
      const fatal = WeirError.is(error, 'PRODUCER_FENCED') || !WeirError.is(error)
      if (fatal || ++aborts > CONSECUTIVE_ABORTS_MAX) throw error
      await abortAndRewind(state, positions, error)
    }
  }
}

async function main(): Promise<void> {
  const options = readOptions()
  if (options.waitForGo) {
    emit({ event: 'ready' })
    await waitForGo()
  }
  let stopRequested = false
  const shared: { state?: CopyState } = {}
  process.on('SIGTERM', () => {
    stopRequested = true
    if (shared.state !== undefined) shared.state.stopping = true
  })
  emit({ event: 'start' })
  const weir = await Weir.open({ dir: options.dir })
  const producer = weir.producer({ transactionalId: COPIER_TRANSACTIONAL_ID })
  // Before the consumer asks for committed offsets: this aborts (or completes) whatever a killed
  // predecessor left open, so the group's offsets are stable and its output decided.
  await producer.initTransactions()
  const { ends, committed } = await progress(weir)
  emit({ event: 'open', copied: sum(committed), total: sum(ends) })
  const consumer = weir.consumer({ groupId: COPIER_GROUP_ID, autoOffsetReset: 'earliest',
    isolationLevel: 'read_committed', autoCommit: false,
    maxBytesPerPartition: options.maxBytesPerPartition })
  consumer.subscribe({ topics: [COPIER_INPUT_TOPIC] })
  const state: CopyState = { options, producer, consumer, ends, committed,
    stopping: stopRequested }
  shared.state = state
  await copyAll(state)
  await weir.close()
  emit({ event: state.stopping ? 'stopped' : 'done', copied: sum(committed) })
}

main().catch((error: unknown) => {
  process.stderr.write(`copier: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(2)
})
