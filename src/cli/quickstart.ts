/**
 * `weir quickstart`: the main job (`npm start`). On the embedded default (a broker in this
 * process, real files, `flush: 'always'`) under `--dir`:
 * 1. the broker and client: it creates the topic `quickstart` (3 partitions) if missing,
 *    produces records with an idempotent producer (keyed by user, so each user's records stay in
 *    order in one partition), then consumes them as the group `quickstart-verify` from its
 *    committed offsets up to the log end, verifies every record and commits;
 * 2. streams: it runs the orders CQRS projection end to end and verifies its per-customer table
 *    against a fold of the order events (quickstart-orders.ts).
 * Running it again produces more of both; the group and the streams app pick up where they left
 * off. The last line is a JSON summary.
 */
import { Weir } from '../client/weir.ts'
import { systemClock } from '../util/clock.ts'
import { runOrdersProjection } from './quickstart-orders.ts'

export interface QuickstartOptions {
  readonly dir: string
  readonly records: number
  readonly batchRecords: number
  /** Orders generated for the streams part. */
  readonly orders: number
  readonly log: (line: string) => void
}

const TOPIC = 'quickstart'
const GROUP = 'quickstart-verify'

export async function quickstart(options: QuickstartOptions): Promise<void> {
  const weir = await Weir.open({ dir: options.dir })
  try {
    const admin = weir.admin()
    if (!(await admin.listTopics()).some(topic => topic.name === TOPIC)) {
      await admin.createTopics([{ topic: TOPIC, partitions: 3 }])
      options.log(`created topic ${TOPIC} with 3 partitions in ${options.dir}`)
    }
    const produceMs = await produce(weir, options)
    const [description] = await admin.describeTopics([TOPIC])
    const ends = description!.partitionStates.map(state => state.highWatermark)
    const verified = await consumeUpTo(weir, ends)
    const lag = (await admin.lag(GROUP, [TOPIC])).reduce((sum, p) => sum + p.lag, 0)
    options.log(`consumed and verified ${verified} records as group ${GROUP}; lag now ${lag}`)
    const projection = await runOrdersProjection(weir, options)
    options.log(JSON.stringify({ produced: options.records, verified,
      logEndOffsets: ends, lag, produceMs: Math.round(produceMs), projection }))
  } finally {
    await weir.close()
  }
}

async function produce(weir: Weir, options: QuickstartOptions): Promise<number> {
  const producer = weir.producer({ lingerMs: 1 })
  const started = performance.now()
  for (let sent = 0; sent < options.records; sent += options.batchRecords) {
    const count = Math.min(options.batchRecords, options.records - sent)
    await producer.send({ topic: TOPIC, messages: Array.from({ length: count }, (_, i) => ({
      key: `user-${(sent + i) % 100}`,
      value: JSON.stringify({ user: `user-${(sent + i) % 100}`, at: systemClock.nowMs() }),
    })) })
    if ((sent / options.batchRecords) % 20 === 0) {
      options.log(`produced ${sent + count}/${options.records} (idempotent, fsynced)`)
    }
  }
  await producer.close()
  return performance.now() - started
}

/** Reads as the group until every partition reached `ends`; checks keys match their partition. */
async function consumeUpTo(weir: Weir, ends: readonly number[]): Promise<number> {
  const consumer = weir.consumer({ groupId: GROUP, autoOffsetReset: 'earliest', maxWaitMs: 100 })
  const committed = await weir.admin().fetchOffsets(GROUP)
  const reached = new Set(ends.map((_, p) => p).filter(p => (committed.find(c =>
    c.topic === TOPIC && c.partition === p)?.offset ?? 0) >= ends[p]!))
  let verified = 0
  if (reached.size === ends.length) return 0
  consumer.subscribe({ topics: [TOPIC] })
  try {
    for await (const batch of consumer) {
      for (const record of batch.records) {
        const body = JSON.parse(record.value!.toString()) as { user: string }
        if (body.user !== record.key?.toString()) {
          throw new Error(`offset ${record.offset} of partition ${batch.partition} is corrupt`)
        }
        verified++
      }
      if (batch.nextOffset >= ends[batch.partition]!) reached.add(batch.partition)
      await consumer.commit()
      if (reached.size === ends.length) break
    }
  } finally {
    await consumer.close()
  }
  return verified
}
