/**
 * Fixtures for client tests: schedulers that run timers at once or never, a transport wrapper
 * that intercepts chosen requests (the transport seam where faults are injected), readers of
 * a whole topic, and a real broker in a temp dir with short group timings plus the small helpers
 * that drive it (produce, pull, wait for a condition).
 *
 * The broker is reached over the transport under test (remote-fixtures.ts): embedded by default,
 * a WeirServer over HTTP in the vitest project 'remote'.
 */
import type { Scheduler } from '../../src/util/clock.ts'
import type { Consumer } from '../../src/client/consumer.ts'
import type { ConsumerConfig } from '../../src/client/consumer-config.ts'
import type { ConsumedRecord } from '../../src/client/fetcher.ts'
import type { Message } from '../../src/client/producer.ts'
import type { ProducerConfig } from '../../src/client/producer-config.ts'
import type { Transport } from '../../src/client/transport/transport.ts'
import type { Weir } from '../../src/client/weir.ts'
import type { TopicPartition } from '../../src/group/assignor.ts'
import { decodeRecords, forEachBatch, isControl, readBatchHeader, type LogRecord } from
  '../../src/log/record-batch.ts'
import { withTempDir } from './log-fixtures.ts'
import { type BrokerUnderTestOptions, openBrokerUnderTest } from './remote-fixtures.ts'

/**
 * Timers fire on the next turn of the event loop whatever their delay: retries and backoffs run
 * without waiting, `every` never fires (no heartbeats, no background maintenance).
 */
export const immediateScheduler: Scheduler = {
  every: () => () => undefined,
  after(_delayMs, task) {
    let cancelled = false
    setImmediate(() => {
      if (!cancelled) task()
    })
    return () => {
      cancelled = true
    }
  },
}

type Interceptors = { [K in keyof Transport]?: (next: Transport[K], ...args: Parameters<
  Transport[K]>) => ReturnType<Transport[K]> }

/** A transport that passes every call to `inner` except those `interceptors` take over. */
export function interceptedTransport(inner: Transport, interceptors: Interceptors): Transport {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function') return value
      const bound = (value as (...args: unknown[]) => unknown).bind(target)
      const interceptor = interceptors[property as keyof Transport] as
        ((next: unknown, ...args: unknown[]) => unknown) | undefined
      return interceptor === undefined ? bound
        : (...args: unknown[]) => interceptor(bound, ...args)
    },
  })
}

/** Every data record of a partition, read through the transport from the log start. */
export async function readPartition(transport: Transport, topic: string, partition: number):
Promise<LogRecord[]> {
  const records: LogRecord[] = []
  let offset = 0
  for (;;) {
    const [result] = await transport.fetch({ partitions: [{ topic, partition, offset,
      maxBytes: 1024 * 1024 }] })
    if (result === undefined || result.error !== undefined) throw result?.error
    forEachBatch(result.bytes, position => {
      if (isControl(readBatchHeader(result.bytes, position))) return
      for (const record of decodeRecords(result.bytes, position)) {
        if (record.offset >= offset) records.push(record)
      }
    })
    if (result.nextOffset <= offset || result.nextOffset >= result.highWatermark) break
    offset = result.nextOffset
  }
  return records
}

/**
 * The transport under test to a broker on `dir` whose scheduler is `scheduler` (by default timers
 * fire at once, periodic work never runs). Closing it closes the broker.
 */
export async function openTransport(dir: string, scheduler: Scheduler = immediateScheduler):
Promise<Transport> {
  return (await openBrokerUnderTest(dir, { scheduler })).weir.transport
}

/** Short consumer timings so group work (joins, heartbeats, expiry) takes milliseconds. */
export const FAST: Partial<ConsumerConfig> = { heartbeatIntervalMs: 50, sessionTimeoutMs: 500,
  maxWaitMs: 50 }

/** A coordinator that ticks every 20 ms and accepts sessions down to 100 ms. */
export const GROUP_BROKER: BrokerUnderTestOptions = {
  group: { tickMs: 20, groupMinSessionTimeoutMs: 100 },
}

/**
 * The transport under test to a broker on `dir` on the system scheduler with `GROUP_BROKER`'s
 * coordinator timings. Closing it closes the broker.
 */
export async function openGroupTransport(dir: string): Promise<Transport> {
  return (await openWeir(dir)).transport
}

/** A client over the transport under test to a broker on `dir` with `GROUP_BROKER` timings. */
export const openWeir = async (dir: string): Promise<Weir> =>
  (await openBrokerUnderTest(dir, GROUP_BROKER)).weir

/** Runs `run` against a client over a fresh temp dir (named from `prefix`), then closes it. */
export async function withWeir(prefix: string, run: (weir: Weir) => Promise<void>):
Promise<void> {
  await withTempDir(prefix, async dir => {
    const weir = await openWeir(dir)
    try {
      await run(weir)
    } finally {
      await weir.close()
    }
  })
}

/** Waits for `condition`, checking every 10 ms (bounded by the test timeout). */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!await condition()) await new Promise(resolve => setTimeout(resolve, 10))
}

/** Sends `messages` to `topic` through a fresh producer with `config`, then closes it. */
export async function produce(weir: Weir, topic: string, messages: readonly Message[],
  config?: Partial<ProducerConfig>): Promise<void> {
  const producer = weir.producer(config)
  await producer.send({ topic, messages })
  await producer.close()
}

/** Pulls batches until at least `count` records arrived (or `stop` says so). */
export async function pull(consumer: Consumer, count: number,
  stop: (records: readonly ConsumedRecord[]) => boolean = () => false):
  Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = []
  while (records.length < count && !stop(records)) {
    const result = await consumer.next()
    if (result.done === true) break
    records.push(...result.value.records)
  }
  return records
}

/** Partitions as sorted `topic/partition` strings. */
export const sorted = (partitions: readonly TopicPartition[]): string[] =>
  partitions.map(tp => `${tp.topic}/${tp.partition}`).sort()
