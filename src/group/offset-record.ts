/**
 * The records of `__consumer_offsets`: which partition a group's records go to, and the byte
 * layout of an offset commit's key and value. Pure functions; offset-store.ts does the I/O.
 *
 * Partition: Kafka's `Utils.abs(groupId.hashCode) % partitionCount` (GroupMetadataManager
 * .partitionFor), with Java's String.hashCode over UTF-16 code units, so a group lands on the
 * partition Kafka would choose for the same partition count.
 *
 * Layout (big-endian; strings are int16 byte length + UTF-8):
 * ```
 * key   = version:int16 (=1, offset commit) group:string topic:string partition:int32
 * value = version:int16 (=1) offset:int64 metadata:string commitTimestamp:int64
 * ```
 * A null value is a tombstone: the offset was deleted. Key version 1 mirrors Kafka, whose
 * offset-commit keys are versions 0-1 and group-metadata keys version 2; we write no group
 * metadata (see offset-store.ts) and skip version-2 keys when reading, so a log holding them
 * still loads. Any other version, or bytes that do not parse, is WEIR_ERR_LOG_CORRUPT.
 */

/** The internal topic group offsets are stored in (Kafka's name). */
export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets'
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { TopicPartition } from './assignor.ts'

export const OFFSET_COMMIT_KEY_VERSION = 1
export const GROUP_METADATA_KEY_VERSION = 2
export const OFFSET_COMMIT_VALUE_VERSION = 1

export interface OffsetKey extends TopicPartition {
  readonly groupId: string
}

export interface OffsetValue {
  readonly offset: number
  readonly metadata: string
  readonly commitTimestamp: number
}

/** Java's `String.hashCode()`: h = 31·h + c over UTF-16 code units, in int32 arithmetic. */
export function javaStringHashCode(text: string): number {
  let hash = 0
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0
  return hash
}

/** The `__consumer_offsets` partition holding `groupId`'s records. */
export function partitionForGroup(groupId: string, partitionCount: number): number {
  assert(Number.isSafeInteger(partitionCount) && partitionCount > 0,
    'the offsets topic has at least one partition')
  const hash = javaStringHashCode(groupId)
  // Kafka's Utils.abs maps Integer.MIN_VALUE (whose Math.abs overflows) to 0.
  const partition = (hash === -0x80000000 ? 0 : Math.abs(hash)) % partitionCount
  assert(partition >= 0 && partition < partitionCount, 'partition in range')
  return partition
}

function stringBytes(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length > 0x7fff) {
    throw new WeirError('INVALID_REQUEST',
      `The ${what} is ${bytes.length} bytes in UTF-8; at most 32767 fit; shorten it.`)
  }
  return bytes
}

export function encodeOffsetKey(key: OffsetKey): Buffer {
  assert(Number.isSafeInteger(key.partition) && key.partition >= 0, 'partition is an int ≥ 0')
  const group = stringBytes(key.groupId, 'group id')
  const topic = stringBytes(key.topic, 'topic name')
  const buffer = Buffer.alloc(2 + 2 + group.length + 2 + topic.length + 4)
  let position = buffer.writeInt16BE(OFFSET_COMMIT_KEY_VERSION, 0)
  position = buffer.writeInt16BE(group.length, position)
  position += group.copy(buffer, position)
  position = buffer.writeInt16BE(topic.length, position)
  position += topic.copy(buffer, position)
  position = buffer.writeInt32BE(key.partition, position)
  assert(position === buffer.length, 'offset key fills its buffer exactly')
  return buffer
}

export function encodeOffsetValue(value: OffsetValue): Buffer {
  assert(Number.isSafeInteger(value.offset) && value.offset >= 0, 'offset is an int ≥ 0')
  assert(Number.isSafeInteger(value.commitTimestamp), 'commit timestamp is an integer')
  const metadata = stringBytes(value.metadata, 'offset metadata')
  const buffer = Buffer.alloc(2 + 8 + 2 + metadata.length + 8)
  let position = buffer.writeInt16BE(OFFSET_COMMIT_VALUE_VERSION, 0)
  position = buffer.writeBigInt64BE(BigInt(value.offset), position)
  position = buffer.writeInt16BE(metadata.length, position)
  position += metadata.copy(buffer, position)
  position = buffer.writeBigInt64BE(BigInt(value.commitTimestamp), position)
  assert(position === buffer.length, 'offset value fills its buffer exactly')
  return buffer
}

/** A cursor over a stored key or value that reports damage as WEIR_ERR_LOG_CORRUPT. */
class Reader {
  private position = 0
  constructor(private readonly buffer: Buffer, private readonly what: string) {}

  private need(bytes: number): number {
    const at = this.position
    if (at + bytes > this.buffer.length) throw this.corrupt('is truncated')
    this.position += bytes
    return at
  }

  int16(): number { return this.buffer.readInt16BE(this.need(2)) }
  int32(): number { return this.buffer.readInt32BE(this.need(4)) }

  int64(): number {
    const value = this.buffer.readBigInt64BE(this.need(8))
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.corrupt(`holds ${value}, beyond a safe integer`)
    }
    return Number(value)
  }

  string(): string {
    const length = this.int16()
    if (length < 0) throw this.corrupt(`has a negative string length ${length}`)
    const at = this.need(length)
    return this.buffer.toString('utf8', at, at + length)
  }

  end(): void {
    if (this.position !== this.buffer.length) throw this.corrupt('has trailing bytes')
  }

  corrupt(problem: string): WeirError {
    return new WeirError('WEIR_ERR_LOG_CORRUPT', `A __consumer_offsets ${this.what} ${problem}; `
      + 'the offsets log is damaged: restore it or delete the damaged partition.')
  }
}

/** Decodes a key; undefined for a group-metadata key (version 2), which offsets ignore. */
export function decodeOffsetKey(bytes: Buffer): OffsetKey | undefined {
  const reader = new Reader(bytes, 'key')
  const version = reader.int16()
  if (version === GROUP_METADATA_KEY_VERSION) return undefined
  if (version !== OFFSET_COMMIT_KEY_VERSION) throw reader.corrupt(`has version ${version}`)
  const groupId = reader.string()
  const topic = reader.string()
  const partition = reader.int32()
  if (partition < 0) throw reader.corrupt(`has partition ${partition}`)
  reader.end()
  return { groupId, topic, partition }
}

export function decodeOffsetValue(bytes: Buffer): OffsetValue {
  const reader = new Reader(bytes, 'value')
  const version = reader.int16()
  if (version !== OFFSET_COMMIT_VALUE_VERSION) throw reader.corrupt(`has version ${version}`)
  const offset = reader.int64()
  const metadata = reader.string()
  const commitTimestamp = reader.int64()
  reader.end()
  if (offset < 0) throw reader.corrupt(`has offset ${offset}`)
  return { offset, metadata, commitTimestamp }
}
