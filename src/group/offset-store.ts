/**
 * Committed offsets, kept in the compacted internal topic `__consumer_offsets` and mirrored in
 * memory (Kafka's GroupMetadataManager, offsets part). Records and their layout are in
 * offset-record.ts; a group's records all go to one partition (`partitionForGroup`).
 *
 * The in-memory state changes only in `replay(partition, batch)`: a commit appends its records
 * as one batch (so a commit is atomic) and replays it once the append has resolved, i.e. once it
 * is durable; opening replays every partition from its log start, batch by batch. So what a fetch
 * returns is always what recovery would rebuild. Replay is in log order: each append's batch is
 * replayed in a reaction attached directly to its promise, and the log resolves appends in offset
 * order; an assertion checks it per partition.
 *
 * Transactional offset commits (Kafka's TxnOffsetCommit, KIP-98/KIP-447): a transactional batch
 * of producer P makes its offsets *pending* for (partition, P), invisible to `fetch`; a later
 * pending write of P for the same key replaces the earlier one. P's commit marker (a control
 * batch) applies them through the same path as a plain commit record, an abort marker drops
 * them, a marker with nothing pending does nothing. Applying is newest-record-wins by log offset
 * (Kafka's CommitRecordMetadataAndOffset.olderThan): a pending offset older than the committed
 * record for its key is not applied, because compaction keeps only the newest record per key and
 * recovery must agree with it. For the same reason a tombstone also drops the older pending
 * offsets of its key, of every producer. Pending offsets whose marker is not in the log stay
 * pending after open: the transaction coordinator writes the marker later.
 *
 * Deleting offsets writes tombstones (null values), which compaction later removes; a group's
 * tombstones may span several batches (they are idempotent, so a partial write is harmless).
 * Deletion covers pending offsets too, so a transaction that commits afterwards brings none back.
 *
 * Deliberately not here: group metadata records (members, generation, assignment — Kafka writes
 * them too; Weir's members simply rejoin after a restart), offset retention/expiry
 * (offsets.retention.minutes), and producer epoch checks (the transaction coordinator fences
 * producers before it calls in; markers apply to a producer id whatever their epoch, as Kafka).
 */
import { WeirError } from '../errors.ts'
import { type ControlType, decodeControlRecord } from '../log/control-record.ts'
import type { AppendResult, PartitionLog } from '../log/partition-log.ts'
import {
  decodeRecords, forEachBatch, isControl, isTransactional, type LogRecord, readBatchHeader,
  type RecordInput,
} from '../log/record-batch.ts'
import { assert } from '../util/assert.ts'
import type { TopicPartition } from './assignor.ts'
import type { CommittedOffset } from './group-requests.ts'
import {
  decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue, type OffsetKey,
  type OffsetValue, partitionForGroup,
} from './offset-record.ts'

/** An offset to write: the partition it is for, and the value to store. */
export type OffsetWrite = TopicPartition & OffsetValue

type ReplayRecord = Pick<LogRecord, 'offset' | 'key' | 'value'>

/** A batch of `__consumer_offsets` as replay needs it. */
type ReplayBatch =
  | { readonly kind: 'data', readonly baseOffset: number, readonly lastOffset: number,
    readonly producerId: number, readonly transactional: boolean,
    readonly records: readonly ReplayRecord[] }
  | { readonly kind: 'marker', readonly baseOffset: number, readonly lastOffset: number,
    readonly producerId: number, readonly type: ControlType }

/** An offset (or, for a tombstone, null) and the log offset of the record that carries it. */
interface StoredOffset {
  readonly key: OffsetKey
  readonly value: OffsetValue | null
  readonly logOffset: number
}

/** groupId → (partition:topic → offset), in write order; empty maps are removed. */
type OffsetsByGroup = Map<string, Map<string, StoredOffset>>

const topicPartitionKey = (topic: string, partition: number): string => `${partition}:${topic}`

const byTopicPartition = (a: TopicPartition, b: TopicPartition): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition

function corrupt(partition: number, offset: number, problem: string, cause?: unknown):
WeirError {
  return new WeirError('WEIR_ERR_LOG_CORRUPT', `Batch ${offset} of __consumer_offsets-`
    + `${partition} ${problem}; restore or delete that partition.`, { cause })
}

/** Removes `mapKey` from the group's map, and the group's map once it is empty. */
function removeOffset(byGroup: OffsetsByGroup, groupId: string, mapKey: string): void {
  const entries = byGroup.get(groupId)
  entries?.delete(mapKey)
  if (entries?.size === 0) byGroup.delete(groupId)
}

/** Decodes the stored batch at `position` for replay. */
function batchAt(bytes: Buffer, position: number, partition: number): ReplayBatch {
  const header = readBatchHeader(bytes, position)
  const records = decodeRecords(bytes, position)
  const common = { baseOffset: header.baseOffset,
    lastOffset: header.baseOffset + header.lastOffsetDelta, producerId: header.producerId }
  if (!isControl(header)) {
    return { kind: 'data', ...common, transactional: isTransactional(header), records }
  }
  if (records.length !== 1) {
    throw corrupt(partition, header.baseOffset, `is a control batch of ${records.length} records`)
  }
  try {
    return { kind: 'marker', ...common, type: decodeControlRecord(records[0]!).type }
  } catch (error) {
    throw corrupt(partition, header.baseOffset, 'holds a marker that does not parse', error)
  }
}

export class OffsetStore {
  /** Committed offsets (never tombstones). */
  private readonly offsets: OffsetsByGroup = new Map()
  /** Per offsets-log partition: producerId → its pending offsets, in write order. */
  private readonly pending: Array<Map<number, OffsetsByGroup>>
  /** Per offsets-log partition: the next log offset replay expects to be at or beyond. */
  private readonly replayedNextOffset: number[]
  private readonly writes = new Set<Promise<unknown>>()

  private constructor(private readonly logs: readonly PartitionLog[]) {
    assert(logs.length > 0, 'the offsets topic has at least one partition')
    this.replayedNextOffset = logs.map(log => log.logStartOffset)
    this.pending = logs.map(() => new Map())
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
      const { bytes, nextOffset } = await log.read(offset, { maxOffset: end })
      assert(nextOffset > offset, `reading __consumer_offsets-${partition} must advance`)
      forEachBatch(bytes, position => this.replay(partition, batchAt(bytes, position, partition)))
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
   * Applies one stored batch: plain records change committed offsets, transactional records
   * become pending for their producer, a marker commits or aborts its producer's pending
   * offsets. The only entry point for state changes.
   */
  private replay(partition: number, batch: ReplayBatch): void {
    assert(batch.baseOffset >= this.replayedNextOffset[partition]!,
      `__consumer_offsets-${partition} is replayed in offset order`)
    assert(batch.lastOffset >= batch.baseOffset, 'a batch ends at or after its start')
    this.replayedNextOffset[partition] = batch.lastOffset + 1
    if (batch.kind === 'marker') {
      this.completePending(partition, batch.producerId, batch.type === 'commit')
      return
    }
    for (const record of batch.records) {
      assert(record.offset >= batch.baseOffset && record.offset <= batch.lastOffset,
        'a record lies within its batch')
      const stored = this.decode(partition, record)
      if (stored === undefined) continue
      if (batch.transactional) this.addPending(partition, batch.producerId, stored)
      else this.apply(partition, stored)
    }
  }

  /** The offset a record carries; undefined for group metadata (key version 2). */
  private decode(partition: number, record: ReplayRecord): StoredOffset | undefined {
    if (record.key === null) {
      throw new WeirError('WEIR_ERR_LOG_CORRUPT', `Record ${record.offset} of `
        + `__consumer_offsets-${partition} has no key; restore or delete that partition.`)
    }
    const key = decodeOffsetKey(record.key)
    if (key === undefined) return undefined // group metadata: not kept by Weir
    assert(this.partitionFor(key.groupId) === partition, 'a group is stored in its partition')
    const value = record.value === null ? null : decodeOffsetValue(record.value)
    return { key, value, logOffset: record.offset }
  }

  /**
   * Sets (or, for a tombstone, removes) a committed offset: the only place the committed map
   * changes. A record older than the committed one is ignored (see the file comment).
   */
  private apply(partition: number, stored: StoredOffset): void {
    const { groupId, topic, partition: topicPartition } = stored.key
    const mapKey = topicPartitionKey(topic, topicPartition)
    const entries = this.offsets.get(groupId)
    const current = entries?.get(mapKey)
    if (current !== undefined && current.logOffset > stored.logOffset) return
    if (stored.value === null) {
      removeOffset(this.offsets, groupId, mapKey)
      this.dropOlderPending(partition, stored)
      return
    }
    assert(current === undefined || current.value !== null, 'committed offsets are not null')
    if (entries === undefined) this.offsets.set(groupId, new Map([[mapKey, stored]]))
    else entries.set(mapKey, stored)
  }

  private addPending(partition: number, producerId: number, stored: StoredOffset): void {
    assert(producerId >= 0, 'a transactional batch has a producer id')
    const producers = this.pending[partition]!
    let byGroup = producers.get(producerId)
    if (byGroup === undefined) producers.set(producerId, byGroup = new Map())
    let entries = byGroup.get(stored.key.groupId)
    if (entries === undefined) byGroup.set(stored.key.groupId, entries = new Map())
    const mapKey = topicPartitionKey(stored.key.topic, stored.key.partition)
    entries.delete(mapKey) // a rewrite moves to the end: entries stay in write order
    entries.set(mapKey, stored)
  }

  /** A marker: commit applies the producer's pending offsets in write order, abort drops them. */
  private completePending(partition: number, producerId: number, commit: boolean): void {
    const byGroup = this.pending[partition]!.get(producerId)
    if (byGroup === undefined) return // nothing pending: a rewritten or duplicate marker
    this.pending[partition]!.delete(producerId)
    if (!commit) return
    for (const entries of byGroup.values()) {
      for (const stored of entries.values()) this.apply(partition, stored)
    }
    assert(!this.pending[partition]!.has(producerId), 'applying adds nothing pending')
  }

  /** A tombstone supersedes every older pending offset of its key, whoever wrote it. */
  private dropOlderPending(partition: number, tombstone: StoredOffset): void {
    const { groupId, topic, partition: topicPartition } = tombstone.key
    const mapKey = topicPartitionKey(topic, topicPartition)
    for (const [producerId, byGroup] of this.pending[partition]!) {
      const entry = byGroup.get(groupId)?.get(mapKey)
      if (entry === undefined || entry.logOffset > tombstone.logOffset) continue
      removeOffset(byGroup, groupId, mapKey)
      if (byGroup.size === 0) this.pending[partition]!.delete(producerId)
    }
  }

  /** Writes `offsets` for `groupId` as one batch; resolves once durable and replayed. */
  commit(groupId: string, offsets: readonly OffsetWrite[]): Promise<void> {
    return this.writeOffsets(groupId, offsets, undefined)
  }

  /**
   * Writes `offsets` for `groupId` as one transactional batch of the producer; once durable
   * they are pending until `completeTransaction` for the group's partition decides them.
   * @see https://cwiki.apache.org/confluence/display/KAFKA/KIP-447
   */
  commitTransactional(groupId: string, producerId: number, producerEpoch: number,
    offsets: readonly OffsetWrite[]): Promise<void> {
    assert(Number.isSafeInteger(producerId) && producerId >= 0, 'producer id is an int ≥ 0')
    assert(Number.isInteger(producerEpoch) && producerEpoch >= 0 && producerEpoch <= 0x7fff,
      'producer epoch is an int16 ≥ 0')
    return this.writeOffsets(groupId, offsets, { producerId, producerEpoch })
  }

  private writeOffsets(groupId: string, offsets: readonly OffsetWrite[],
    producer: { producerId: number, producerEpoch: number } | undefined): Promise<void> {
    assert(offsets.length > 0, 'a commit writes at least one offset')
    const timestamp = Math.max(...offsets.map(entry => entry.commitTimestamp))
    const records: RecordInput[] = offsets.map(entry => ({
      key: encodeOffsetKey({ groupId, topic: entry.topic, partition: entry.partition }),
      value: encodeOffsetValue(entry),
    }))
    return this.write(groupId, records, timestamp, producer)
  }

  /**
   * Appends the producer's transaction marker to `partition` of `__consumer_offsets`; once
   * durable, a commit makes its pending offsets there committed, an abort drops them. A marker
   * for a producer with nothing pending is harmless (the transaction coordinator rewrites
   * markers after a restart).
   */
  completeTransaction(partition: number, producerId: number, producerEpoch: number,
    commit: boolean): Promise<void> {
    assert(Number.isInteger(partition) && partition >= 0 && partition < this.logs.length,
      'the marker goes to a partition of the offsets topic')
    assert(Number.isSafeInteger(producerId) && producerId >= 0, 'producer id is an int ≥ 0')
    const type: ControlType = commit ? 'commit' : 'abort'
    const append = this.logs[partition]!.appendMarker({ type, coordinatorEpoch: 0 },
      { producerId, producerEpoch })
    return this.replayWhenDurable(partition, append, result =>
      ({ kind: 'marker', ...result, producerId, type }))
  }

  /**
   * Writes tombstones for the group's offsets of `partitions` — committed or pending — that
   * exist (all of them when omitted). Resolves with how many were deleted, once durable and
   * replayed.
   */
  async delete(groupId: string, nowMs: number, partitions?: readonly TopicPartition[]):
  Promise<number> {
    const existing = this.existingPartitions(groupId, partitions)
    const logConfig = this.logs[this.partitionFor(groupId)]!.config
    // Keep each batch well under the log's batch limit; 64 bytes covers record framing.
    const budget = Math.floor(logConfig.batchBytesMax / 2)
    let chunk: RecordInput[] = []
    let bytes = 0
    for (const entry of existing) {
      const key = encodeOffsetKey({ groupId, topic: entry.topic, partition: entry.partition })
      if (chunk.length > 0 && bytes + key.length + 64 > budget) {
        await this.write(groupId, chunk, nowMs, undefined)
        chunk = []
        bytes = 0
      }
      chunk.push({ key, value: null })
      bytes += key.length + 64
    }
    if (chunk.length > 0) await this.write(groupId, chunk, nowMs, undefined)
    return existing.length
  }

  /** The group's partitions among `partitions` (or all) with a committed or pending offset. */
  private existingPartitions(groupId: string, partitions?: readonly TopicPartition[]):
  TopicPartition[] {
    const found = new Map<string, TopicPartition>()
    const wanted = partitions === undefined ? undefined
      : new Set(partitions.map(tp => topicPartitionKey(tp.topic, tp.partition)))
    const sources = [this.offsets.get(groupId), ...[...this.pending[this.partitionFor(groupId)]!
      .values()].map(byGroup => byGroup.get(groupId))]
    for (const entries of sources) {
      for (const [mapKey, { key }] of entries ?? []) {
        if (wanted === undefined || wanted.has(mapKey)) {
          found.set(mapKey, { topic: key.topic, partition: key.partition })
        }
      }
    }
    return [...found.values()].sort(byTopicPartition)
  }

  private write(groupId: string, records: readonly RecordInput[], timestamp: number,
    producer: { producerId: number, producerEpoch: number } | undefined): Promise<void> {
    const partition = this.partitionFor(groupId)
    // Sequences are not checked on this internal log (no producer state is kept for it).
    const append = this.logs[partition]!.appendRecords(records, producer === undefined
      ? { timestamp } : { timestamp, ...producer, baseSequence: 0, transactional: true })
    return this.replayWhenDurable(partition, append, result => {
      assert(result.lastOffset - result.baseOffset + 1 === records.length,
        'one offset per record')
      return { kind: 'data', ...result, producerId: producer?.producerId ?? -1,
        transactional: producer !== undefined, records: records.map((record, i) =>
          ({ offset: result.baseOffset + i, key: record.key ?? null, value: record.value })) }
    })
  }

  /** Replays the appended batch once the append resolves (durable); tracks it for `drain`. */
  private replayWhenDurable(partition: number, append: Promise<AppendResult>,
    toBatch: (result: AppendResult) => ReplayBatch): Promise<void> {
    // The reaction is attached directly to the append's promise so replays run in log order.
    const written = append.then(result => this.replay(partition, toBatch(result)))
    this.writes.add(written)
    void written.finally(() => this.writes.delete(written)).catch(() => undefined)
    return written
  }

  /**
   * The group's committed offsets for `partitions` (in that order, leaving out partitions with
   * no committed offset), or all of them sorted by topic and partition. Pending transactional
   * offsets are not included.
   */
  fetch(groupId: string, partitions?: readonly TopicPartition[]): CommittedOffset[] {
    const entries = this.offsets.get(groupId)
    if (entries === undefined) return []
    const toCommitted = ({ key, value }: StoredOffset): CommittedOffset => {
      assert(value !== null, 'committed offsets are not null')
      return { topic: key.topic, partition: key.partition, ...value }
    }
    if (partitions === undefined) {
      return [...entries.values()].map(toCommitted).sort(byTopicPartition)
    }
    const found: CommittedOffset[] = []
    for (const { topic, partition } of partitions) {
      const entry = entries.get(topicPartitionKey(topic, partition))
      if (entry !== undefined) found.push(toCommitted(entry))
    }
    return found
  }

  hasOffsets(groupId: string): boolean {
    return this.offsets.has(groupId)
  }

  /**
   * Whether a transaction holds undecided offsets of the group for any of `partitions` (for any
   * partition when omitted): what OffsetFetch's RequireStable waits for (KIP-447).
   */
  hasPendingOffsets(groupId: string, partitions?: readonly TopicPartition[]): boolean {
    for (const byGroup of this.pending[this.partitionFor(groupId)]!.values()) {
      const entries = byGroup.get(groupId)
      if (entries === undefined) continue
      assert(entries.size > 0, 'empty pending maps are removed')
      if (partitions === undefined) return true
      if (partitions.some(tp => entries.has(topicPartitionKey(tp.topic, tp.partition)))) {
        return true
      }
    }
    return false
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
