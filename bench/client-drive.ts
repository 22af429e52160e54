/**
 * The client drives bench:broker and bench:server share, so the two measure the same thing:
 * the throughput drive (many sends of `sendRecords` messages in flight, round-robin over
 * partitions by send), the paced latency drive (records stamped with their send time) and its
 * reader, and the nearest-rank percentile.
 */
import type { Consumer } from '../src/client/consumer.ts'
import type { Message, Producer } from '../src/client/producer.ts'
import type { Weir } from '../src/client/weir.ts'

export const VALUE_BYTES = 100
/** Latency records carry [send time float64 LE (ms, performance.now)][sequence uint32 LE]. */
export const SEQUENCE_POSITION = 8

export interface Drive {
  readonly partitions: number
  /** Messages per send(). */
  readonly sendRecords: number
  /** Loops each awaiting its own send(): the sends outstanding at once. */
  readonly sendsInFlight: number
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.max(1, Math.ceil(fraction * sorted.length))
  return sorted[Math.min(rank, sorted.length) - 1]!
}

/**
 * The messages of send number `index`: `sendRecords` consecutive values of `valuePool`, null key,
 * all to partition `index % partitions` (round-robin by send, so every partition gets the same
 * load).
 */
function messagesOf(drive: Drive, valuePool: Buffer, index: number, records: number): Message[] {
  const start = index * drive.sendRecords
  const end = Math.min(records, start + drive.sendRecords)
  const partition = index % drive.partitions
  const messages: Message[] = new Array(end - start)
  for (let i = start; i < end; i++) {
    messages[i - start] = { value: valuePool.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES),
      partition }
  }
  return messages
}

/**
 * Sends `records` records as a high-throughput application would: `sendsInFlight` loops, each
 * awaiting its own send() of `sendRecords` messages before starting the next, so that many sends
 * are outstanding at once and the producer batches them.
 */
export async function produceAll(producer: Producer, topic: string, records: number,
  drive: Drive, valuePool: Buffer): Promise<void> {
  const sends = Math.ceil(records / drive.sendRecords)
  let next = 0
  const loop = async (): Promise<void> => {
    while (next < sends) {
      const index = next++
      await producer.send({ topic, messages: messagesOf(drive, valuePool, index, records) })
    }
  }
  await Promise.all(Array.from({ length: drive.sendsInFlight }, loop))
}

/** The records a topic holds (sum of high watermarks), read through the admin client. */
export async function topicRecords(weir: Weir, topic: string): Promise<number> {
  const [description] = await weir.admin().describeTopics([topic])
  return description!.partitionStates.reduce((sum, state) => sum + state.highWatermark, 0)
}

export interface Paced {
  readonly seconds: number
  readonly sends: number
}

/**
 * Sends records `first .. first + count - 1` at `ratePerS`: every timer tick (≥ 1 ms) sends, in
 * one send() with the send time stamped in each value, the records the schedule says are due
 * by now, so a late tick catches up. Round-robin over partitions by send. Sends are not awaited
 * here (acks come back while later records go out); a failed one is pushed to `failures`.
 */
export function paced(producer: Producer, topic: string, partitions: number, first: number,
  count: number, ratePerS: number, failures: unknown[]): Promise<Paced> {
  return new Promise(resolve => {
    const started = performance.now()
    let sent = 0
    let sends = 0
    const tick = (): void => {
      const now = performance.now()
      const due = Math.min(count, Math.floor((now - started) * ratePerS / 1000))
      if (due > sent) {
        const messages: Message[] = []
        for (let i = sent; i < due; i++) {
          const value = Buffer.alloc(VALUE_BYTES)
          value.writeDoubleLE(now, 0)
          value.writeUInt32LE(first + i, SEQUENCE_POSITION)
          messages.push({ value, partition: sends % partitions })
        }
        producer.send({ topic, messages }).catch((error: unknown) => failures.push(error))
        sends++
        sent = due
      }
      if (sent < count) setTimeout(tick, 1)
      else resolve({ seconds: (performance.now() - started) / 1000, sends })
    }
    tick()
  })
}

export interface LatencyReader {
  /** Latency (ms) of each timed record, by sequence − warmup; NaN until it arrives. */
  readonly latencies: Float64Array
  /** Records received so far, warm-up included. */
  received(): number
  /** Settles once every record (warm-up and timed) was received. */
  readonly done: Promise<void>
}

/**
 * Reads the paced records with `consumer` (already subscribed): the latency of a record is when
 * the application gets its batch minus the send time stamped in it; the first `warmup` records
 * are not measured.
 */
export function readLatencies(consumer: Consumer, warmup: number, count: number):
LatencyReader {
  const latencies = new Float64Array(count).fill(Number.NaN)
  let received = 0
  const done = (async () => {
    for await (const batch of consumer) {
      const now = performance.now() // when the application gets the batch
      for (const record of batch.records) {
        const sequence = record.value!.readUInt32LE(SEQUENCE_POSITION)
        if (sequence >= warmup) latencies[sequence - warmup] = now - record.value!.readDoubleLE(0)
      }
      received += batch.records.length
      if (received >= warmup + count) break
    }
  })()
  return { latencies, received: () => received, done }
}
