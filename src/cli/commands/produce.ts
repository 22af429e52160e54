/**
 * `weir produce <topic>`: one record per input line (stdin, or `--file`), sent in batches by an
 * idempotent producer (acks all), one send in flight while the next batch is read, so records
 * keep the input's order within each partition.
 *
 * A record's value is the line's bytes exactly, without the '\n' (see line-splitter.ts): '\r',
 * invalid UTF-8 and empty lines are kept (an empty line is a record with an empty value, so a
 * file round-trips byte for byte through `weir consume`), unless `--skip-empty`. Keys:
 * `--key-field f` takes the key from field f of each line parsed as a JSON object (a string as
 * is, other values as JSON, null: no key); `--key-separator s` splits each line at the first s
 * into key and value. A line that does not fit stops the command (exit 1, INVALID_RECORD) after
 * the lines before it are sent; the message says how many.
 *
 * With `--file`, a progress bar is drawn on stderr when stderr is a terminal. The summary
 * (records, per partition, elapsed) goes to stdout, or one JSON document with `--json`.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { Message, Producer, RecordMetadata } from '../../client/producer.ts'
import { WeirError } from '../../errors.ts'
import { serverLimitDefaults } from '../../limits.ts'
import { type Command, EXIT_OK, type Parsed, UsageError, writeJson, writeOut } from '../command.ts'
import { connectionHelp, connectionOptions, withConnection } from '../connection.ts'
import { readLines } from '../line-splitter.ts'
import { ProgressBar } from '../progress-bar.ts'

/** A line must fit in one request to the server. */
const LINE_BYTES_MAX = serverLimitDefaults.requestBytesMax
/** A send also goes once its values reach this many bytes, so batches stay well in buffer. */
const SEND_BYTES_MAX = 1024 * 1024

export const produce: Command = {
  name: 'produce',
  summary: 'send lines from stdin or a file as records',
  help: `usage: weir produce <topic> [--file F] [--key-field NAME | --key-separator S]
                     [--partition N] [--skip-empty] [--batch N] [--json] [connection]

Sends one record per line of stdin (or of --file). The value is the line's bytes exactly,
without its '\\n'; an empty line is a record with an empty value unless --skip-empty.

  --file F, -f F      read this file instead of stdin (draws a progress bar on a terminal)
  --key-field NAME    each line is a JSON object; its field NAME is the record's key
                      (a string as is, other values as JSON, null: no key)
  --key-separator S   each line is <key>S<value>; split at the first S
  --partition N       send every record to partition N (default: by key; keyless records
                      are spread in batches)
  --skip-empty        skip empty lines
  --batch N           records per send (default 1000)
  --json              print the summary as JSON:
                      { topic, records, partitions: [{ partition, records }], elapsedMs }

A line that cannot be keyed stops the command with exit 1 (INVALID_RECORD); the lines before it
are sent.

${connectionHelp}
`,
  options: { ...connectionOptions, 'json': { type: 'boolean' },
    'file': { type: 'string', short: 'f' }, 'key-field': { type: 'string' },
    'key-separator': { type: 'string' }, 'partition': { type: 'string' },
    'skip-empty': { type: 'boolean' }, 'batch': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: async args => {
    const options = produceOptions(args)
    const totalBytes = options.file === undefined ? undefined : (await stat(options.file)).size
    return withConnection(args, async ({ weir }) => {
      const [description] = await weir.admin().describeTopics([options.topic])
      const counts = new Array<number>(description!.partitions).fill(0)
      if (options.partition !== undefined && options.partition >= counts.length) {
        throw new WeirError('UNKNOWN_TOPIC_OR_PARTITION', `Topic ${options.topic} has no `
          + `partition ${options.partition}; it has ${counts.length}.`)
      }
      const started = performance.now()
      const producer = weir.producer()
      try {
        await sendLines(producer, options, counts, totalBytes)
      } finally {
        await producer.close()
      }
      await printSummary(options.topic, counts, performance.now() - started, args.flag('json'))
      return EXIT_OK
    })
  },
}

interface ProduceOptions {
  readonly topic: string
  readonly file: string | undefined
  readonly keyField: string | undefined
  readonly keySeparator: Buffer | undefined
  readonly partition: number | undefined
  readonly skipEmpty: boolean
  readonly batchRecords: number
}

function produceOptions(args: Parsed): ProduceOptions {
  const keyField = args.string('key-field')
  const separator = args.string('key-separator')
  if (keyField !== undefined && separator !== undefined) {
    throw new UsageError('--key-field and --key-separator are two ways to key records; use one')
  }
  if (separator === '' || keyField === '') {
    throw new UsageError('--key-field and --key-separator must not be empty')
  }
  return { topic: args.positional(0), file: args.string('file'), keyField,
    keySeparator: separator === undefined ? undefined : Buffer.from(separator),
    partition: args.has('partition') ? args.integer('partition', { min: 0 }, 0) : undefined,
    skipEmpty: args.flag('skip-empty'),
    batchRecords: args.integer('batch', { min: 1, max: serverLimitDefaults.batchRecordsMax },
      1000) }
}

async function sendLines(producer: Producer, options: ProduceOptions, counts: number[],
  totalBytes: number | undefined): Promise<void> {
  const input = options.file === undefined ? process.stdin : createReadStream(options.file)
  if (options.file === undefined && process.stdin.isTTY === true) {
    process.stderr.write(`weir: reading lines for ${options.topic} from the terminal; `
      + 'end with Ctrl-D\n')
  }
  const bar = totalBytes !== undefined && process.stderr.isTTY === true
    ? new ProgressBar(totalBytes) : undefined
  let batch: Message[] = []
  let batchBytes = 0
  let readBytes = 0
  let sent = 0
  let lineNumber = 0
  let inFlight: Promise<void> = Promise.resolve()
  const send = async (): Promise<void> => {
    await inFlight
    if (batch.length === 0) return
    const messages = batch
    batch = []
    batchBytes = 0
    inFlight = producer.send({ topic: options.topic, messages }).then(results => {
      count(results, counts)
      sent += results.length
      bar?.update(readBytes, sent)
    })
    // Awaited by the next send(); marked handled so a failure is not reported as unhandled
    // while the next batch is being read.
    inFlight.catch(() => undefined)
  }
  try {
    for await (const line of readLines(input, LINE_BYTES_MAX)) {
      lineNumber++
      readBytes += line.length + 1
      if (line.length === 0 && options.skipEmpty) continue
      let message: Message
      try {
        message = toMessage(line, options)
      } catch (error) {
        await send()
        await inFlight
        throw new WeirError('INVALID_RECORD', `Line ${lineNumber}: ${(error as Error).message}; `
          + `the ${sent} records before it were produced.`)
      }
      batch.push(message)
      batchBytes += line.length
      if (batch.length >= options.batchRecords || batchBytes >= SEND_BYTES_MAX) await send()
    }
    await send()
    await inFlight
  } finally {
    bar?.clear()
    if (input !== process.stdin) input.destroy()
  }
}

function toMessage(line: Buffer, options: ProduceOptions): Message {
  const partition = options.partition === undefined ? {} : { partition: options.partition }
  if (options.keyField !== undefined) {
    return { key: keyOfJsonLine(line, options.keyField), value: line, ...partition }
  }
  if (options.keySeparator !== undefined) {
    const at = line.indexOf(options.keySeparator)
    if (at === -1) {
      throw new Error(`no key separator '${options.keySeparator.toString()}' in the line`)
    }
    return { key: line.subarray(0, at), value: line.subarray(at + options.keySeparator.length),
      ...partition }
  }
  return { value: line, ...partition }
}

function keyOfJsonLine(line: Buffer, field: string): string | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(line.toString('utf8'))
  } catch {
    throw new Error(`not JSON (--key-field needs one JSON object per line; --skip-empty skips `
      + 'empty lines)')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('not a JSON object (--key-field needs one JSON object per line)')
  }
  if (!Object.hasOwn(parsed, field)) throw new Error(`no field '${field}'`)
  const key = (parsed as Record<string, unknown>)[field]
  if (key === null) return null
  return typeof key === 'string' ? key : JSON.stringify(key)
}

function count(results: readonly RecordMetadata[], counts: number[]): void {
  for (const result of results) counts[result.partition] = (counts[result.partition] ?? 0) + 1
}

async function printSummary(topic: string, counts: readonly number[], elapsedMs: number,
  json: boolean): Promise<void> {
  const records = counts.reduce((sum, n) => sum + n, 0)
  if (json) {
    await writeJson({ topic, records, partitions: counts.map((n, partition) =>
      ({ partition, records: n })), elapsedMs: Math.round(elapsedMs) })
    return
  }
  const perPartition = counts.map((n, partition) => `${partition}: ${n}`).join(', ')
  const rate = elapsedMs > 0 ? Math.round(records / (elapsedMs / 1000)) : records
  await writeOut(`produced ${records} record${records === 1 ? '' : 's'} to ${topic} in `
    + `${(elapsedMs / 1000).toFixed(2)} s (${rate.toLocaleString('en-US')}/s); per partition `
    + `${perPartition}\n`)
}
