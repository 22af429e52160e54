/**
 * One transactional id's state (Kafka's TransactionMetadata) and its record in
 * `__transaction_state`:
 *   key   = version int16 (0) + transactional id (UTF-8)
 *   value = JSON { version: 1, ...TransactionMetadata }   (null value = the id was removed)
 * JSON rather than Kafka's binary layout: the topic is internal, read only by this coordinator.
 *
 * Epochs (KIP-890 part 2, Kafka 4.0's transaction version 2): every end of a transaction —
 * commit, abort, or an abort forced by a timeout or a new instance — moves the producer to the
 * next epoch, and the markers carry that epoch. A send or EndTxn of transaction T delayed past
 * T's end therefore carries an epoch older than the partition's and the coordinator's: it is
 * fenced and can never land in T+1 (KAFKA-17754). When the epoch would pass int16 max the
 * producer gets a new producer id (epoch 0); the markers still carry the old id.
 *
 * Kafka clients of transaction version 1 (EndTxn < v5, through the Kafka listener) never learn
 * a new epoch from EndTxn, so their ends keep the epoch (`sameEpochEnd`): the markers carry the
 * producer's own epoch and its next transaction goes on with it, as in Kafka before 4.0. Such
 * a producer has the older protection only: a send delayed past the end of its transaction can
 * land in the next one. Aborts forced by a timeout or a new instance always move the epoch.
 */
import { WeirError } from '../errors.ts'
import type { TopicPartition } from '../group/assignor.ts'
import type { TransactionDescription, TransactionState } from './txn-requests.ts'

/** Kafka's Short.MAX_VALUE: the highest epoch a marker may carry. */
export const EPOCH_MAX = 32767

export interface TransactionMetadata {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
  /** Id and epoch the previous transaction (or instance) used; -1 when there was none. */
  readonly lastProducerId: number
  readonly lastProducerEpoch: number
  readonly timeoutMs: number
  readonly state: TransactionState
  /** Sorted by topic, then partition. */
  readonly partitions: readonly TopicPartition[]
  readonly startedAtMs: number
  readonly updatedAtMs: number
  /** The last transaction was aborted by the coordinator because it ran past its timeout. */
  readonly timedOut: boolean
  /** The last (or preparing) transaction ended without a new epoch (EndTxnRequest.keepEpoch). */
  readonly sameEpochEnd?: boolean
}

export function isPrepared(state: TransactionState): boolean {
  return state === 'PrepareCommit' || state === 'PrepareAbort'
}

/**
 * The next epoch of `metadata`'s producer, or a new producer id (from `newProducerId`) when the
 * epoch is used up.
 */
export async function nextEpoch(metadata: TransactionMetadata,
  newProducerId: () => Promise<number>): Promise<{ producerId: number, producerEpoch: number }> {
  if (metadata.producerEpoch + 1 < EPOCH_MAX) {
    return { producerId: metadata.producerId, producerEpoch: metadata.producerEpoch + 1 }
  }
  return { producerId: await newProducerId(), producerEpoch: 0 }
}

/**
 * The producer id and epoch the markers of the transaction that `metadata` is preparing carry:
 * the id the data was written with, one epoch above the data's — or the data's own epoch when
 * the end keeps it (`sameEpochEnd`).
 */
export function markerProducer(metadata: TransactionMetadata):
{ producerId: number, producerEpoch: number } {
  return { producerId: metadata.lastProducerId,
    producerEpoch: metadata.lastProducerEpoch + (metadata.sameEpochEnd === true ? 0 : 1) }
}

export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}

export function describe(metadata: TransactionMetadata): TransactionDescription {
  return { transactionalId: metadata.transactionalId, producerId: metadata.producerId,
    producerEpoch: metadata.producerEpoch, state: metadata.state, timeoutMs: metadata.timeoutMs,
    startedAtMs: metadata.startedAtMs, partitions: metadata.partitions }
}

export function encodeTransactionKey(transactionalId: string): Buffer {
  const id = Buffer.from(transactionalId, 'utf8')
  const key = Buffer.alloc(2 + id.length)
  key.writeInt16BE(0, 0)
  id.copy(key, 2)
  return key
}

export function decodeTransactionKey(key: Buffer): string {
  if (key.length < 2 || key.readInt16BE(0) !== 0) {
    throw corrupt('a key of an unknown version')
  }
  return key.subarray(2).toString('utf8')
}

export function encodeTransactionValue(metadata: TransactionMetadata): Buffer {
  return Buffer.from(JSON.stringify({ version: 1, ...metadata }))
}

export function decodeTransactionValue(value: Buffer): TransactionMetadata {
  let parsed: unknown
  try {
    parsed = JSON.parse(value.toString('utf8'))
  } catch (error) {
    throw corrupt('a value that is not JSON', error)
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { version?: unknown }).version
    !== 1) {
    throw corrupt('a value of an unknown version')
  }
  const { version: _version, ...metadata } = parsed as TransactionMetadata & { version: 1 }
  return metadata
}

function corrupt(what: string, cause?: unknown): WeirError {
  return new WeirError('WEIR_ERR_LOG_CORRUPT', `__transaction_state holds ${what}; restore `
    + 'the topic from a backup or delete it to forget every transactional id.', { cause })
}
