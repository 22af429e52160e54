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

/**
 * Kafka's isolation levels: `read_committed` reads only below the last stable offset (LSO) and
 * gets the aborted transactions of the range so the client can drop their records.
 */
export type IsolationLevel = 'read_committed' | 'read_uncommitted'

/** A transaction aborted in a partition: its data lies between `firstOffset` and its marker. */
export interface AbortedTransaction {
  readonly producerId: number
  readonly firstOffset: number
}

export interface FetchRequest {
  readonly partitions: readonly FetchPartitionRequest[]
  /** Defaults to 'read_uncommitted' (Kafka's broker-side default). */
  readonly isolationLevel?: IsolationLevel
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
  /** First offset not yet decided (below it, every transaction has its marker). */
  readonly lastStableOffset: number
  readonly logStartOffset: number
  /** Under read_committed: aborted transactions overlapping the returned range. */
  readonly abortedTransactions?: readonly AbortedTransaction[]
  readonly error?: WeirError
}

export interface FetchContext {
  partition(topic: string, partition: number): Partition
  readonly scheduler: Scheduler
  readonly limits: BrokerLimits
}

const PARTITION_BYTES_DEFAULT = 1024 * 1024
const EMPTY = Buffer.alloc(0)

export async function fetchPartitions(request: FetchRequest, context: FetchContext):
Promise<FetchResult[]> {
  if (request.partitions.length > context.limits.fetchPartitionsMax) {
    throw new WeirError('INVALID_REQUEST', `A fetch names ${request.partitions.length} `
      + `partitions; at most ${context.limits.fetchPartitionsMax} (fetchPartitionsMax).`)
  }
  const partitions = request.partitions.map(item => context.partition(item.topic, item.partition))
  const maxWaitMs = Math.min(request.maxWaitMs ?? 0, context.limits.fetchWaitMsMax)
  const minBytes = request.minBytes ?? 1
  const versions = partitions.map(partition => partition.dataVersion)
  const first = await readOnce(request, partitions, context)
  if (maxWaitMs <= 0 || partitions.length === 0 || totalBytes(first) >= minBytes) return first
  // Check, watch, check again (Kafka's delayed fetch): listen to every partition, then read again
  // only if an append completed since the first read began — whether before or after listening.
  let woken = partitions.some((partition, i) => partition.dataVersion !== versions[i])
  let timedOut = false
  let wake = (): void => undefined
  const onData = (): void => {
    woken = true
    wake()
  }
  const stopListening = partitions.map(partition => partition.onData(onData))
  const cancelTimer = context.scheduler.after(maxWaitMs, () => {
    timedOut = true
    wake()
  })
  try {
    let results = first
    while (!timedOut) {
      if (!woken) await new Promise<void>(resolve => { wake = resolve })
      woken = false
      results = await readOnce(request, partitions, context)
      if (totalBytes(results) >= minBytes) return results
    }
    return woken ? await readOnce(request, partitions, context) : results
  } finally {
    cancelTimer()
    for (const stop of stopListening) stop()
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
  const committed = request.isolationLevel === 'read_committed'
  for (let i = 0; i < partitions.length; i++) {
    const { topic, partition, offset } = request.partitions[i]!
    const found = partitions[i]!
    const log = found.log
    const highWatermark = log.highWatermark
    const lastStableOffset = found.lastStableOffset
    const logStartOffset = log.logStartOffset
    // A read_committed reader sees nothing at or past the LSO (an undecided transaction).
    const end = committed ? lastStableOffset : highWatermark
    // Caught up, or out of budget: answer without a read (the common case of a long poll).
    if (budget <= 0 || (offset === end && offset >= logStartOffset)) {
      results.push({ topic, partition, bytes: EMPTY, nextOffset: offset, highWatermark,
        lastStableOffset, logStartOffset })
      continue
    }
    try {
      const read = await log.read(offset, { maxOffset: end,
        maxBytes: Math.min(request.partitions[i]!.maxBytes ?? PARTITION_BYTES_DEFAULT, budget) })
      budget -= read.bytes.length
      const result: FetchResult = { topic, partition, bytes: read.bytes,
        nextOffset: read.nextOffset, highWatermark: read.highWatermark, lastStableOffset,
        logStartOffset: read.logStartOffset }
      results.push(committed && read.bytes.length > 0
        ? { ...result, abortedTransactions: found.abortedTransactions(offset, read.nextOffset) }
        : result)
    } catch (error) {
      if (!WeirError.is(error)) throw error
      results.push({ topic, partition, bytes: EMPTY, nextOffset: offset, highWatermark,
        lastStableOffset, logStartOffset, error })
    }
  }
  return results
}
