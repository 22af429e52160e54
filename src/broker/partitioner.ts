/**
 * The producer's partitioner: which partition of a topic a record without an explicit partition
 * goes to. It owns the key → partition mapping and the per-topic "sticky" partition of records
 * without a key; it does not own batching, explicit partitions (the producer uses those as
 * given, without asking the partitioner) or partition availability (an embedded Weir broker
 * leads every partition, so there is no unavailable partition to avoid).
 *
 * Keyed records: `toPositive(murmur2(key)) % partitionCount`, exactly Kafka's
 * `BuiltInPartitioner.partitionForKey`, so the same key bytes land on the same partition number
 * as with the Java client, librdkafka (`murmur2_random`) and KafkaJS's default partitioner. The
 * mapping depends only on the key and the partition count: adding partitions moves keys, as in
 * Kafka.
 *
 * Records with a null key: the sticky partitioner of KIP-480 (Kafka's `StickyPartitionCache`,
 * KafkaJS's sticky partitioner). Each topic keeps one partition, chosen at random, until the
 * producer reports that a batch for it was sealed; the next null-key record then picks another
 * partition at random, different from the previous one when there are at least two. Filling one
 * batch at a time gives bigger batches and lower latency than round-robin, and the random choice
 * spreads load over time. An empty key (`Buffer.alloc(0)`) is a key, hashed like any other, as in
 * Kafka, where only a null key is sticky.
 *
 * Invariants: every partition returned is an integer in [0, partitionCount); a topic's sticky
 * partition changes only through `onNewBatch`/`onBatchSealed` (or when the partition count no
 * longer contains it); a report for a partition that is not the sticky one changes nothing
 * (Kafka's `prevPartition` check, so a late report cannot move a topic twice).
 *
 * Deliberately not here: KIP-794's byte-count switching (`partitioner.sticky.batch.size`) and
 * adaptive, queue-weighted choice of `BuiltInPartitioner`, which need per-partition queue sizes
 * the producer does not expose yet; KIP-794 notes that switching on sealed batches favours slow
 * partitions, whose batches fill up while waiting. Randomness is injected (`random`, default
 * `systemRandom` from util/random.ts).
 */
import { assert } from '../util/assert.ts'
import { systemRandom } from '../util/random.ts'
import { murmur2, toPositive } from './murmur2.ts'

/** What a partitioner is told about one record. */
export interface PartitionerInput {
  readonly topic: string
  /** The serialized key; `null` for a record without a key. */
  readonly key: Buffer | null
  /** Partitions the topic has now (at least 1). */
  readonly partitionCount: number
}

/**
 * Chooses the partition of one record that has no explicit partition. Any function of this type
 * can be given to the producer as a custom partitioner.
 *
 * Contract: return an integer in [0, `input.partitionCount`), synchronously, without throwing.
 * For keyed records, return the same partition for the same key and partition count, or records
 * of one key lose their order across partitions. The producer calls it once per record, in send
 * order, and never for a record whose partition is given. A partitioner that also wants to hear
 * when a batch is sealed implements {@link BatchAwarePartitioner}.
 *
 * @example
 * const byRegion: Partitioner = ({ key, partitionCount }) =>
 *   key === null ? 0 : key[0]! % partitionCount
 * @see https://kafka.apache.org/documentation/#producerconfigs_partitioner.class
 */
export type Partitioner = (input: PartitionerInput) => number

/**
 * A partitioner the producer tells about sealed batches, so it can keep per-topic state such as
 * a sticky partition. It is still a {@link Partitioner}: calling it equals calling `partition`.
 */
export interface BatchAwarePartitioner extends Partitioner {
  /** The partition of one record; the same function as calling the partitioner itself. */
  readonly partition: Partitioner
  /**
   * The producer sealed a batch of `topic` (it became full, or linger expired, and the batch
   * was closed for sending). With `partition`, the partition of that batch: the sticky partition
   * moves only if it is that one, as Kafka's `onNewBatch(topic, cluster, prevPartition)`
   * does. Without it, the topic's sticky partition moves unconditionally.
   */
  readonly onBatchSealed: (topic: string, partition?: number) => void
}

/** Whether the producer should report sealed batches to `partitioner`. */
export function isBatchAwarePartitioner(
  partitioner: Partitioner,
): partitioner is BatchAwarePartitioner {
  const candidate = partitioner as Partial<BatchAwarePartitioner>
  return typeof candidate.onBatchSealed === 'function' && typeof candidate.partition === 'function'
}

function assertPartitionCount(partitionCount: number): void {
  assert(Number.isSafeInteger(partitionCount), `partitionCount ${partitionCount} is no integer`)
  assert(partitionCount >= 1, `partitionCount ${partitionCount} is below 1`)
}

/**
 * The partition of a keyed record: `toPositive(murmur2(key)) % partitionCount`, as Kafka's
 * `BuiltInPartitioner.partitionForKey` computes it.
 *
 * @example
 * partitionForKey(Buffer.from('foobar'), 10) // 6: toPositive(-790332482) % 10
 * @throws AssertionError when `partitionCount` is not an integer ≥ 1 (a bug in the caller).
 */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  assertPartitionCount(partitionCount)
  const partition = toPositive(murmur2(key)) % partitionCount
  assert(partition < partitionCount, 'key partition out of range')
  return partition
}

/** Default bound of `StickyPartitionerOptions.stickyTopicsMax`. */
export const STICKY_TOPICS_MAX_DEFAULT = 10_000

export interface StickyPartitionerOptions {
  /** Uniform numbers in [0, 1). Default `systemRandom`; inject a seeded one to replay. */
  readonly random?: () => number
  /**
   * Most topics that keep a sticky partition. Past it the topic used least recently is
   * forgotten; it only loses its stickiness and picks a fresh partition when next used.
   */
  readonly stickyTopicsMax?: number
}

interface StickyState {
  partition: number
  /** A batch for `partition` was sealed: the next record picks another partition. */
  sealed: boolean
}

/**
 * Kafka's sticky partition cache (KIP-480): one partition per topic for records without a key,
 * kept until a batch for it is sealed.
 *
 * @example
 * const sticky = new StickyPartitioner({ random: mulberry32(7).random })
 * const first = sticky.partition('orders', 6) // same value on every call…
 * sticky.onNewBatch('orders', first)          // …until its batch is sealed
 * sticky.partition('orders', 6) !== first     // true
 * @see https://cwiki.apache.org/confluence/display/KAFKA/KIP-480%3A+Sticky+Partitioner
 */
export class StickyPartitioner {
  private readonly random: () => number
  private readonly stickyTopicsMax: number
  /** In order of last use, so the first entry is the one to forget. */
  private readonly stickyByTopic = new Map<string, StickyState>()

  constructor(options: StickyPartitionerOptions = {}) {
    this.random = options.random ?? systemRandom
    this.stickyTopicsMax = options.stickyTopicsMax ?? STICKY_TOPICS_MAX_DEFAULT
    assert(Number.isSafeInteger(this.stickyTopicsMax), 'stickyTopicsMax must be an integer')
    assert(this.stickyTopicsMax >= 1, 'stickyTopicsMax must be at least 1')
  }

  /** The sticky partition of `topic`, choosing a new one if there is none or it was sealed. */
  partition(topic: string, partitionCount: number): number {
    assertPartitionCount(partitionCount)
    const state = this.stickyByTopic.get(topic)
    if (state === undefined) {
      const partition = this.randomPartition(partitionCount)
      this.remember(topic, { partition, sealed: false })
      return partition
    }
    if (state.sealed) {
      state.partition = this.otherPartition(state.partition, partitionCount)
      state.sealed = false
    } else if (state.partition >= partitionCount) {
      // Only a topic deleted and recreated with fewer partitions gets here: Kafka topics grow.
      state.partition = this.randomPartition(partitionCount)
    }
    this.remember(topic, state)
    assert(state.partition < partitionCount, 'sticky partition out of range')
    return state.partition
  }

  /**
   * A batch of `topic` for `previousPartition` was sealed (Kafka's `Partitioner.onNewBatch`).
   * The next null-key record of `topic` goes to another partition if `previousPartition` is the
   * sticky one, or if it is omitted; a report for any other partition changes nothing.
   */
  onNewBatch(topic: string, previousPartition?: number): void {
    const state = this.stickyByTopic.get(topic)
    if (state === undefined) return // nothing sticky yet: the next record picks at random anyway
    if (previousPartition === undefined || previousPartition === state.partition) {
      state.sealed = true
    }
  }

  /** Stores `state` as the most recently used topic, forgetting the oldest past the bound. */
  private remember(topic: string, state: StickyState): void {
    this.stickyByTopic.delete(topic)
    this.stickyByTopic.set(topic, state)
    if (this.stickyByTopic.size > this.stickyTopicsMax) {
      const oldest = this.stickyByTopic.keys().next()
      assert(oldest.done !== true, 'a map above its bound has a first key')
      this.stickyByTopic.delete(oldest.value)
    }
    assert(this.stickyByTopic.size <= this.stickyTopicsMax, 'sticky topics over their bound')
  }

  /** Uniform in [0, count). */
  private randomIndex(count: number): number {
    const value = this.random()
    assert(value >= 0, `random() returned ${value}, below 0`)
    assert(value < 1, `random() returned ${value}, not below 1`)
    // min(): value * count can round up to count when value is within 2^-53 of 1.
    return Math.min(Math.floor(value * count), count - 1)
  }

  private randomPartition(partitionCount: number): number {
    return this.randomIndex(partitionCount)
  }

  /**
   * Uniform over the partitions other than `previous`. Kafka redraws until it gets a different
   * one; drawing among the others and skipping `previous` is as uniform and needs no loop.
   */
  private otherPartition(previous: number, partitionCount: number): number {
    if (partitionCount === 1) return 0
    if (previous >= partitionCount) return this.randomPartition(partitionCount)
    const index = this.randomIndex(partitionCount - 1)
    const partition = index >= previous ? index + 1 : index
    assert(partition !== previous, 'a switched sticky partition differs from the previous one')
    return partition
  }
}

/**
 * Weir's default partitioner, Kafka's default behaviour: a keyed record goes to
 * {@link partitionForKey}; a record with a null key goes to its topic's sticky partition
 * ({@link StickyPartitioner}), which moves when the producer reports a sealed batch.
 *
 * For the producer: call the returned function (or its `partition`, the same function) for each
 * record without an explicit partition, and call `onBatchSealed(topic, partition)` each time a
 * batch is sealed. Keyed records never use `random`.
 *
 * @example
 * const partitioner = defaultPartitioner({ random: mulberry32(seed).random })
 * const partition = partitioner({ topic: 'orders', key: null, partitionCount: 6 })
 * // … the batch for (orders, partition) fills up and is sealed:
 * partitioner.onBatchSealed('orders', partition)
 * @throws AssertionError when `partitionCount` is not an integer ≥ 1 or `random` leaves [0, 1).
 */
export function defaultPartitioner(options: StickyPartitionerOptions = {}): BatchAwarePartitioner {
  const sticky = new StickyPartitioner(options)
  const partition: Partitioner = ({ topic, key, partitionCount }) =>
    key === null ? sticky.partition(topic, partitionCount) : partitionForKey(key, partitionCount)
  const onBatchSealed = (topic: string, sealedPartition?: number): void =>
    sticky.onNewBatch(topic, sealedPartition)
  return Object.assign(partition, { partition, onBatchSealed })
}
