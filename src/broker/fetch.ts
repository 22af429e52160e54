/**
 * Fetch from several partitions with Kafka's long-poll rule: answer at once when at least
 * `minBytes` are available, otherwise wait until an append lands in one of the partitions or
 * `maxWaitMs` passes, then read again. Errors are per partition (an out-of-range offset in one
 * partition does not fail the others), as in Kafka's FetchResponse.
 */
import { WeirError } from '../errors.ts'
import type { BrokerLimits } from '../limits.ts'
import type { Scheduler } from '../util/clock.ts'
import type { Partition } from './partition.ts'

export interface FetchPartitionRequest {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** Most bytes from this partition (Kafka: max.partition.fetch.bytes). */
  readonly maxBytes?: number
}

export interface FetchRequest {
  readonly partitions: readonly FetchPartitionRequest[]
  readonly maxWaitMs?: number
  readonly minBytes?: number
  readonly maxBytes?: number
}

export interface FetchResult {
  readonly topic: string
  readonly partition: number
  /** Whole stored batches, back to back (the first may start before `offset`). */
  readonly bytes: Buffer
  readonly nextOffset: number
  readonly highWatermark: number
  readonly logStartOffset: number
  readonly error?: WeirError
}

export interface FetchContext {
  partition(topic: string, partition: number): Partition
  readonly scheduler: Scheduler
  readonly limits: BrokerLimits
}

const PARTITION_BYTES_DEFAULT = 1024 * 1024

export async function fetchPartitions(request: FetchRequest, context: FetchContext):
Promise<FetchResult[]> {
  if (request.partitions.length > context.limits.fetchPartitionsMax) {
    throw new WeirError('INVALID_REQUEST', `A fetch names ${request.partitions.length} `
      + `partitions; at most ${context.limits.fetchPartitionsMax} (fetchPartitionsMax).`)
  }
  const partitions = request.partitions.map(item => context.partition(item.topic, item.partition))
  const maxWaitMs = Math.min(request.maxWaitMs ?? 0, context.limits.fetchWaitMsMax)
  const minBytes = request.minBytes ?? 1
  if (maxWaitMs <= 0 || partitions.length === 0) return readOnce(request, partitions, context)
  // Check, watch, check again (Kafka's delayed fetch): waiters are registered before each read,
  // so an append that completes while the read is under way still wakes this fetch.
  let timedOut = false
  let waiters = partitions.map(partition => partition.waitForData())
  const cancelWaiters = (): void => {
    for (const waiter of waiters) waiter.cancel()
  }
  const cancelTimer = context.scheduler.after(maxWaitMs, () => {
    timedOut = true
    cancelWaiters()
  })
  try {
    for (;;) {
      const results = await readOnce(request, partitions, context)
      if (timedOut || totalBytes(results) >= minBytes) return results
      await Promise.race(waiters.map(waiter => waiter.promise))
      cancelWaiters()
      if (!timedOut) waiters = partitions.map(partition => partition.waitForData())
    }
  } finally {
    cancelTimer()
    cancelWaiters()
  }
}

function totalBytes(results: readonly FetchResult[]): number {
  return results.reduce((sum, result) => sum + result.bytes.length, 0)
}

async function readOnce(request: FetchRequest, partitions: readonly Partition[],
  context: FetchContext): Promise<FetchResult[]> {
  let budget = Math.min(request.maxBytes ?? context.limits.fetchBytesMax,
    context.limits.fetchBytesMax)
  const results: FetchResult[] = []
  for (let i = 0; i < partitions.length; i++) {
    const item = request.partitions[i]!
    const log = partitions[i]!.log
    const base = { topic: item.topic, partition: item.partition,
      highWatermark: log.highWatermark, logStartOffset: log.logStartOffset }
    if (budget <= 0) {
      results.push({ ...base, bytes: Buffer.alloc(0), nextOffset: item.offset })
      continue
    }
    try {
      const read = await log.read(item.offset,
        { maxBytes: Math.min(item.maxBytes ?? PARTITION_BYTES_DEFAULT, budget) })
      budget -= read.bytes.length
      results.push({ ...base, bytes: read.bytes, nextOffset: read.nextOffset,
        highWatermark: read.highWatermark, logStartOffset: read.logStartOffset })
    } catch (error) {
      if (!WeirError.is(error)) throw error
      results.push({ ...base, bytes: Buffer.alloc(0), nextOffset: item.offset, error })
    }
  }
  return results
}
