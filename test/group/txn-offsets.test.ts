/**
 * Goal: offsets committed in a transaction (Kafka's TxnOffsetCommit, KIP-98/KIP-447) become the
 * group's committed offsets exactly when their producer's commit marker is durable, vanish on an
 * abort, hold RequireStable fetches off meanwhile, and come back identically — committed and
 * still pending — when the logs are reopened, rolled and compacted; TxnOffsetCommit fences stale
 * generations.
 *
 * Method: a real GroupCoordinator (and, for the property, a bare OffsetStore) over real compacted
 * `__consumer_offsets` logs in a temp dir, with a ManualClock and no background timers. The
 * property runs generated sequences of plain commits, transactional commits, commit and abort
 * markers, deletes, compactions and reopens against a model in which the newest record of a key
 * wins (what compaction keeps), checking fetch() and hasPendingOffsets() after every step.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { TopicPartition } from '../../src/group/assignor.ts'
import {
  type CommittedOffset, GroupCoordinator, type TxnOffsetCommitRequest,
} from '../../src/group/group-coordinator.ts'
import { partitionForGroup } from '../../src/group/offset-record.ts'
import { OffsetStore, type OffsetWrite } from '../../src/group/offset-store.ts'
import type { LogConfig } from '../../src/log/log-config.ts'
import type { PartitionLog } from '../../src/log/partition-log.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { formGroup, GROUP, joinRequest } from '../helpers/group-clients.ts'
import {
  advanceCompactReopenArbitraries, closeLogs, expectCode, offsetLogConfig, type OffsetStoreState,
  openOffsetLogs, runSharedOffsetCommand, type SharedOffsetCommand,
} from '../helpers/group-fixtures.ts'
import { noTimers, smallLogConfig, withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const PARTITIONS = 3
const NOW = 1_000_000

interface Harness {
  coordinator: GroupCoordinator
  logs: PartitionLog[]
  readonly clock: ManualClock
  /** Closes coordinator and logs, and opens both again from the same directory. */
  readonly reopen: () => Promise<void>
}

async function withCoordinator(run: (harness: Harness) => Promise<void>): Promise<void> {
  await withTempDir('weir-txn-offsets-', async directory => {
    const clock = new ManualClock(NOW)
    const open = async (): Promise<[PartitionLog[], GroupCoordinator]> => {
      const logs = await openOffsetLogs(directory, PARTITIONS, clock)
      return [logs, await GroupCoordinator.open({ offsetLogs: logs, clock, scheduler: noTimers })]
    }
    const [logs, coordinator] = await open()
    const harness: Harness = { coordinator, logs, clock, reopen: async () => {
      await harness.coordinator.close()
      await closeLogs(harness.logs)
      ;[harness.logs, harness.coordinator] = await open()
    } }
    try {
      await run(harness)
    } finally {
      await harness.coordinator.close()
      await closeLogs(harness.logs)
    }
  })
}

/** A TxnOffsetCommit of `producerId` without membership, for `offsets` (topic 't'). */
function txnCommit(producerId: number, offsets: ReadonlyArray<[number, number]>,
  overrides: Partial<TxnOffsetCommitRequest> = {}): TxnOffsetCommitRequest {
  return { transactionalId: `tx-${producerId}`, groupId: GROUP, producerId, producerEpoch: 0,
    generationId: -1, memberId: '', offsets: offsets.map(([partition, offset]) =>
      ({ topic: 't', partition, offset })), ...overrides }
}

const plainCommit = (coordinator: GroupCoordinator, offsets: ReadonlyArray<[number, number]>,
  groupId = GROUP): Promise<void> => coordinator.commitOffsets({ groupId, generationId: -1,
  memberId: '', offsets: offsets.map(([partition, offset]) => ({ topic: 't', partition,
    offset })) })

const complete = (coordinator: GroupCoordinator, producerId: number, commit: boolean,
  groupId = GROUP): Promise<void> => coordinator.completeTransaction({
  partition: coordinator.partitionFor(groupId), producerId, producerEpoch: 0, commit })

/** The group's committed offsets as [partition, offset] pairs (topic 't'). */
async function offsetsOf(coordinator: GroupCoordinator, groupId = GROUP):
Promise<Array<[number, number]>> {
  return (await coordinator.fetchOffsets({ groupId }))
    .map(entry => [entry.partition, entry.offset])
}

const tp = (partition: number): TopicPartition => ({ topic: 't', partition })

describe('transactional offset commits', () => {
  it('pending offsets are invisible to fetch until the commit marker, then replace committed ones',
    () => withCoordinator(async ({ coordinator }) => {
      await plainCommit(coordinator, [[0, 5]])
      await coordinator.txnCommitOffsets(txnCommit(7, [[0, 10], [1, 11]]))
      expect(await offsetsOf(coordinator)).toEqual([[0, 5]])
      await complete(coordinator, 7, true)
      expect(await coordinator.fetchOffsets({ groupId: GROUP })).toEqual([
        { topic: 't', partition: 0, offset: 10, metadata: '', commitTimestamp: NOW },
        { topic: 't', partition: 1, offset: 11, metadata: '', commitTimestamp: NOW },
      ])
    }))

  it('an abort marker drops the pending offsets and leaves the committed ones',
    () => withCoordinator(async ({ coordinator }) => {
      await plainCommit(coordinator, [[0, 5]])
      await coordinator.txnCommitOffsets(txnCommit(7, [[0, 10], [1, 11]]))
      await complete(coordinator, 7, false)
      expect(await offsetsOf(coordinator)).toEqual([[0, 5]])
      await coordinator.fetchOffsets({ groupId: GROUP, requireStable: true })
    }))

  it('requireStable answers UNSTABLE_OFFSET_COMMIT for undecided partitions, then the committed '
    + 'value', () => withCoordinator(async ({ coordinator }) => {
    await plainCommit(coordinator, [[0, 5], [1, 6]])
    await coordinator.txnCommitOffsets(txnCommit(7, [[0, 10]]))
    const error = await expectCode(coordinator.fetchOffsets({ groupId: GROUP,
      requireStable: true }), 'UNSTABLE_OFFSET_COMMIT')
    expect(error.retriable).toBe(true)
    expect(error.message).toMatch(/retry shortly/)
    await expectCode(coordinator.fetchOffsets({ groupId: GROUP, requireStable: true,
      partitions: [tp(1), tp(0)] }), 'UNSTABLE_OFFSET_COMMIT')
    expect((await coordinator.fetchOffsets({ groupId: GROUP, requireStable: true,
      partitions: [tp(1)] })).map(entry => entry.offset)).toEqual([6])
    expect(await offsetsOf(coordinator)).toEqual([[0, 5], [1, 6]]) // not stable: the old value
    await complete(coordinator, 7, true)
    expect((await coordinator.fetchOffsets({ groupId: GROUP, requireStable: true,
      partitions: [tp(0)] })).map(entry => entry.offset)).toEqual([10])
  }))

  it('reopening rebuilds committed and still-pending offsets identically, and a transaction left '
    + 'pending completes after reopen', () => withCoordinator(async harness => {
    const other = 'other-group'
    await plainCommit(harness.coordinator, [[0, 1], [1, 1]])
    await harness.coordinator.txnCommitOffsets(txnCommit(1, [[0, 2]]))
    await complete(harness.coordinator, 1, true)
    await harness.coordinator.txnCommitOffsets(txnCommit(2, [[1, 3]]))
    await complete(harness.coordinator, 2, false)
    await harness.coordinator.txnCommitOffsets(txnCommit(3, [[1, 4], [2, 4]]))
    await harness.coordinator.txnCommitOffsets(txnCommit(4, [[0, 5]], { groupId: other }))
    const snapshot = async (): Promise<unknown> => {
      const { coordinator } = harness
      const stable = async (groupId: string, partition: number): Promise<string> =>
        coordinator.fetchOffsets({ groupId, requireStable: true, partitions: [tp(partition)] })
          .then(found => `stable ${found.length}`, (e: Error & { code: string }) => e.code)
      return { mine: await offsetsOf(coordinator), other: await offsetsOf(coordinator, other),
        stable: [await stable(GROUP, 0), await stable(GROUP, 1), await stable(GROUP, 2),
          await stable(other, 0)] }
    }
    const before = await snapshot()
    expect(before).toEqual({ mine: [[0, 2], [1, 1]], other: [], stable: ['stable 1',
      'UNSTABLE_OFFSET_COMMIT', 'UNSTABLE_OFFSET_COMMIT', 'UNSTABLE_OFFSET_COMMIT'] })
    await harness.reopen()
    expect(await snapshot()).toEqual(before)
    await complete(harness.coordinator, 3, true)
    await complete(harness.coordinator, 4, false, other)
    const after = await snapshot()
    expect(after).toEqual({ mine: [[0, 2], [1, 4], [2, 4]], other: [],
      stable: ['stable 1', 'stable 1', 'stable 1', 'stable 0'] })
    await harness.reopen()
    expect(await snapshot()).toEqual(after)
  }))

  it('two producers interleaved on one partition: each marker settles only its own offsets, and '
    + 'a rewrite replaces the producer\'s earlier pending offset', () =>
    withCoordinator(async ({ coordinator }) => {
      await coordinator.txnCommitOffsets(txnCommit(1, [[0, 1]]))
      await coordinator.txnCommitOffsets(txnCommit(2, [[0, 2], [1, 2]]))
      await coordinator.txnCommitOffsets(txnCommit(1, [[0, 3], [2, 3]])) // replaces 1's 0 → 1
      await complete(coordinator, 2, true)
      expect(await offsetsOf(coordinator)).toEqual([[0, 2], [1, 2]])
      await expectCode(coordinator.fetchOffsets({ groupId: GROUP, requireStable: true,
        partitions: [tp(0)] }), 'UNSTABLE_OFFSET_COMMIT') // producer 1 still holds partition 0
      await complete(coordinator, 1, true)
      expect(await offsetsOf(coordinator)).toEqual([[0, 3], [1, 2], [2, 3]])
    }))

  it('a transaction committing after a newer record of the same key does not overwrite it, '
    + 'before and after compaction and reopen (compaction keeps only the newest record)', () =>
    withCoordinator(async harness => {
      await harness.coordinator.txnCommitOffsets(txnCommit(1, [[0, 1], [1, 1]]))
      await harness.coordinator.txnCommitOffsets(txnCommit(2, [[0, 2]]))
      await plainCommit(harness.coordinator, [[1, 9]])
      await complete(harness.coordinator, 2, true)
      await complete(harness.coordinator, 1, true)
      expect(await offsetsOf(harness.coordinator)).toEqual([[0, 2], [1, 9]])
      await harness.reopen()
      expect(await offsetsOf(harness.coordinator)).toEqual([[0, 2], [1, 9]])
      for (const log of harness.logs) {
        await log.roll()
        await log.compact()
      }
      await harness.reopen()
      expect(await offsetsOf(harness.coordinator)).toEqual([[0, 2], [1, 9]])
    }))

  it('a marker for a producer with nothing pending, or repeated, changes nothing', () =>
    withCoordinator(async harness => {
      await plainCommit(harness.coordinator, [[0, 5]])
      await complete(harness.coordinator, 9, true)
      await complete(harness.coordinator, 9, false)
      await harness.coordinator.txnCommitOffsets(txnCommit(7, [[0, 10]]))
      await complete(harness.coordinator, 7, true)
      await complete(harness.coordinator, 7, false) // rewritten after a coordinator restart
      expect(await offsetsOf(harness.coordinator)).toEqual([[0, 10]])
      await harness.reopen()
      expect(await offsetsOf(harness.coordinator)).toEqual([[0, 10]])
    }))

  it('a stale generation is fenced with ILLEGAL_GENERATION and an unknown member with '
    + 'UNKNOWN_MEMBER_ID; generation -1 commits without membership', () =>
    withCoordinator(async ({ coordinator }) => {
      const [member] = await formGroup(coordinator, ['a'])
      const { memberId, generationId } = member!.join
      expect(generationId).toBe(1)
      await coordinator.txnCommitOffsets(txnCommit(7, [[0, 1]], { generationId, memberId }))
      await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, 2]],
        { generationId: 0, memberId })), 'ILLEGAL_GENERATION')
      await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, 2]],
        { generationId, memberId: 'ghost' })), 'UNKNOWN_MEMBER_ID')
      await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, 2]],
        { groupId: 'nobody', generationId: 3, memberId })), 'ILLEGAL_GENERATION')
      // A plain commit without membership is refused while the group has members; this is not.
      await expectCode(plainCommit(coordinator, [[0, 3]]), 'UNKNOWN_MEMBER_ID')
      await coordinator.txnCommitOffsets(txnCommit(7, [[0, 3]]))
      await complete(coordinator, 7, true)
      expect(await offsetsOf(coordinator)).toEqual([[0, 3]])
    }))

  it('a static member\'s replaced incarnation is fenced with FENCED_INSTANCE_ID', () =>
    withCoordinator(async ({ coordinator }) => {
      const join = await coordinator.joinGroup(joinRequest({ groupInstanceId: 'i-1' }))
      await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, 1]], {
        generationId: join.generationId, memberId: 'old-incarnation', groupInstanceId: 'i-1' })),
      'FENCED_INSTANCE_ID')
    }))

  it('deleting a group discards its pending offsets too: a later commit marker brings none back',
    () => withCoordinator(async harness => {
      await plainCommit(harness.coordinator, [[0, 5]])
      await harness.coordinator.txnCommitOffsets(txnCommit(7, [[0, 10], [1, 11]]))
      await harness.coordinator.txnCommitOffsets(txnCommit(8, [[2, 12]], { groupId: 'only-txn' }))
      await harness.coordinator.deleteGroups([GROUP, 'only-txn']) // pending-only group exists
      await harness.coordinator.fetchOffsets({ groupId: GROUP, requireStable: true })
      await complete(harness.coordinator, 7, true)
      await complete(harness.coordinator, 8, true, 'only-txn')
      expect(await offsetsOf(harness.coordinator)).toEqual([])
      expect(await offsetsOf(harness.coordinator, 'only-txn')).toEqual([])
      await harness.reopen()
      expect(await offsetsOf(harness.coordinator)).toEqual([])
      expect(harness.coordinator.listGroups()).toEqual([])
    }))

  it('requests are validated like an offset commit plus the producer; an empty one writes '
    + 'nothing', () => withCoordinator(async ({ coordinator, logs }) => {
    const end = logs.map(log => log.logEndOffset)
    await coordinator.txnCommitOffsets(txnCommit(7, []))
    expect(logs.map(log => log.logEndOffset)).toEqual(end)
    await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, 1]],
      { producerEpoch: 0x8000 })), 'INVALID_REQUEST')
    await expectCode(coordinator.txnCommitOffsets(txnCommit(-1, [[0, 1]])), 'INVALID_REQUEST')
    await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, 1]],
      { transactionalId: '' })), 'INVALID_REQUEST')
    await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, -1]])), 'INVALID_REQUEST')
    await expectCode(coordinator.txnCommitOffsets(txnCommit(7, [[0, 1]], { groupId: '' })),
      'INVALID_GROUP_ID')
    await expectCode(coordinator.completeTransaction({ partition: PARTITIONS, producerId: 7,
      producerEpoch: 0, commit: true }), 'INVALID_REQUEST')
    expect(coordinator.offsetsPartitionCount).toBe(PARTITIONS)
    expect(coordinator.partitionFor(GROUP)).toBe(partitionForGroup(GROUP, PARTITIONS))
    expect(logs.map(log => log.logEndOffset)).toEqual(end)
  }))
})

// ---- The property: a model of committed and pending offsets, newest record per key wins ----

const smallConfig: Partial<LogConfig> = {
  ...smallLogConfig, ...offsetLogConfig, deleteRetentionMs: 1000,
}
/** Few keys, so records of one key often meet: g0 and orders-app share offsets partition 1. */
const GROUPS = ['g0', 'orders-app', 'g2']
const TOPIC_PARTITIONS: TopicPartition[] = ['a', 'b'].flatMap(topic =>
  [0, 1].map(partition => ({ topic, partition })))

interface ModelEntry { readonly write: OffsetWrite, readonly sequence: number }
type ByGroup = Map<string, Map<string, ModelEntry>>
interface Model {
  readonly committed: ByGroup
  /** producerId → its pending entries. */
  readonly pending: Map<number, ByGroup>
  /** Stands in for the log offset: every record written takes the next one. */
  sequence: number
}

const keyOf = (entry: TopicPartition): string => `${entry.topic}/${entry.partition}`

function entriesOf(byGroup: ByGroup, groupId: string): Map<string, ModelEntry> {
  let entries = byGroup.get(groupId)
  if (entries === undefined) byGroup.set(groupId, entries = new Map())
  return entries
}

/** Sets (or deletes, for a tombstone) the committed entry unless a newer one is there. */
function modelApply(model: Model, groupId: string, key: string, entry: ModelEntry | undefined,
  sequence: number): void {
  const entries = entriesOf(model.committed, groupId)
  const current = entries.get(key)
  if (current !== undefined && current.sequence > sequence) return
  if (entry === undefined) entries.delete(key)
  else entries.set(key, entry)
  if (entries.size === 0) model.committed.delete(groupId)
}

function modelCommit(model: Model, groupId: string, writes: readonly OffsetWrite[]): void {
  for (const write of writes) {
    const entry = { write, sequence: model.sequence++ }
    modelApply(model, groupId, keyOf(write), entry, entry.sequence)
  }
}

function modelTxn(model: Model, producerId: number, groupId: string,
  writes: readonly OffsetWrite[]): void {
  const byGroup = model.pending.get(producerId) ?? new Map<string, Map<string, ModelEntry>>()
  model.pending.set(producerId, byGroup)
  const entries = entriesOf(byGroup, groupId)
  for (const write of writes) {
    entries.delete(keyOf(write))
    entries.set(keyOf(write), { write, sequence: model.sequence++ })
  }
}

function modelEnd(model: Model, partition: number, producerId: number, commit: boolean): void {
  model.sequence++ // the marker
  const byGroup = model.pending.get(producerId)
  if (byGroup === undefined) return
  for (const [groupId, entries] of [...byGroup]) {
    if (partitionForGroup(groupId, PARTITIONS) !== partition) continue
    byGroup.delete(groupId)
    if (!commit) continue
    for (const [key, entry] of entries) modelApply(model, groupId, key, entry, entry.sequence)
  }
  if (byGroup.size === 0) model.pending.delete(producerId)
}

function modelDelete(model: Model, groupId: string, partitions?: readonly TopicPartition[]):
void {
  const wanted = (key: string): boolean => partitions === undefined
    || partitions.some(partition => keyOf(partition) === key)
  for (const byGroup of [model.committed, ...model.pending.values()]) {
    const entries = byGroup.get(groupId)
    for (const key of [...entries?.keys() ?? []]) if (wanted(key)) entries!.delete(key)
    if (entries?.size === 0) byGroup.delete(groupId)
  }
  for (const [producerId, byGroup] of [...model.pending]) {
    if (byGroup.size === 0) model.pending.delete(producerId)
  }
}

function modelHasPending(model: Model, groupId: string, partition?: TopicPartition): boolean {
  return [...model.pending.values()].some(byGroup => [...byGroup.get(groupId)?.keys() ?? []]
    .some(key => partition === undefined || key === keyOf(partition)))
}

function expectMatches(store: OffsetStore, model: Model): void {
  for (const groupId of GROUPS) {
    const expected: CommittedOffset[] = [...model.committed.get(groupId)?.values() ?? []]
      .map(entry => entry.write)
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    expect(store.fetch(groupId), `offsets of ${groupId}`).toEqual(expected)
    expect(store.hasPendingOffsets(groupId), `pending of ${groupId}`)
      .toBe(modelHasPending(model, groupId))
    for (const partition of TOPIC_PARTITIONS) {
      expect(store.hasPendingOffsets(groupId, [partition]))
        .toBe(modelHasPending(model, groupId, partition))
    }
  }
}

type WriteInput = Omit<OffsetWrite, 'commitTimestamp'>
type Command =
  | { kind: 'commit', groupId: string, writes: WriteInput[] }
  | { kind: 'txn', groupId: string, producerId: number, writes: WriteInput[] }
  | { kind: 'end', groupId: string, producerId: number, commit: boolean }
  | { kind: 'txnAndEnd', groupId: string, producerId: number, writes: WriteInput[],
    commit: boolean }
  | SharedOffsetCommand

const groupArbitrary = fc.constantFrom(...GROUPS)
const producerArbitrary = fc.constantFrom(7, 9)
const writesArbitrary = fc.array(fc.record({
  topic: fc.constantFrom('a', 'b'), partition: fc.integer({ min: 0, max: 1 }),
  offset: fc.nat({ max: 1_000_000 }), metadata: fc.string({ maxLength: 8 }),
}), { minLength: 1, maxLength: 4 })

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const),
    groupId: groupArbitrary, writes: writesArbitrary }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('txn' as const),
    groupId: groupArbitrary, producerId: producerArbitrary, writes: writesArbitrary }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('end' as const),
    groupId: groupArbitrary, producerId: producerArbitrary, commit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('txnAndEnd' as const),
    groupId: groupArbitrary, producerId: producerArbitrary, writes: writesArbitrary,
    commit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const),
    groupId: groupArbitrary, partitions: fc.option(fc.subarray(TOPIC_PARTITIONS,
      { maxLength: 3 }), { nil: undefined }) }) },
  ...advanceCompactReopenArbitraries,
)

/** Runs one command against the store (and its logs, which `reopen` replaces) and the model. */
async function run(command: Command, state: OffsetStoreState, model: Model, clock: ManualClock,
  directory: string): Promise<void> {
  const stamp = (writes: readonly WriteInput[]): OffsetWrite[] =>
    writes.map(write => ({ ...write, commitTimestamp: clock.nowMs() }))
  const partitionOf = (groupId: string): number => state.store.partitionFor(groupId)
  switch (command.kind) {
    case 'commit':
      await state.store.commit(command.groupId, stamp(command.writes))
      modelCommit(model, command.groupId, stamp(command.writes))
      break
    case 'txn':
      await state.store.commitTransactional(command.groupId, command.producerId, 0,
        stamp(command.writes))
      modelTxn(model, command.producerId, command.groupId, stamp(command.writes))
      break
    case 'end':
      await state.store.completeTransaction(partitionOf(command.groupId), command.producerId, 0,
        command.commit)
      modelEnd(model, partitionOf(command.groupId), command.producerId, command.commit)
      break
    case 'txnAndEnd': // the marker is appended while the offsets are still in flight
      await Promise.all([
        state.store.commitTransactional(command.groupId, command.producerId, 0,
          stamp(command.writes)),
        state.store.completeTransaction(partitionOf(command.groupId), command.producerId, 0,
          command.commit),
      ])
      modelTxn(model, command.producerId, command.groupId, stamp(command.writes))
      modelEnd(model, partitionOf(command.groupId), command.producerId, command.commit)
      break
    default:
      await runSharedOffsetCommand(command, state, clock, {
        openLogs: () => openOffsetLogs(directory, PARTITIONS, clock, smallConfig),
        modelDelete: (groupId, partitions) => modelDelete(model, groupId, partitions),
      })
  }
}

describe('transactional offsets: property', () => {
  test.prop([fc.array(commandArbitrary, { minLength: 8, maxLength: 40, size: 'medium' })],
    { numRuns: defaultNumRuns(30) })(
    'after any sequence of plain commits, transactional commits, commits and aborts, deletes, '
    + 'compactions and reopens, fetch() equals a model map in which the newest record of a key '
    + 'wins, and hasPendingOffsets() equals the model\'s undecided offsets',
    async commands => withTempDir('weir-txn-offsets-', async directory => {
      const clock = new ManualClock(NOW)
      const logs = await openOffsetLogs(directory, PARTITIONS, clock, smallConfig)
      const state = { logs, store: await OffsetStore.open(logs) }
      const model: Model = { committed: new Map(), pending: new Map(), sequence: 0 }
      try {
        for (const command of commands) {
          await run(command, state, model, clock, directory)
          expectMatches(state.store, model)
        }
        await run({ kind: 'reopen' }, state, model, clock, directory)
        expectMatches(state.store, model)
      } finally {
        await closeLogs(state.logs)
      }
    }))
})
