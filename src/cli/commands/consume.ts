/**
 * `weir consume <topic>`: prints records as they arrive, each value's bytes followed by '\n' (a
 * null value prints as an empty line), or with `--json` one JSON object per line.
 *
 * Without `--group` it reads every partition with a group-less consumer (`assign()`), from the
 * end, or from the log start with `--from-beginning`. A consumer rather than the WebSocket
 * `streamFetch`: the same code then works on `--dir` and `--url`, and the consumer already does
 * what a reader must (read_committed filtering of aborted transactions, skipping markers, resets
 * after OFFSET_OUT_OF_RANGE); the long-poll fetch costs one request per poll, which a terminal
 * reader does not notice. With `--group G` it joins G, starts from G's committed offsets (where
 * there are none: end, or log start with --from-beginning) and commits after each batch it has
 * printed, exactly up to the last record printed (so `--max N` leaves the rest for the next run).
 *
 * Stopping: Ctrl-C or SIGTERM (exit 0); `--max N` records; `--to-end`: once every partition read
 * reaches the end it had when the command started (its last stable offset under read_committed,
 * its high watermark under read_uncommitted), printing nothing at or past that end; with --group,
 * the partitions assigned to this member. `--timeout-ms T`: after T ms without a record. A closed stdout (`| head`) also stops it.
 */
import { isUtf8 } from 'node:buffer'
import type { ConsumedRecord } from '../../client/fetcher.ts'
import type { Consumer } from '../../client/consumer.ts'
import type { Weir } from '../../client/weir.ts'
import type { TopicPartition } from '../../group/assignor.ts'
import { WeirError } from '../../errors.ts'
import { systemScheduler } from '../../util/clock.ts'
import {
  type Command, EXIT_OK, firstSignal, type Parsed, UsageError, writeOut,
} from '../command.ts'
import { connectionHelp, connectionOptions, withConnection } from '../connection.ts'

const NEWLINE = Buffer.from('\n')
const CHECK_MS = 50
/** Long-running: a restarting server is waited for this long. */
const RECONNECT_TIMEOUT_MS = 30_000
const REBALANCED = ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID'] as const

type Isolation = 'read_committed' | 'read_uncommitted'

export const consume: Command = {
  name: 'consume',
  summary: 'print a topic\'s records, one per line',
  help: `usage: weir consume <topic> [--from-beginning] [--group G] [--isolation LEVEL]
                     [--max N] [--to-end] [--timeout-ms T] [--json] [connection]

Prints each record's value followed by '\\n' (a null value as an empty line), as records arrive,
until stopped (Ctrl-C, SIGTERM: exit 0).

  --from-beginning    start at the log start (default: the end; with --group only where the
                      group has no committed offset)
  --group G           consume as group G: partitions assigned by the group, committed after
                      each printed batch (default: every partition, no group, no commits)
  --isolation LEVEL   read_committed (default: records of aborted or open transactions are not
                      shown) or read_uncommitted
  --max N             stop after N records
  --to-end            stop at the end offsets the partitions had at the start (with --group:
                      the partitions assigned to this member), for scripts
  --timeout-ms T      stop after T ms without a record
  --json              one JSON object per line: { topic, partition, offset, timestamp, key,
                      value, headers: [{ key, value }] }; key and value are UTF-8 text, or
                      base64 with "keyEncoding"/"valueEncoding": "base64" when not UTF-8

${connectionHelp}
`,
  options: { ...connectionOptions, 'json': { type: 'boolean' },
    'from-beginning': { type: 'boolean' }, 'group': { type: 'string', short: 'g' },
    'isolation': { type: 'string' }, 'max': { type: 'string' }, 'to-end': { type: 'boolean' },
    'timeout-ms': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: async args => {
    const options = consumeOptions(args)
    return withConnection(args, ({ weir }) => consumeTopic(weir, options),
      { reconnectTimeoutMs: RECONNECT_TIMEOUT_MS })
  },
}

interface ConsumeOptions {
  readonly topic: string
  readonly group: string | undefined
  readonly fromBeginning: boolean
  readonly isolation: Isolation
  readonly max: number | undefined
  readonly toEnd: boolean
  readonly timeoutMs: number | undefined
  readonly json: boolean
}

function consumeOptions(args: Parsed): ConsumeOptions {
  const isolation = args.string('isolation') ?? 'read_committed'
  if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') {
    throw new UsageError(`--isolation is read_committed or read_uncommitted (got '${isolation}')`)
  }
  const group = args.string('group')
  if (group === '') throw new UsageError('--group must not be empty')
  return { topic: args.positional(0), group, fromBeginning: args.flag('from-beginning'),
    isolation,
    max: args.has('max') ? args.integer('max', { min: 1 }, 1) : undefined,
    toEnd: args.flag('to-end'),
    timeoutMs: args.has('timeout-ms') ? args.integer('timeout-ms', { min: 1 }, 1) : undefined,
    json: args.flag('json') }
}

async function consumeTopic(weir: Weir, options: ConsumeOptions): Promise<number> {
  const [description] = await weir.admin().describeTopics([options.topic])
  const partitions: TopicPartition[] = Array.from({ length: description!.partitions },
    (_, partition) => ({ topic: options.topic, partition }))
  const ends = options.toEnd ? await endOffsets(weir, partitions, options.isolation) : undefined
  const consumer = weir.consumer({
    ...(options.group === undefined ? {} : { groupId: options.group }),
    autoOffsetReset: options.fromBeginning ? 'earliest' : 'latest',
    isolationLevel: options.isolation, autoCommit: false, maxWaitMs: 200 })
  if (options.group === undefined) await consumer.assign(partitions)
  else consumer.subscribe({ topics: [options.topic] })

  let stopped = false
  let waiting = false
  let printed = 0
  let lastRecordMs = performance.now()
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => closing ??= consumer.close()
  const stop = (): void => {
    if (stopped) return
    stopped = true
    // Only a consumer blocked in next() is closed here; otherwise the loop stops after the
    // batch in hand, whose commit needs the consumer open. The finally awaits the close.
    if (waiting) close().catch(() => undefined)
  }
  const signals = firstSignal(stop)
  const onStdoutError = (): void => stop() // EPIPE: the reader went away (`| head`)
  process.stdout.on('error', onStdoutError)
  const cancelCheck = systemScheduler.every(CHECK_MS, () => {
    if (!waiting || stopped) return
    const idle = options.timeoutMs !== undefined
      && performance.now() - lastRecordMs >= options.timeoutMs
    if (idle || (ends !== undefined && reachedEnd(consumer, options, partitions, ends))) stop()
  })
  try {
    const iterator = consumer[Symbol.asyncIterator]()
    while (!stopped) {
      waiting = true
      const result = await iterator.next()
      waiting = false
      if (result.done === true || stopped) break
      lastRecordMs = performance.now()
      const batch = result.value
      const end = ends?.get(batch.partition) ?? Number.POSITIVE_INFINITY
      const inRange = batch.records.filter(record => record.offset < end)
      const shown = options.max === undefined ? inRange : inRange.slice(0, options.max - printed)
      await writeOut(Buffer.concat(shown.flatMap(record => formatRecord(record, options.json))))
      printed += shown.length
      if (options.group !== undefined && shown.length > 0) {
        // The whole batch shown: past it (and past any markers after it); else past the last
        // record shown, so the next run starts with the first one not shown.
        const offset = shown.length === batch.records.length ? batch.nextOffset
          : shown.at(-1)!.offset + 1
        await commit(consumer, { topic: batch.topic, partition: batch.partition, offset })
      }
      if (options.max !== undefined && printed >= options.max) break
    }
  } finally {
    cancelCheck()
    signals.dispose()
    process.stdout.off('error', onStdoutError)
    await close()
  }
  if (process.stderr.isTTY === true) {
    process.stderr.write(`consumed ${printed} record${printed === 1 ? '' : 's'}\n`)
  }
  return EXIT_OK
}

/** Each partition's end now: its last stable offset (read_committed) or high watermark. */
async function endOffsets(weir: Weir, partitions: readonly TopicPartition[],
  isolationLevel: Isolation): Promise<Map<number, number>> {
  const offsets = await weir.transport.listOffsets(partitions.map(tp =>
    ({ ...tp, spec: 'latest', isolationLevel })))
  return new Map(offsets.map(offset => [offset.partition, offset.offset]))
}

/**
 * Whether every partition read has been read up to its end. Called only while the loop waits in
 * `next()` with nothing handed out: the consumer then has no fetched batch left to hand out (it
 * fetches only once its buffer is empty, and a fetch's results are buffered and the first handed
 * out in the same run of microtasks that advances the positions), so a position at or past the
 * end means every record before the end has been printed.
 */
function reachedEnd(consumer: Consumer, options: ConsumeOptions,
  partitions: readonly TopicPartition[], ends: ReadonlyMap<number, number>): boolean {
  const scope = options.group === undefined ? partitions : consumer.assignment()
  if (scope.length === 0) return false
  return scope.every(tp => {
    const position = consumer.position(tp)
    return position !== undefined && position >= (ends.get(tp.partition) ?? 0)
  })
}

async function commit(consumer: Consumer, offset: TopicPartition & { offset: number }):
Promise<void> {
  try {
    await consumer.commit([offset])
  } catch (error) {
    // The group moved on (another member joined or left): the partition may be someone else's
    // now, and its records from the last commit may be printed again there (at-least-once).
    if (!REBALANCED.some(code => WeirError.is(error, code))) throw error
    process.stderr.write(`weir: ${(error as WeirError).code}: a commit for `
      + `${offset.topic}/${offset.partition} was refused after a rebalance; its records since `
      + 'the last commit may be read again\n')
  }
}

function formatRecord(record: ConsumedRecord, json: boolean): Buffer[] {
  if (!json) return record.value === null ? [NEWLINE] : [record.value, NEWLINE]
  const key = encodeBytes(record.key, 'key')
  const value = encodeBytes(record.value, 'value')
  return [Buffer.from(`${JSON.stringify({ topic: record.topic, partition: record.partition,
    offset: record.offset, timestamp: record.timestamp, ...key, ...value,
    headers: record.headers.map(header => ({ key: header.key,
      ...encodeBytes(header.value, 'value') })) })}\n`)]
}

function encodeBytes(bytes: Buffer | null, field: 'key' | 'value'): Record<string, string | null> {
  if (bytes === null) return { [field]: null }
  if (isUtf8(bytes)) return { [field]: bytes.toString('utf8') }
  return { [field]: bytes.toString('base64'), [`${field}Encoding`]: 'base64' }
}
