/**
 * Produce requests with exactly one defect, for the server's no-partial-write properties. The
 * requests name partitions of the topics below (`TOPICS`), carry valid batches of at most
 * `BATCH_RECORDS_MAX` records, and then get one defect the server's pre-check must find (a damaged
 * batch, bytes cut or added, too many records, an unknown topic or partition, an internal topic,
 * a partition named twice, too many partitions; `expectedCode` says how each is answered), or a header change the
 * pre-check cannot see but the broker's validator refuses (`lateDefect`), with the CRC made good.
 */
import { fc } from '@fast-check/vitest'
import type { ErrorCode } from '../../src/errors.ts'
import { computeBatchCrc, encodeBatch, type RecordInput } from '../../src/log/record-batch.ts'
import type { ProducePartitionRequest } from '../../src/protocol/weir-proto.ts'

/** The server's batchRecordsMax and producePartitionsMax in these properties. */
export const BATCH_RECORDS_MAX = 4
export const PRODUCE_PARTITIONS_MAX = 5
export const TOPICS = [{ topic: 'a', partitions: 3 }, { topic: 'b', partitions: 2 },
  { topic: 'c', partitions: 2 }]
/** Every partition of `TOPICS`: more than PRODUCE_PARTITIONS_MAX. */
export const PARTITIONS = TOPICS.flatMap(({ topic, partitions }) =>
  Array.from({ length: partitions }, (_, partition) => ({ topic, partition })))
export const TIMESTAMP = 1_700_000_000_000

export interface RecordSpec {
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
}

export const recordsArb = (minLength: number, maxLength: number): fc.Arbitrary<RecordSpec[]> =>
  fc.array(fc.record({ key: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null }),
    value: fc.option(fc.uint8Array({ maxLength: 24 }), { nil: null }) }),
  { minLength, maxLength })

export function batchOf(records: readonly RecordSpec[]): Buffer {
  return encodeBatch(records.map((r): RecordInput => ({
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value) })), { timestamp: TIMESTAMP })
}

export const entriesArb = (minLength: number) => fc.uniqueArray(fc.record({
  partition: fc.nat(PARTITIONS.length - 1), records: recordsArb(1, BATCH_RECORDS_MAX) }),
{ minLength, maxLength: 4, selector: entry => entry.partition })

/** One defect the server's pre-check must find, with the code it answers. */
export type Defect =
  | { readonly kind: 'damaged', readonly target: number, readonly bit: number }
  | { readonly kind: 'truncated', readonly target: number, readonly keep: number }
  | { readonly kind: 'trailingBytes', readonly target: number, readonly extra: Uint8Array }
  | { readonly kind: 'tooManyRecords', readonly target: number, readonly records: RecordSpec[] }
  | { readonly kind: 'unknownPartition', readonly at: number, readonly topic: number,
    readonly over: number }
  | { readonly kind: 'unknownTopic', readonly at: number, readonly topic: string }
  | { readonly kind: 'internalTopic', readonly at: number }
  | { readonly kind: 'samePartitionTwice', readonly at: number, readonly source: number,
    readonly records: RecordSpec[] }
  | { readonly kind: 'tooManyPartitions', readonly extra: readonly number[] }

export const defectArb: fc.Arbitrary<Defect> = fc.oneof(
  fc.record({ kind: fc.constant('damaged' as const), target: fc.nat(), bit: fc.nat() }),
  fc.record({ kind: fc.constant('truncated' as const), target: fc.nat(), keep: fc.nat() }),
  fc.record({ kind: fc.constant('trailingBytes' as const), target: fc.nat(),
    extra: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('tooManyRecords' as const), target: fc.nat(),
    records: recordsArb(BATCH_RECORDS_MAX + 1, 2 * BATCH_RECORDS_MAX) }),
  fc.record({ kind: fc.constant('unknownPartition' as const), at: fc.nat(),
    topic: fc.nat(TOPICS.length - 1), over: fc.nat(5) }),
  fc.record({ kind: fc.constant('unknownTopic' as const), at: fc.nat(),
    topic: fc.constantFrom('zz', 'fz-absent', 'a.b', 'a_') }),
  fc.record({ kind: fc.constant('internalTopic' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('samePartitionTwice' as const), at: fc.nat(), source: fc.nat(),
    records: recordsArb(1, BATCH_RECORDS_MAX) }),
  fc.record({ kind: fc.constant('tooManyPartitions' as const),
    extra: fc.shuffledSubarray([...PARTITIONS.keys()], { minLength: 6, maxLength: 7 }) }),
)

export const expectedCode: Record<Defect['kind'], ErrorCode> = {
  damaged: 'CORRUPT_MESSAGE', truncated: 'CORRUPT_MESSAGE', trailingBytes: 'CORRUPT_MESSAGE',
  tooManyRecords: 'WEIR_ERR_SERVER_BODY_TOO_LARGE', unknownPartition: 'UNKNOWN_TOPIC_OR_PARTITION',
  unknownTopic: 'UNKNOWN_TOPIC', internalTopic: 'INVALID_TOPIC_EXCEPTION', samePartitionTwice: 'INVALID_REQUEST',
  tooManyPartitions: 'WEIR_ERR_SERVER_BODY_TOO_LARGE',
}

/**
 * Bits whose flip the pre-check always sees: the batch length (bytes 8-11: a short batch,
 * trailing bytes or a bad length), the magic (16), the CRC (17-20) and everything it covers
 * (21 on). Base offset and leader epoch (0-7, 12-15) are outside the CRC: flips there are
 * harmless and covered by the protobuf mutations.
 */
function damage(batch: Buffer, bit: number): Buffer {
  const bits = 32 + (batch.length - 16) * 8
  const index = bit % bits
  const position = index < 32 ? 64 + index : 128 + (index - 32)
  const damaged = Buffer.from(batch)
  damaged[position >> 3]! ^= 1 << (position & 7)
  return damaged
}

/** A valid request for `entries` with `defect` put into it. */
export function defective(entries: ReadonlyArray<{ partition: number, records: RecordSpec[] }>,
  defect: Defect): ProducePartitionRequest[] {
  const valid = entries.map(({ partition, records }) =>
    ({ ...PARTITIONS[partition]!, batch: batchOf(records) }))
  const insert = (at: number, item: ProducePartitionRequest): ProducePartitionRequest[] =>
    [...valid.slice(0, at % (valid.length + 1)), item, ...valid.slice(at % (valid.length + 1))]
  const replace = (target: number, batch: Buffer): ProducePartitionRequest[] =>
    valid.map((item, i) => i === target % valid.length ? { ...item, batch } : item)
  const targetBatch = (target: number): Buffer => valid[target % valid.length]!.batch
  switch (defect.kind) {
    case 'damaged': return replace(defect.target, damage(targetBatch(defect.target), defect.bit))
    case 'truncated': {
      const batch = targetBatch(defect.target)
      return replace(defect.target, batch.subarray(0, defect.keep % batch.length))
    }
    case 'trailingBytes': return replace(defect.target,
      Buffer.concat([targetBatch(defect.target), defect.extra]))
    case 'tooManyRecords': return replace(defect.target, batchOf(defect.records))
    case 'unknownPartition': {
      const { topic, partitions } = TOPICS[defect.topic]!
      return insert(defect.at, { topic, partition: partitions + defect.over,
        batch: batchOf([{ key: null, value: new Uint8Array(1) }]) })
    }
    case 'unknownTopic': return insert(defect.at, { topic: defect.topic, partition: 0,
      batch: batchOf([{ key: null, value: new Uint8Array(1) }]) })
    case 'internalTopic': return insert(defect.at, { topic: '__consumer_offsets', partition: 0,
      batch: batchOf([{ key: null, value: new Uint8Array(1) }]) })
    case 'samePartitionTwice': {
      const source = valid[defect.source % valid.length]!
      return insert(defect.at, { ...source, batch: batchOf(defect.records) })
    }
    case 'tooManyPartitions': return defect.extra.map(partition =>
      ({ ...PARTITIONS[partition]!, batch: batchOf([{ key: null, value: null }]) }))
  }
}

/** Header changes the broker's validator refuses but the pre-check (header, CRC) lets through. */
export type LateDefect = 'control' | 'compression' | 'lastOffsetDelta' | 'maxTimestamp'

export function lateDefect(batch: Buffer, defect: LateDefect, amount: number): Buffer {
  const changed = Buffer.from(batch)
  if (defect === 'control') changed.writeInt16BE(changed.readInt16BE(21) | 0x20, 21)
  if (defect === 'compression') changed.writeInt16BE((changed.readInt16BE(21) & ~7) | amount, 21)
  if (defect === 'lastOffsetDelta') changed.writeInt32BE(changed.readInt32BE(23) + amount, 23)
  if (defect === 'maxTimestamp') changed.writeBigInt64BE(changed.readBigInt64BE(35) + 1n, 35)
  changed.writeUInt32BE(computeBatchCrc(changed, 0), 17)
  return changed
}
