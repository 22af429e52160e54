/**
 * Goal: committed offsets are exactly what was last committed (or deleted) per group and
 * partition, across reopening the logs, rolling and compacting them; a group's records go to
 * Kafka's partition for it; the record layout round-trips and damage is reported, not guessed.
 *
 * Method: generated command sequences (commit, delete, concurrent commits, advance the clock,
 * roll and compact every partition, close and reopen the logs) run against real compacted logs
 * in a temp dir and are checked after every step against a model map. Known Java hash codes pin
 * the partitioning. The clock is a ManualClock; no background timer runs.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { TopicPartition } from '../../src/group/assignor.ts'
import type { CommittedOffset } from '../../src/group/group-requests.ts'
import {
  decodeOffsetKey, decodeOffsetValue, encodeOffsetKey, encodeOffsetValue, javaStringHashCode,
  partitionForGroup,
} from '../../src/group/offset-record.ts'
import { OffsetStore, type OffsetWrite } from '../../src/group/offset-store.ts'
import type { LogConfig } from '../../src/log/log-config.ts'
import { ManualClock } from '../../src/util/clock.ts'
import {
  advanceCompactReopenArbitraries, closeLogs, expectCode, offsetLogConfig, type OffsetStoreState,
  openOffsetLogs, runSharedOffsetCommand, type SharedOffsetCommand,
} from '../helpers/group-fixtures.ts'
import { readAllRecords, smallLogConfig, withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(30)
const PARTITIONS = 3
const smallConfig: Partial<LogConfig> = {
  ...smallLogConfig, ...offsetLogConfig, deleteRetentionMs: 1000,
}

type Model = Map<string, Map<string, CommittedOffset>>
const tpKey = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`

function applyCommit(model: Model, groupId: string, writes: readonly OffsetWrite[]): void {
  const entries = model.get(groupId) ?? new Map<string, CommittedOffset>()
  for (const write of writes) entries.set(tpKey(write), { ...write })
  model.set(groupId, entries)
}

function applyDelete(model: Model, groupId: string, partitions?: readonly TopicPartition[]):
void {
  const entries = model.get(groupId)
  if (entries === undefined) return
  if (partitions === undefined) entries.clear()
  else for (const tp of partitions) entries.delete(tpKey(tp))
  if (entries.size === 0) model.delete(groupId)
}

function expectMatches(store: OffsetStore, model: Model, groups: readonly string[]): void {
  for (const groupId of groups) {
    const expected = [...(model.get(groupId)?.values() ?? [])]
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    expect(store.fetch(groupId), `offsets of ${groupId}`).toEqual(expected)
  }
  expect(store.groupIds().sort()).toEqual([...model.keys()].sort())
}

const groupArbitrary = fc.constantFrom('g0', 'g1', 'g2', 'orders-app', 'polygenelubricants')
const tpArbitrary = fc.record({ topic: fc.constantFrom('a', 'b'),
  partition: fc.integer({ min: 0, max: 2 }) })
const writeArbitrary = fc.record({
  topic: fc.constantFrom('a', 'b'), partition: fc.integer({ min: 0, max: 2 }),
  offset: fc.nat({ max: 1_000_000 }), metadata: fc.string({ maxLength: 12 }),
})

type WriteInput = Omit<OffsetWrite, 'commitTimestamp'>
type Command =
  | { kind: 'commit', groupId: string, writes: WriteInput[] }
  | { kind: 'concurrent', groupId: string, writes: WriteInput[] }
  | SharedOffsetCommand

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('commit' as const),
    groupId: groupArbitrary, writes: fc.array(writeArbitrary, { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('concurrent' as const),
    groupId: groupArbitrary, writes: fc.array(writeArbitrary, { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const),
    groupId: groupArbitrary,
    partitions: fc.option(fc.array(tpArbitrary, { maxLength: 3 }), { nil: undefined }) }) },
  ...advanceCompactReopenArbitraries,
)

/** Runs one command against the store (and its logs, which `reopen` replaces) and the model. */
async function run(command: Command, state: OffsetStoreState, model: Model, clock: ManualClock,
  directory: string): Promise<void> {
  const stamp = (writes: readonly WriteInput[]): OffsetWrite[] =>
    writes.map(write => ({ ...write, commitTimestamp: clock.nowMs() }))
  switch (command.kind) {
    case 'commit':
      await state.store.commit(command.groupId, stamp(command.writes))
      applyCommit(model, command.groupId, stamp(command.writes))
      break
    case 'concurrent': // one commit per write, all in flight at once: call order must win
      await Promise.all(stamp(command.writes).map(write =>
        state.store.commit(command.groupId, [write])))
      applyCommit(model, command.groupId, stamp(command.writes))
      break
    default:
      await runSharedOffsetCommand(command, state, clock, {
        openLogs: () => openOffsetLogs(directory, PARTITIONS, clock, smallConfig),
        modelDelete: (groupId, partitions) => applyDelete(model, groupId, partitions),
      })
  }
}

describe('offset store', () => {
  test.prop([fc.array(commandArbitrary, { minLength: 1, maxLength: 30 })], { numRuns })(
    'fetch returns the last committed offset per group and partition, and nothing for deleted '
    + 'ones, across reopening, rolling and compacting the offsets log',
    async commands => withTempDir('weir-offsets-', async directory => {
      const clock = new ManualClock(1_000_000)
      const logs = await openOffsetLogs(directory, PARTITIONS, clock, smallConfig)
      const state = { logs, store: await OffsetStore.open(logs) }
      const model: Model = new Map()
      const groups = ['g0', 'g1', 'g2', 'orders-app', 'polygenelubricants']
      try {
        for (const command of commands) {
          await run(command, state, model, clock, directory)
          expectMatches(state.store, model, groups)
        }
        await closeLogs(state.logs)
        state.logs = await openOffsetLogs(directory, PARTITIONS, clock, smallConfig)
        expectMatches(await OffsetStore.open(state.logs), model, groups)
      } finally {
        await closeLogs(state.logs)
      }
    }))

  it('after rolling and compacting, one record per key remains and it is the last commit',
    async () => withTempDir('weir-offsets-', async directory => {
      const clock = new ManualClock(1_000_000)
      let logs = await openOffsetLogs(directory, 1, clock, smallConfig)
      const store = await OffsetStore.open(logs)
      for (let round = 0; round < 50; round++) {
        clock.advance(1)
        await store.commit('g', [0, 1, 2].map(partition => ({ topic: 't', partition,
          offset: round * 10 + partition, metadata: `r${round}`, commitTimestamp: clock.nowMs() })))
      }
      await store.commit('gone', [{ topic: 't', partition: 0, offset: 1, metadata: '',
        commitTimestamp: clock.nowMs() }])
      await store.delete('gone', clock.nowMs())
      clock.advance(5000) // past deleteRetentionMs: the tombstone itself may go
      await logs[0]!.roll()
      await logs[0]!.compact()
      const remaining = await readAllRecords(logs[0]!)
      expect(remaining.length).toBe(3)
      await closeLogs(logs)
      logs = await openOffsetLogs(directory, 1, clock, smallConfig)
      const reopened = await OffsetStore.open(logs)
      expect(reopened.fetch('g').map(entry => [entry.partition, entry.offset, entry.metadata]))
        .toEqual([[0, 490, 'r49'], [1, 491, 'r49'], [2, 492, 'r49']])
      expect(reopened.fetch('gone')).toEqual([])
      expect(reopened.groupIds()).toEqual(['g'])
      await closeLogs(logs)
    }))

  it('a record that does not parse makes open fail with WEIR_ERR_LOG_CORRUPT',
    async () => withTempDir('weir-offsets-', async directory => {
      const clock = new ManualClock(0)
      const logs = await openOffsetLogs(directory, 1, clock)
      await logs[0]!.appendRecords([{ key: Buffer.from([0, 9, 1]), value: Buffer.from('x') }])
      await expectCode(OffsetStore.open(logs), 'WEIR_ERR_LOG_CORRUPT')
      await closeLogs(logs)
    }))

  it('group metadata records (key version 2) are skipped when loading',
    async () => withTempDir('weir-offsets-', async directory => {
      const clock = new ManualClock(0)
      const logs = await openOffsetLogs(directory, 1, clock)
      await logs[0]!.appendRecords([{ key: Buffer.from([0, 2, 0, 1, 0x67]),
        value: Buffer.from('opaque') }])
      const store = await OffsetStore.open(logs)
      expect(store.groupIds()).toEqual([])
      await closeLogs(logs)
    }))
})

describe('offset records', () => {
  it('javaStringHashCode equals Java\'s String.hashCode', () => {
    // Values from the JVM: "Aa" and "BB" collide; "polygenelubricants" is Integer.MIN_VALUE.
    expect(javaStringHashCode('')).toBe(0)
    expect(javaStringHashCode('hello')).toBe(99162322)
    expect(javaStringHashCode('Aa')).toBe(2112)
    expect(javaStringHashCode('BB')).toBe(2112)
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648)
    expect(javaStringHashCode('é😀')).toBe(1996812) // UTF-16 code units, surrogates included
  })

  it('a group goes to abs(hashCode) % partitions, with Integer.MIN_VALUE mapped to 0', () => {
    expect(partitionForGroup('hello', 50)).toBe(99162322 % 50)
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0)
    expect(partitionForGroup('consumer-group-1', 7)).toBe(147483020 % 7)
  })

  test.prop([fc.string({ maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }),
    fc.integer({ min: 0, max: 0x7fffffff }), fc.nat(), fc.string({ maxLength: 100 }),
    fc.integer({ min: 0, max: 2 ** 45 })], { numRuns: defaultNumRuns(100) })(
    'an offset key and value decode to what was encoded',
    (groupId, topic, partition, offset, metadata, commitTimestamp) => {
      const key = { groupId, topic, partition }
      const value = { offset, metadata, commitTimestamp }
      expect(decodeOffsetKey(encodeOffsetKey(key))).toEqual(key)
      expect(decodeOffsetValue(encodeOffsetValue(value))).toEqual(value)
    })

  test.prop([fc.string({ maxLength: 10 }), fc.nat({ max: 40 })], { numRuns: defaultNumRuns(100) })(
    'a truncated or extended key or value is reported as WEIR_ERR_LOG_CORRUPT',
    (text, cut) => {
      const key = encodeOffsetKey({ groupId: text, topic: 't', partition: 1 })
      const value = encodeOffsetValue({ offset: 5, metadata: text, commitTimestamp: 9 })
      for (const [bytes, decode] of [[key, decodeOffsetKey], [value, decodeOffsetValue]] as const) {
        const damaged = cut < bytes.length ? bytes.subarray(0, cut)
          : Buffer.concat([bytes, Buffer.alloc(1)])
        expect(() => decode(damaged)).toThrowError(/damaged/)
      }
    })
})
