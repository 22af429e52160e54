/**
 * Goal: the idempotent-producer state of a partition classifies every batch as Kafka's
 * ProducerStateManager does: an exact resend of any of the producer's last 5 batches is a
 * duplicate answered with the original offsets; a resend of an older batch, or any batch that does
 * not start right after the last sequence, is OUT_OF_ORDER_SEQUENCE; an older epoch is
 * PRODUCER_FENCED; a new epoch (by a batch or by a marker) starts over at sequence 0; sequences
 * wrap from 2^31-1 to 0; an unknown producer must start at 0 unless its state may have been
 * removed by retention; and a refused check changes nothing.
 *
 * Method: properties drive one producer through a generated history of batches (random sizes,
 * offsets with gaps where other producers wrote, a start near the int32 wrap or at 0) and then
 * probe it; the expected sequences come from plain modular arithmetic, not from the module's own
 * helpers. Single rules (epochs, unknown producers, markers) get example tests. No I/O: the
 * manager is pure; its durability is tested in partition.test.ts.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import {
  BATCHES_RETAINED, lastSequenceOf, nextSequence, type ProducerBatch, type ProducerBatchInfo,
  type ProducerEntry, ProducerStateManager,
} from '../../src/broker/producer-state-manager.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(200)
const SEQUENCE_MAX = 2 ** 31 - 1
const PRODUCER = 42

/** Sequence arithmetic as Kafka defines it: int32 non-negative, wrapping to 0. */
const wrap = (sequence: number): number => sequence % 2 ** 31

function info(firstSequence: number, count: number, epoch = 0, producerId = PRODUCER):
ProducerBatchInfo {
  return { producerId, epoch, firstSequence, lastOffsetDelta: count - 1 }
}

function expectCode(run: () => unknown, code: string): void {
  let thrown: unknown
  try {
    run()
  } catch (error) {
    thrown = error
  }
  expect(WeirError.is(thrown), `expected ${code}, got ${String(thrown)}`).toBe(true)
  expect((thrown as WeirError).code).toBe(code)
}

interface Appended {
  readonly info: ProducerBatchInfo
  readonly batch: ProducerBatch
}

/** A generated history: where sequences start, batch sizes, and gaps between their offsets. */
const historyArbitrary = fc.record({
  // undefined: a fresh producer starting at 0; otherwise the last sequence of a batch already in
  // the state (from a snapshot), close to the int32 wrap.
  seedLastSequence: fc.option(fc.integer({ min: SEQUENCE_MAX - 40, max: SEQUENCE_MAX }),
    { nil: undefined }),
  batches: fc.array(fc.record({ count: fc.integer({ min: 1, max: 6 }),
    offsetGap: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 12 }),
  epoch: fc.integer({ min: 0, max: 5 }),
})
type History = typeof historyArbitrary extends fc.Arbitrary<infer T> ? T : never

function seedBatches(history: History): ProducerBatch[] {
  const last = history.seedLastSequence
  return last === undefined ? []
    : [{ firstSequence: last, lastSequence: last, baseOffset: 0, lastOffset: 0 }]
}

/** Appends the history through check + update, asserting every batch is accepted. */
function play(history: History): { manager: ProducerStateManager, appended: Appended[],
  nextOffset: number } {
  const seed: ProducerEntry[] = history.seedLastSequence === undefined ? []
    : [{ producerId: PRODUCER, epoch: history.epoch, batches: seedBatches(history) }]
  const manager = new ProducerStateManager(seed)
  let sequence = history.seedLastSequence === undefined ? 0 : wrap(history.seedLastSequence + 1)
  let offset = seed.length
  const appended: Appended[] = []
  for (const { count, offsetGap } of history.batches) {
    const batchInfo = info(sequence, count, history.epoch)
    expect(manager.check(batchInfo, false)).toEqual({ kind: 'append' })
    offset += offsetGap // other producers' batches in between
    manager.update(batchInfo, offset, offset + count - 1)
    appended.push({ info: batchInfo, batch: { firstSequence: sequence,
      lastSequence: wrap(sequence + count - 1), baseOffset: offset,
      lastOffset: offset + count - 1 } })
    offset += count
    sequence = wrap(sequence + count)
  }
  return { manager, appended, nextOffset: offset }
}

describe('ProducerStateManager', () => {
  test.prop([historyArbitrary], { numRuns })(
    'a resend of any of the last 5 batches is a duplicate answered with its original offsets, '
    + 'and a resend of any older batch is OUT_OF_ORDER_SEQUENCE', history => {
      const { manager, appended } = play(history)
      const before = structuredClone(manager.entries())
      appended.forEach(({ info: batchInfo, batch }, i) => {
        if (i >= appended.length - BATCHES_RETAINED) {
          expect(manager.check(batchInfo, false)).toEqual({ kind: 'duplicate', batch })
          // stateMayBeLost does not turn a known duplicate into a new batch.
          expect(manager.check(batchInfo, true)).toEqual({ kind: 'duplicate', batch })
        } else {
          expectCode(() => manager.check(batchInfo, false), 'OUT_OF_ORDER_SEQUENCE')
        }
      })
      expect(manager.entries()).toEqual(before)
      // The cache is the last 5 batches, counting the one the state started with.
      expect(manager.entry(PRODUCER)!.batches)
        .toEqual([...seedBatches(history), ...appended.map(a => a.batch)].slice(-BATCHES_RETAINED))
    })

  test.prop([historyArbitrary, fc.integer({ min: -12, max: 12 }), fc.integer({ min: 1, max: 6 }),
    fc.boolean()], { numRuns })(
    'after any history a batch is appended only when its first sequence follows the last one; '
    + 'any other batch that is not an exact resend is OUT_OF_ORDER_SEQUENCE and changes nothing',
    (history, shift, count, stateMayBeLost) => {
      const { manager, appended, nextOffset } = play(history)
      const before = structuredClone(manager.entries())
      const expected = wrap(appended[appended.length - 1]!.batch.lastSequence + 1)
      const firstSequence = wrap(expected + shift + 2 ** 31)
      const probe = info(firstSequence, count, history.epoch)
      const cached = [...seedBatches(history), ...appended.map(a => a.batch)]
        .slice(-BATCHES_RETAINED)
      const duplicate = cached.find(batch => batch.firstSequence === firstSequence
        && batch.lastSequence === wrap(firstSequence + count - 1))
      if (duplicate !== undefined) {
        expect(manager.check(probe, stateMayBeLost))
          .toEqual({ kind: 'duplicate', batch: duplicate })
      } else if (firstSequence === expected) {
        expect(manager.check(probe, stateMayBeLost)).toEqual({ kind: 'append' })
        manager.update(probe, nextOffset, nextOffset + count - 1)
        expect(manager.entry(PRODUCER)!.batches.at(-1)).toEqual({ firstSequence,
          lastSequence: wrap(firstSequence + count - 1), baseOffset: nextOffset,
          lastOffset: nextOffset + count - 1 })
        return
      } else {
        // stateMayBeLost only concerns unknown producers: a known one is checked in full.
        expectCode(() => manager.check(probe, stateMayBeLost), 'OUT_OF_ORDER_SEQUENCE')
      }
      expect(manager.entries()).toEqual(before)
    })

  test.prop([historyArbitrary, fc.integer({ min: 1, max: 6 })], { numRuns })(
    'the batch cache never holds more than the last 5 batches of the current epoch',
    (history, count) => {
      const { manager, appended, nextOffset } = play(history)
      const entry = manager.entry(PRODUCER)!
      expect(entry.batches.length).toBeLessThanOrEqual(BATCHES_RETAINED)
      expect(entry.batches.slice(-Math.min(appended.length, BATCHES_RETAINED)))
        .toEqual(appended.slice(-BATCHES_RETAINED).map(a => a.batch))
      // A batch of a newer epoch starts the cache over with just itself.
      const bumped = info(0, count, history.epoch + 1)
      expect(manager.check(bumped, false)).toEqual({ kind: 'append' })
      manager.update(bumped, nextOffset, nextOffset + count - 1)
      expect(manager.entry(PRODUCER)).toEqual({ producerId: PRODUCER, epoch: history.epoch + 1,
        batches: [{ firstSequence: 0, lastSequence: count - 1, baseOffset: nextOffset,
          lastOffset: nextOffset + count - 1 }] })
    })

  test.prop([historyArbitrary, fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 6 }),
    fc.boolean()], { numRuns })(
    'a batch from an older epoch is PRODUCER_FENCED whatever its sequence, even an exact resend '
    + 'of a batch that epoch appended', (history, sequence, count, stateMayBeLost) => {
      const { manager, appended, nextOffset } = play(history)
      manager.update(info(0, 1, history.epoch + 1), nextOffset, nextOffset)
      const before = structuredClone(manager.entries())
      expectCode(() => manager.check(info(sequence, count, history.epoch), stateMayBeLost),
        'PRODUCER_FENCED')
      for (const { info: old } of appended.slice(-BATCHES_RETAINED)) {
        expectCode(() => manager.check(old, stateMayBeLost), 'PRODUCER_FENCED')
      }
      expect(manager.entries()).toEqual(before)
    })

  it('a new epoch must start at sequence 0, and then continues from there', () => {
    const manager = new ProducerStateManager()
    manager.update(info(0, 3, 1), 0, 2)
    expectCode(() => manager.check(info(3, 1, 2), false), 'OUT_OF_ORDER_SEQUENCE')
    expectCode(() => manager.check(info(1, 1, 2), true), 'OUT_OF_ORDER_SEQUENCE')
    expect(manager.check(info(0, 2, 2), false)).toEqual({ kind: 'append' })
    manager.update(info(0, 2, 2), 3, 4)
    expect(manager.check(info(2, 1, 2), false)).toEqual({ kind: 'append' })
    expectCode(() => manager.check(info(0, 3, 1), false), 'PRODUCER_FENCED')
  })

  it('sequences wrap from 2^31-1 to 0, within a batch and between batches', () => {
    expect(nextSequence(SEQUENCE_MAX)).toBe(0)
    expect(nextSequence(SEQUENCE_MAX - 1)).toBe(SEQUENCE_MAX)
    expect(lastSequenceOf(info(SEQUENCE_MAX, 1))).toBe(SEQUENCE_MAX)
    expect(lastSequenceOf(info(SEQUENCE_MAX, 2))).toBe(0)
    expect(lastSequenceOf(info(SEQUENCE_MAX - 1, 4))).toBe(1)
    const manager = new ProducerStateManager([{ producerId: PRODUCER, epoch: 0,
      batches: [{ firstSequence: SEQUENCE_MAX - 5, lastSequence: SEQUENCE_MAX - 2,
        baseOffset: 10, lastOffset: 13 }] }])
    // SEQUENCE_MAX-1, SEQUENCE_MAX, 0 in one batch.
    const across = info(SEQUENCE_MAX - 1, 3)
    expect(manager.check(across, false)).toEqual({ kind: 'append' })
    manager.update(across, 14, 16)
    expect(manager.entry(PRODUCER)!.batches.at(-1)).toEqual({ firstSequence: SEQUENCE_MAX - 1,
      lastSequence: 0, baseOffset: 14, lastOffset: 16 })
    expectCode(() => manager.check(info(SEQUENCE_MAX + 1, 1), false), 'OUT_OF_ORDER_SEQUENCE')
    expectCode(() => manager.check(info(0, 1), false), 'OUT_OF_ORDER_SEQUENCE')
    expect(manager.check(across, false))
      .toEqual({ kind: 'duplicate', batch: manager.entry(PRODUCER)!.batches.at(-1) })
    expect(manager.check(info(1, 1), false)).toEqual({ kind: 'append' })
    // Ending exactly on 2^31-1 makes the next batch start at 0.
    const ending = new ProducerStateManager([{ producerId: PRODUCER, epoch: 0,
      batches: [{ firstSequence: SEQUENCE_MAX - 2, lastSequence: SEQUENCE_MAX,
        baseOffset: 0, lastOffset: 2 }] }])
    expectCode(() => ending.check(info(SEQUENCE_MAX + 1, 1), false), 'OUT_OF_ORDER_SEQUENCE')
    expect(ending.check(info(0, 1), false)).toEqual({ kind: 'append' })
  })

  test.prop([fc.integer({ min: 1, max: SEQUENCE_MAX }), fc.integer({ min: 1, max: 6 }),
    fc.integer({ min: 0, max: 5 })], { numRuns })(
    'an unknown producer must start at sequence 0 unless its state may have been removed by '
    + 'retention', (firstSequence, count, epoch) => {
      const manager = new ProducerStateManager()
      expectCode(() => manager.check(info(firstSequence, count, epoch), false),
        'OUT_OF_ORDER_SEQUENCE')
      expect(manager.size).toBe(0)
      expect(manager.check(info(0, count, epoch), false)).toEqual({ kind: 'append' })
      expect(manager.check(info(firstSequence, count, epoch), true)).toEqual({ kind: 'append' })
      manager.update(info(firstSequence, count, epoch), 7, 7 + count - 1)
      expect(manager.check(info(firstSequence, count, epoch), false)).toEqual({ kind: 'duplicate',
        batch: { firstSequence, lastSequence: wrap(firstSequence + count - 1), baseOffset: 7,
          lastOffset: 7 + count - 1 } })
    })

  it('producers are independent: one producer\'s sequences and epochs do not affect another',
    () => {
      const manager = new ProducerStateManager()
      manager.update(info(0, 2, 3, 1), 0, 1)
      manager.update(info(0, 1, 0, 2), 2, 2)
      expect(manager.check(info(2, 1, 3, 1), false)).toEqual({ kind: 'append' })
      expect(manager.check(info(1, 1, 0, 2), false)).toEqual({ kind: 'append' })
      expectCode(() => manager.check(info(0, 1, 2, 1), false), 'PRODUCER_FENCED')
      expect(manager.size).toBe(2)
    })

  it('bumpEpoch (a marker) raises the epoch and clears the batch cache; a lower or equal epoch '
    + 'is ignored', () => {
    const manager = new ProducerStateManager()
    manager.update(info(0, 2, 1), 0, 1)
    manager.bumpEpoch(PRODUCER, 1)
    manager.bumpEpoch(PRODUCER, 0)
    expect(manager.entry(PRODUCER)).toEqual({ producerId: PRODUCER, epoch: 1,
      batches: [{ firstSequence: 0, lastSequence: 1, baseOffset: 0, lastOffset: 1 }] })
    manager.bumpEpoch(PRODUCER, 2)
    expect(manager.entry(PRODUCER)).toEqual({ producerId: PRODUCER, epoch: 2, batches: [] })
    expectCode(() => manager.check(info(0, 2, 1), false), 'PRODUCER_FENCED')
    expect(manager.check(info(0, 1, 2), false)).toEqual({ kind: 'append' })
  })

  it('after a marker bumps the epoch, the first batch of that epoch must start at sequence 0 '
    + '(Kafka: an empty batch cache means the last sequence is NO_SEQUENCE)', () => {
    // A producer whose first batch of the new epoch (sequence 0) was lost must not have its
    // second batch (sequence 1) accepted: that would hide the gap.
    const known = new ProducerStateManager()
    known.update(info(0, 2, 1), 0, 1)
    known.bumpEpoch(PRODUCER, 2)
    expectCode(() => known.check(info(1, 1, 2), false), 'OUT_OF_ORDER_SEQUENCE')
    // A marker for a producer this partition has no batches from makes it known at that epoch.
    const unknown = new ProducerStateManager()
    unknown.bumpEpoch(PRODUCER, 4)
    expectCode(() => unknown.check(info(5, 1, 4), false), 'OUT_OF_ORDER_SEQUENCE')
    expect(unknown.check(info(0, 1, 4), false)).toEqual({ kind: 'append' })
  })
})
