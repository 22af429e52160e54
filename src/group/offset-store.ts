/**
 * Committed offsets, kept in the compacted internal topic `__consumer_offsets` and mirrored in
 * memory (Kafka's GroupMetadataManager, offsets part). Records and their layout are in
 * offset-record.ts; a group's records all go to one partition (`partitionForGroup`).
 *
 * The in-memory map changes only in `replay(record)`: a commit appends its records as one batch
 * (so a commit is atomic) and replays them once the append has resolved, i.e. once they are
 * durable; opening replays every partition from its log start. So what a fetch returns is always
 * what recovery would rebuild. Replay is in log order: each append's records are replayed in a
 * reaction attached directly to its promise, and the log resolves appends in offset order; an
 * assertion checks it per partition.
 *
 * Deleting offsets writes tombstones (null values), which compaction later removes; a group's
 * tombstones may span several batches (they are idempotent, so a partial write is harmless).
 *
 * Deliberately not here: group metadata records (members, generation, assignment — Kafka writes
 * them too; Weir's members simply rejoin after a restart), offset retention/expiry
 * (offsets.retention.minutes), and transactional offset commits.
 */
import { WeirError } from '../errors.ts'
import type { PartitionLog } from '../log/partition-log.ts'
import type { LogRecord, RecordInput } from '../log/record-batch.ts'
import { assert } from '../util/assert.ts'
import type { TopicPartition } from './assignor.ts'
import type { CommittedOffset } from './group-requests.ts'
import {
  decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue, type OffsetValue,
  partitionForGroup,
} from './offset-record.ts'

/** An offset to write: the partition it is for, and the value to store. */
export type OffsetWrite = TopicPartition & OffsetValue

const topicPartitionKey = (topic: string, partition: number): string => `${partition}:${topic}`

const byTopicPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition

export class OffsetStore {
  /** groupId → (partition:topic → committed offset). Groups with no offsets are removed. */
  private readonly offsets = new Map<string, Map<string, CommittedOffset>>()
  /** Per offsets-log partition: the next log offset replay expects to be at or beyond. */
  private readonly replayedNextOffset: number[]
  private readonly writes = new Set<Promise<unknown>>()

  private constructor(private readonly logs: readonly PartitionLog[]) {
    assert(logs.length > 0, 'the offsets topic has at least one partition')
    this.replayedNextOffset = logs.map(log => log.logStartOffset)
  }

  /** Opens the store by replaying every partition of `__consumer_offsets` from its start. */
  static async open(logs: readonly PartitionLog[]): Promise<OffsetStore> {
    const store = new OffsetStore(logs)
    for (let partition = 0; partition < logs.length; partition++) {
      await store.load(partition)
    }
    return store
  }

  private async load(partition: number): Promise<void> {
    const log = this.logs[partition]!
    let offset = log.logStartOffset
    const end = log.highWatermark
    while (offset < end) {
      const { records, nextOffset } = await log.readRecords(offset, { maxOffset: end })
      assert(nextOffset > offset, `reading __consumer_offsets-${partition} must advance`)
      for (const record of records) this.replay(partition, record)
      offset = nextOffset
    }
    assert(offset >= end, 'loading reads up to the high watermark seen at open')
  }

  get partitionCount(): number {
    return this.logs.length
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.logs.length)
  }

  /**
   * Applies one stored record to the in-memory map: a value sets the offset, a tombstone
   * removes it. The only place the map changes.
   */
  replay(partition: number, record: Pick<LogRecord, 'offset' | 'key' | 'value'>): void {
    assert(record.offset >= this.replayedNextOffset[partition]!,
      `__consumer_offsets-${partition} is replayed in offset order`)
    this.replayedNextOffset[partition] = record.offset + 1
    if (record.key === null) {
      throw new WeirError('WEIR_ERR_LOG_CORRUPT', `Record ${record.offset} of `
        + `__consumer_offsets-${partition} has no key; restore or delete that partition.`)
    }
    const key = decodeOffsetKey(record.key)
    if (key === undefined) return // group metadata (key version 2): not kept by Weir
    assert(this.partitionFor(key.groupId) === partition, 'a group is stored in its partition')
    const entries = this.offsets.get(key.groupId)
    const mapKey = topicPartitionKey(key.topic, key.partition)
    if (record.value === null) {
      entries?.delete(mapKey)
      if (entries?.size === 0) this.offsets.delete(key.groupId)
      return
    }
    const value = decodeOffsetValue(record.value)
    const committed: CommittedOffset = { topic: key.topic, partition: key.partition, ...value }
    if (entries === undefined) this.offsets.set(key.groupId, new Map([[mapKey, committed]]))
    else entries.set(mapKey, committed)
  }

  /** Writes `offsets` for `groupId` as one batch; resolves once durable and replayed. */
  commit(groupId: string, offsets: readonly OffsetWrite[]): Promise<void> {
    assert(offsets.length > 0, 'a commit writes at least one offset')
    const timestamp = Math.max(...offsets.map(entry => entry.commitTimestamp))
    const records: RecordInput[] = offsets.map(entry => ({
      key: encodeOffsetKey({ groupId, topic: entry.topic, partition: entry.partition }),
      value: encodeOffsetValue(entry),
    }))
    return this.write(groupId, records, timestamp)
  }

  /**
   * Writes tombstones for the group's offsets of `partitions` that exist (all of its offsets
   * when omitted). Resolves with how many were deleted, once durable and replayed.
   */
  async delete(groupId: string, nowMs: number, partitions?: readonly TopicPartition[]):
  Promise<number> {
    const existing = this.fetch(groupId, partitions)
    const logConfig = this.logs[this.partitionFor(groupId)]!.config
    // Keep each batch well under the log's batch limit; 64 bytes covers record framing.
    const budget = Math.floor(logConfig.batchBytesMax / 2)
    let chunk: RecordInput[] = []
    let bytes = 0
    for (const entry of existing) {
      const key = encodeOffsetKey({ groupId, topic: entry.topic, partition: entry.partition })
      if (chunk.length > 0 && bytes + key.length + 64 > budget) {
        await this.write(groupId, chunk, nowMs)
        chunk = []
        bytes = 0
      }
      chunk.push({ key, value: null })
      bytes += key.length + 64
    }
    if (chunk.length > 0) await this.write(groupId, chunk, nowMs)
    return existing.length
  }

  private write(groupId: string, records: readonly RecordInput[], timestamp: number):
  Promise<void> {
    const partition = this.partitionFor(groupId)
    const log = this.logs[partition]!
    // The reaction is attached directly to the append's promise so replays run in log order.
    const written = log.appendRecords(records, { timestamp }).then(result => {
      assert(result.lastOffset - result.baseOffset + 1 === records.length,
        'one offset per record')
      records.forEach((record, i) => this.replay(partition,
        { offset: result.baseOffset + i, key: record.key ?? null, value: record.value }))
    })
    this.writes.add(written)
    void written.finally(() => this.writes.delete(written)).catch(() => undefined)
    return written
  }

  /**
   * The group's committed offsets for `partitions` (in that order, leaving out partitions with
   * no committed offset), or all of them sorted by topic and partition.
   */
  fetch(groupId: string, partitions?: readonly TopicPartition[]): CommittedOffset[] {
    const entries = this.offsets.get(groupId)
    if (entries === undefined) return []
    if (partitions === undefined) return [...entries.values()].sort(byTopicPartition)
    const found: CommittedOffset[] = []
    for (const { topic, partition } of partitions) {
      const entry = entries.get(topicPartitionKey(topic, partition))
      if (entry !== undefined) found.push(entry)
    }
    return found
  }

  hasOffsets(groupId: string): boolean {
    return this.offsets.has(groupId)
  }

  /** Every group with at least one committed offset. */
  groupIds(): string[] {
    return [...this.offsets.keys()]
  }

  /** Resolves once every write started so far has settled (for close). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.writes])
  }
}
