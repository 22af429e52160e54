/**
 * Kafka listener benchmark: Weir embedded in this process behind its Kafka listener
 * (src/server/kafka) on 127.0.0.1, driven by KafkaJS 2.2.4 as a Kafka user would, on a topic
 * of 4 partitions (flush 'always'). Phases, each in a fresh directory:
 *
 *   produce   a KafkaJS producer (acks -1, idempotent), `sends-in-flight` sends of
 *             `send-records` records at a time
 *   consume   a KafkaJS consumer group (read_committed, the default) reads every record; the
 *             rate runs from its first batch (the group join is not counted)
 *
 *   Weir.kafka  Weir's own client over the Kafka protocol (KafkaJS's network layer only): its
 *             producer driven as the embedded one is, then a group consumer (read_committed,
 *             the default) timed from its first batch like KafkaJS's
 *
 *   kcat      when `kcat` (librdkafka) is on the PATH: `kcat -P` of the same number of lines,
 *             then `kcat -C -e` reading them back, timed as whole processes
 *
 * All are compared with Weir's own embedded client on the same records in the same run (the
 * broker is the same; the difference is the protocol and the client). Progress goes to stderr;
 * the last stdout line is one JSON object.
 *
 *   npm run bench:kafka -- [--records N] [--send-records N] [--sends-in-flight N] [--dir PATH]
 */
import { execFileSync, spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { Kafka, logLevel } from 'kafkajs'
import type { Consumer } from '../src/client/consumer.ts'
import { Weir } from '../src/client/weir.ts'
import { KafkaListener } from '../src/server/kafka/kafka-listener.ts'
import {
  benchLogger, collectGarbage, machineFields, openBenchDirectory, readFlags, round,
} from './bench-common.ts'

const TOPIC = 'bench'
const PARTITIONS = 4
const VALUE_BYTES = 100
const WAIT_MS_MAX = 120_000
const log = benchLogger('kafka')

interface Args {
  dir: string | undefined
  records: number
  sendRecords: number
  sendsInFlight: number
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { dir: undefined, records: 200_000, sendRecords: 1000, sendsInFlight: 8 }
  readFlags(argv, ({ flag, value, int }) => {
    if (flag === '--records') args.records = int()
    else if (flag === '--send-records') args.sendRecords = int()
    else if (flag === '--sends-in-flight') args.sendsInFlight = int()
    else if (flag === '--dir') args.dir = value()
    else throw new Error(`unknown flag ${flag}`)
  })
  return args
}

const value = Buffer.alloc(VALUE_BYTES, 'v')
const keyOf = (i: number): string => `k${i % 10_000}`

/** Sends `count` records in chunks, at most `inFlight` sends at once; resolves when acked. */
async function sendAll(count: number, chunk: number, inFlight: number,
  send: (from: number, to: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: inFlight }, async () => {
    while (next < count) {
      const from = next
      next = Math.min(count, next + chunk)
      await send(from, next)
    }
  })
  await Promise.all(lanes)
}

async function withListener<T>(dir: string,
  body: (weir: Weir, kafka: Kafka, port: number) => Promise<T>): Promise<T> {
  const weir = await Weir.open({ dir })
  const listener = await KafkaListener.start({ transport: weir.transport, port: 0 })
  try {
    await weir.admin().createTopics([{ topic: TOPIC, partitions: PARTITIONS }])
    const kafka = new Kafka({ clientId: 'bench', brokers: [`127.0.0.1:${listener.port}`],
      logLevel: logLevel.NOTHING })
    return await body(weir, kafka, listener.port)
  } finally {
    await listener.close()
    await weir.close()
  }
}

async function kafkaJsProduce(kafka: Kafka, args: Args): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    const started = performance.now()
    await sendAll(args.records, args.sendRecords, args.sendsInFlight, (from, to) =>
      producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: to - from },
        (_, i) => ({ key: keyOf(from + i), value })) }))
    return args.records / ((performance.now() - started) / 1000)
  } finally {
    await producer.disconnect()
  }
}

async function kafkaJsConsume(kafka: Kafka, records: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: 'bench-group', maxBytes: 16 * 1024 * 1024 })
  await consumer.connect()
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  let seen = 0
  let started = 0
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${seen} of ${records}`)),
      WAIT_MS_MAX)
    void consumer.run({ eachBatch: async ({ batch }) => {
      if (started === 0) started = performance.now()
      seen += batch.messages.length
      if (seen >= records) {
        clearTimeout(timer)
        resolve()
      }
    } })
  })
  try {
    await done
    return records / ((performance.now() - started) / 1000)
  } finally {
    await consumer.disconnect()
  }
}

async function weirProduce(weir: Weir, args: Args): Promise<number> {
  const producer = weir.producer({ idempotent: true })
  try {
    const started = performance.now()
    await sendAll(args.records, args.sendRecords, args.sendsInFlight, (from, to) =>
      producer.send({ topic: TOPIC, messages: Array.from({ length: to - from },
        (_, i) => ({ key: keyOf(from + i), value })) }))
    return args.records / ((performance.now() - started) / 1000)
  } finally {
    await producer.close()
  }
}

/** Reads until `records` records arrived; records/s from the first batch (the join not counted). */
async function weirConsume(consumer: Consumer, records: number): Promise<number> {
  let seen = 0
  let started = 0
  // Without a deadline a consumer that stalls would hang the bench instead of failing it.
  const timer = setTimeout(() => void consumer.close(), WAIT_MS_MAX)
  try {
    for await (const batch of consumer) {
      if (started === 0) started = performance.now()
      seen += batch.records.length
      if (seen >= records) break
    }
  } finally {
    clearTimeout(timer)
  }
  if (seen < records) throw new Error(`consumed ${seen} of ${records}`)
  return records / ((performance.now() - started) / 1000)
}

/** Weir's producer and group consumer over `Weir.kafka`, through the listener on `port`. */
async function weirKafkaRates(port: number, args: Args): Promise<{ produce: number,
  consume: number }> {
  const weir = await Weir.kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'bench' })
  try {
    collectGarbage()
    const produce = await weirProduce(weir, args)
    log(`Weir over Weir.kafka produce through the listener: ${Math.round(produce)} records/s`)
    collectGarbage()
    // maxBytes as KafkaJS's consumer above gets it, so both fetch the same amount per request.
    const consumer = weir.consumer({ groupId: 'bench-group', autoOffsetReset: 'earliest',
      maxBytes: 16 * 1024 * 1024 })
    consumer.subscribe({ topics: [TOPIC] })
    const consume = await weirConsume(consumer, args.records)
    log(`Weir over Weir.kafka group consume through the listener: ${Math.round(consume)} `
      + 'records/s')
    return { produce, consume }
  } finally {
    await weir.close() // closes the consumer too (commits); not timed
  }
}

function kcatInstalled(): boolean {
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Runs kcat with `input` on stdin; resolves with its stdout once it exits 0. */
function kcat(args: readonly string[], input: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'inherit'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.on('error', reject)
    child.on('close', code => code === 0 ? resolve(Buffer.concat(chunks).toString())
      : reject(new Error(`kcat ${args.join(' ')} exited ${code}`)))
    child.stdin.end(input)
  })
}

/** kcat produce then consume of `records` lines; records/s of each, whole processes timed. */
async function kcatRates(port: number, records: number): Promise<{ produce: number,
  consume: number }> {
  const broker = ['-b', `127.0.0.1:${port}`, '-t', TOPIC]
  const lines = `${Array.from({ length: records }, () => value.toString()).join('\n')}\n`
  let started = performance.now()
  await kcat([...broker, '-P', '-X', 'enable.idempotence=true'], lines)
  const produce = records / ((performance.now() - started) / 1000)
  started = performance.now()
  const read = await kcat([...broker, '-C', '-o', 'beginning', '-e', '-q'], undefined)
  const consume = records / ((performance.now() - started) / 1000)
  const count = read.split('\n').filter(line => line !== '').length
  if (count !== records) throw new Error(`kcat read ${count} of ${records} records`)
  return { produce, consume }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const root = await openBenchDirectory('kafka', args.dir)
  log(`scratch ${root.description}; ${args.records} records of ${VALUE_BYTES} B`)
  try {
    const kafkajs = await root.inFreshDir('kafkajs', dir => withListener(dir, async (_, kafka) => {
      collectGarbage()
      const produce = await kafkaJsProduce(kafka, args)
      log(`KafkaJS produce through the listener: ${Math.round(produce)} records/s`)
      collectGarbage()
      const consume = await kafkaJsConsume(kafka, args.records)
      log(`KafkaJS group consume through the listener: ${Math.round(consume)} records/s`)
      return { produce, consume }
    }))
    const embedded = await root.inFreshDir('embedded', dir => withListener(dir, async weir => {
      collectGarbage()
      const produce = await weirProduce(weir, args)
      log(`Weir embedded produce (same records): ${Math.round(produce)} records/s`)
      return produce
    }))
    const weirKafka = await root.inFreshDir('weir-kafka', dir =>
      withListener(dir, (_weir, _kafka, port) => weirKafkaRates(port, args)))
    const viaKcat = kcatInstalled()
      ? await root.inFreshDir('kcat', dir => withListener(dir, async (_weir, _kafka, port) => {
        const rates = await kcatRates(port, args.records)
        log(`kcat produce / consume through the listener: ${Math.round(rates.produce)} / `
          + `${Math.round(rates.consume)} records/s (whole processes)`)
        return rates
      }))
      : undefined
    if (viaKcat === undefined) log('kcat is not installed: its phase is skipped')
    console.log(JSON.stringify({
      bench: 'kafka', records: args.records, value_bytes: VALUE_BYTES, partitions: PARTITIONS,
      send_records: args.sendRecords, sends_in_flight: args.sendsInFlight,
      kafkajs_produce_records_per_s: round(kafkajs.produce),
      kafkajs_consume_records_per_s: round(kafkajs.consume),
      weir_embedded_produce_records_per_s: round(embedded),
      weir_kafka_produce_records_per_s: round(weirKafka.produce),
      weir_kafka_consume_records_per_s: round(weirKafka.consume),
      kcat_produce_records_per_s: viaKcat === undefined ? null : round(viaKcat.produce),
      kcat_consume_records_per_s: viaKcat === undefined ? null : round(viaKcat.consume),
      ...machineFields(),
    }))
  } finally {
    await root.remove()
  }
}

await main()
