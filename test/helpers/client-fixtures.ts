/**
 * Fixtures for client tests: schedulers that run timers at once or never, a transport wrapper
 * that intercepts chosen requests (the transport seam where faults are injected), and readers of
 * a whole topic.
 */
import type { Scheduler } from '../../src/util/clock.ts'
import type { Transport } from '../../src/client/transport/transport.ts'
import { EmbeddedTransport } from '../../src/client/transport/embedded.ts'
import { decodeRecords, forEachBatch, isControl, readBatchHeader, type LogRecord } from
  '../../src/log/record-batch.ts'

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

export async function openEmbedded(dir: string, scheduler: Scheduler = immediateScheduler):
Promise<EmbeddedTransport> {
  return EmbeddedTransport.open({ dir, scheduler })
}
