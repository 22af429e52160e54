/**
 * Goal: show that the default partitioner places keyed records exactly where Kafka's
 * `BuiltInPartitioner.partitionForKey` would, and records without a key as Kafka's KIP-480 sticky
 * partitioner does: on one partition per topic until a batch of that partition is sealed, then on
 * another one chosen with the injected randomness; and that every answer is a valid partition.
 *
 * Method: keyed partitions are checked against Kafka's published murmur2 hashes (UtilsTest)
 * reduced by Kafka's formula, and by properties over random keys and partition counts. Sticky
 * behaviour is driven with scripted or seeded (`mulberry32`) randomness, so every outcome is
 * exact and replayable. Uniformity is checked deterministically: fixed key sets and fixed seeds,
 * with bounds on each partition's share, never timing or an unseeded generator.
 */
import { test, fc } from '@fast-check/vitest'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  defaultPartitioner, isBatchAwarePartitioner, partitionForKey, StickyPartitioner,
  type BatchAwarePartitioner, type Partitioner, type PartitionerInput,
} from '../../src/broker/partitioner.ts'
import { mulberry32 } from '../../src/testing/sim-disk.ts'
import { AssertionError } from '../../src/util/assert.ts'
import { kafkaUtilsTestMurmur2 } from '../helpers/murmur2-vectors.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(200)

/** A `random` that returns `values` in turn, cycling. */
function scripted(values: readonly number[]): () => number {
  let next = 0
  return () => values[next++ % values.length]!
}

/** A `random` that fails the test if called: keyed records must not draw. */
function mustNotDraw(): number {
  throw new Error('random() was called')
}

/** Counts per partition of `partitionOf(i)` for i in [0, samples). */
function histogram(partitionCount: number, samples: number, partitionOf: (i: number) => number):
number[] {
  const counts = new Array<number>(partitionCount).fill(0)
  for (let i = 0; i < samples; i++) counts[partitionOf(i)]!++
  return counts
}

/** Largest |count - mean| / mean over the partitions. */
function worstRelativeDeviation(counts: readonly number[]): number {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length
  return Math.max(...counts.map((count) => Math.abs(count - mean) / mean))
}

const randomArbitrary = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
const randomsArbitrary = fc.array(randomArbitrary, { minLength: 1, maxLength: 20 })
const partitionCountArbitrary = fc.integer({ min: 1, max: 1000 })
const topicArbitrary = fc.string({ minLength: 1, maxLength: 12 })
const keyArbitrary = fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes))

describe('partitionForKey', () => {
  // Kafka's hashes (UtilsTest `testMurmur2`), reduced with Kafka's own formula from
  // clients/src/main/java/org/apache/kafka/clients/producer/internals/BuiltInPartitioner.java:
  // `Utils.toPositive(Utils.murmur2(serializedKey)) % numPartitions`.
  for (const [key, hash] of kafkaUtilsTestMurmur2) {
    it(`places "${key}" where Kafka does for 1, 3, 10, 12 and 50 partitions`, () => {
      for (const partitionCount of [1, 3, 10, 12, 50]) {
        const expected = (hash & 0x7fffffff) % partitionCount
        expect(partitionForKey(Buffer.from(key), partitionCount)).toBe(expected)
      }
    })
  }

  it('refuses a partition count that is not an integer of at least 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => partitionForKey(Buffer.from('k'), bad)).toThrow(AssertionError)
    }
  })

  test.prop([keyArbitrary, partitionCountArbitrary], { numRuns })(
    'the partition of any key is an integer in [0, partitionCount)',
    (key, partitionCount) => {
      const partition = partitionForKey(key, partitionCount)
      expect(Number.isInteger(partition)).toBe(true)
      expect(partition).toBeGreaterThanOrEqual(0)
      expect(partition).toBeLessThan(partitionCount)
    })

  it('spreads 100,000 distinct keys over the partitions within 5% of an even share', () => {
    for (const partitionCount of [2, 3, 8, 12]) {
      const counts = histogram(partitionCount, 100_000,
        (i) => partitionForKey(Buffer.from(`key-${i}`), partitionCount))
      expect(worstRelativeDeviation(counts)).toBeLessThan(0.05)
    }
  })

  it('spreads 100,000 seeded random 16-byte keys over 50 partitions within 10% of even', () => {
    const source = mulberry32(20240601)
    const key = Buffer.alloc(16)
    const counts = histogram(50, 100_000, () => {
      for (let j = 0; j < key.length; j++) key[j] = Math.floor(source.random() * 256)
      return partitionForKey(key, 50)
    })
    expect(worstRelativeDeviation(counts)).toBeLessThan(0.1)
  })
})

describe('StickyPartitioner', () => {
  it('picks the first partition from random(): floor(random * partitionCount)', () => {
    expect(new StickyPartitioner({ random: scripted([0]) }).partition('t', 4)).toBe(0)
    expect(new StickyPartitioner({ random: scripted([0.5]) }).partition('t', 4)).toBe(2)
    expect(new StickyPartitioner({ random: scripted([0.999]) }).partition('t', 4)).toBe(3)
  })

  it('after a sealed batch, picks uniformly among the partitions other than the old one', () => {
    // First pick floor(0.5 * 4) = 2; then index floor(r * 3) of the others [0, 1, 3].
    const cases: [number, number][] = [[0, 0], [0.4, 1], [0.9, 3]]
    for (const [draw, expected] of cases) {
      const sticky = new StickyPartitioner({ random: scripted([0.5, draw]) })
      expect(sticky.partition('t', 4)).toBe(2)
      sticky.onNewBatch('t', 2)
      expect(sticky.partition('t', 4)).toBe(expected)
    }
  })

  it('stays on partition 0 of a one-partition topic across sealed batches', () => {
    const sticky = new StickyPartitioner({ random: mulberry32(1).random })
    for (let batch = 0; batch < 10; batch++) {
      expect(sticky.partition('single', 1)).toBe(0)
      sticky.onNewBatch('single', 0)
    }
  })

  it('moves only once when the same sealed batch is reported twice', () => {
    const sticky = new StickyPartitioner({ random: scripted([0, 0, 0]) })
    expect(sticky.partition('t', 3)).toBe(0)
    sticky.onNewBatch('t', 0)
    sticky.onNewBatch('t', 0)
    expect(sticky.partition('t', 3)).toBe(1)
    expect(sticky.partition('t', 3)).toBe(1)
  })

  it('keeps its partition when partitions are added, and re-picks if it no longer exists', () => {
    const sticky = new StickyPartitioner({ random: scripted([0.9, 0.1]) })
    expect(sticky.partition('t', 4)).toBe(3)
    expect(sticky.partition('t', 8)).toBe(3)
    expect(sticky.partition('t', 2)).toBe(0)
  })

  it('forgets the least recently used topic past stickyTopicsMax, which then re-picks', () => {
    let draws = 0
    const sticky = new StickyPartitioner({ random: () => (draws++, 0), stickyTopicsMax: 2 })
    sticky.partition('a', 5)
    sticky.partition('b', 5)
    sticky.partition('a', 5) // a is now the most recently used
    expect(draws).toBe(2)
    sticky.partition('c', 5) // forgets b
    sticky.partition('a', 5)
    expect(draws).toBe(3)
    sticky.partition('b', 5)
    expect(draws).toBe(4)
  })

  it('refuses a random() outside [0, 1) and a stickyTopicsMax below 1', () => {
    expect(() => new StickyPartitioner({ random: () => 1 }).partition('t', 3))
      .toThrow(AssertionError)
    expect(() => new StickyPartitioner({ random: () => -0.1 }).partition('t', 3))
      .toThrow(AssertionError)
    expect(() => new StickyPartitioner({ stickyTopicsMax: 0 })).toThrow(AssertionError)
  })

  it('over 40,000 seeded sealed batches, uses each of 8 partitions within 5% of even', () => {
    const sticky = new StickyPartitioner({ random: mulberry32(42).random })
    const counts = histogram(8, 40_000, () => {
      const partition = sticky.partition('spread', 8)
      sticky.onNewBatch('spread', partition)
      return partition
    })
    expect(worstRelativeDeviation(counts)).toBeLessThan(0.05)
  })
})

describe('defaultPartitioner', () => {
  it('is a Partitioner that the producer can also tell about sealed batches', () => {
    const partitioner = defaultPartitioner()
    expectTypeOf(partitioner).toMatchTypeOf<Partitioner>()
    expectTypeOf(partitioner.onBatchSealed).parameters.toEqualTypeOf<[string, number?]>()
    expect(isBatchAwarePartitioner(partitioner)).toBe(true)
  })

  it('accepts any function of the Partitioner type as a custom partitioner', () => {
    const firstByte: Partitioner = ({ key, partitionCount }) =>
      key === null || key.length === 0 ? 0 : key[0]! % partitionCount
    expectTypeOf(firstByte).parameter(0).toEqualTypeOf<PartitionerInput>()
    expect(isBatchAwarePartitioner(firstByte)).toBe(false)
    expect(firstByte({ topic: 't', key: Buffer.from([7]), partitionCount: 4 })).toBe(3)
  })

  test.prop([topicArbitrary, keyArbitrary, partitionCountArbitrary], { numRuns })(
    'a keyed record goes to partitionForKey and draws no randomness',
    (topic, key, partitionCount) => {
      const partitioner = defaultPartitioner({ random: mustNotDraw })
      expect(partitioner({ topic, key, partitionCount })).toBe(partitionForKey(key, partitionCount))
    })

  test.prop([fc.array(fc.tuple(topicArbitrary, fc.option(keyArbitrary), fc.boolean()),
    { minLength: 1, maxLength: 40 }), randomsArbitrary, partitionCountArbitrary], { numRuns })(
    'every partition returned is an integer in [0, partitionCount), sealed batches or not',
    (records, randoms, partitionCount) => {
      const partitioner = defaultPartitioner({ random: scripted(randoms) })
      for (const [topic, key, seal] of records) {
        const partition = partitioner.partition({ topic, key, partitionCount })
        expect(Number.isInteger(partition)).toBe(true)
        expect(partition).toBeGreaterThanOrEqual(0)
        expect(partition).toBeLessThan(partitionCount)
        if (seal) partitioner.onBatchSealed(topic, partition)
      }
    })

  test.prop([keyArbitrary, fc.array(topicArbitrary, { minLength: 1, maxLength: 5 }),
    randomsArbitrary, partitionCountArbitrary], { numRuns })(
    'the same key goes to the same partition whatever topic and sealed batches came between',
    (key, topics, randoms, partitionCount) => {
      const partitioner = defaultPartitioner({ random: scripted(randoms) })
      const first = partitioner({ topic: topics[0]!, key, partitionCount })
      for (const topic of topics) {
        const sticky = partitioner({ topic, key: null, partitionCount })
        partitioner.onBatchSealed(topic, sticky)
        expect(partitioner({ topic, key, partitionCount })).toBe(first)
      }
    })

  test.prop([topicArbitrary, fc.integer({ min: 1, max: 100 }), randomsArbitrary,
    partitionCountArbitrary], { numRuns })(
    'until a batch is sealed, every null-key record of a topic goes to one partition',
    (topic, records, randoms, partitionCount) => {
      const partitioner = defaultPartitioner({ random: scripted(randoms) })
      const first = partitioner({ topic, key: null, partitionCount })
      for (let i = 1; i < records; i++) {
        expect(partitioner({ topic, key: null, partitionCount })).toBe(first)
      }
    })

  test.prop([topicArbitrary, randomsArbitrary, fc.integer({ min: 2, max: 1000 }),
    fc.boolean()], { numRuns })(
    'sealing the sticky partition\'s batch moves the topic to a different partition',
    (topic, randoms, partitionCount, namePartition) => {
      const partitioner = defaultPartitioner({ random: scripted(randoms) })
      const before = partitioner({ topic, key: null, partitionCount })
      partitioner.onBatchSealed(topic, namePartition ? before : undefined)
      const after = partitioner({ topic, key: null, partitionCount })
      expect(after).not.toBe(before)
      expect(partitioner({ topic, key: null, partitionCount })).toBe(after)
    })

  test.prop([topicArbitrary, randomsArbitrary, fc.integer({ min: 2, max: 1000 }), fc.nat()],
    { numRuns })(
    'sealing a batch of another partition of the topic leaves the sticky partition alone',
    (topic, randoms, partitionCount, offset) => {
      const partitioner = defaultPartitioner({ random: scripted(randoms) })
      const sticky = partitioner({ topic, key: null, partitionCount })
      const other = (sticky + 1 + (offset % (partitionCount - 1))) % partitionCount
      partitioner.onBatchSealed(topic, other)
      expect(partitioner({ topic, key: null, partitionCount })).toBe(sticky)
    })

  test.prop([fc.uniqueArray(topicArbitrary, { minLength: 2, maxLength: 2 }), randomsArbitrary,
    fc.integer({ min: 2, max: 1000 })], { numRuns })(
    'sealing one topic\'s batch never moves another topic\'s sticky partition',
    ([sealed, untouched], randoms, partitionCount) => {
      const partitioner = defaultPartitioner({ random: scripted(randoms) })
      const before = partitioner({ topic: untouched!, key: null, partitionCount })
      const sealedPartition = partitioner({ topic: sealed!, key: null, partitionCount })
      partitioner.onBatchSealed(sealed!, sealedPartition)
      partitioner({ topic: sealed!, key: null, partitionCount })
      expect(partitioner({ topic: untouched!, key: null, partitionCount })).toBe(before)
    })

  it('calling the partitioner and calling its partition method give the same answers', () => {
    const draws = [0.25, 0.75, 0.5]
    const viaCall = defaultPartitioner({ random: scripted(draws) })
    const viaMethod: BatchAwarePartitioner = defaultPartitioner({ random: scripted(draws) })
    for (let batch = 0; batch < 3; batch++) {
      const input = { topic: 't', key: null, partitionCount: 6 }
      const partition = viaCall(input)
      expect(viaMethod.partition(input)).toBe(partition)
      viaCall.onBatchSealed('t', partition)
      viaMethod.onBatchSealed('t', partition)
    }
  })
})
