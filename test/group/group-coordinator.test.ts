/**
 * Goal: the classic group protocol behaves as Kafka's: members that join together share a
 * generation with one leader who sees everyone's metadata; rebalances are announced through
 * heartbeats, held until members rejoin or time out, and fence stale generations; static
 * members restart without a rebalance; offsets commit only from the current generation, admin
 * changes only on groups without members, and both survive a restart of logs and coordinator.
 *
 * Method: a real coordinator over real compacted offset logs in a temp dir, a ManualClock moved
 * by hand and `expire()` called directly (the scheduler never fires). The property drives
 * simulated consumers (test/helpers/group-clients.ts) through generated joins, leaves, crashes
 * and clock steps, lets the group settle, and checks ownership, generations and fencing.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import {
  GroupCoordinator, type GroupCoordinatorConfig,
} from '../../src/group/group-coordinator.ts'
import type { PartitionLog } from '../../src/log/partition-log.ts'
import { ManualClock } from '../../src/util/clock.ts'
import {
  formGroup, GROUP, joinRequest, partitionsOf, REBALANCE_TIMEOUT_MS, SESSION_TIMEOUT_MS,
  SimulatedClient, syncAfterJoin,
} from '../helpers/group-clients.ts'
import {
  closeLogs, expectCode, flushMicrotasks, openOffsetLogs,
} from '../helpers/group-fixtures.ts'
import { noTimers, withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

interface Harness {
  readonly coordinator: GroupCoordinator
  readonly clock: ManualClock
  readonly logs: PartitionLog[]
  readonly directory: string
}

async function withCoordinator(run: (harness: Harness) => Promise<void>,
  config: Partial<GroupCoordinatorConfig> = {}): Promise<void> {
  await withTempDir('weir-groups-', async directory => {
    const clock = new ManualClock(1_000_000)
    const logs = await openOffsetLogs(directory, 3, clock)
    const coordinator = await GroupCoordinator.open({ offsetLogs: logs, clock,
      scheduler: noTimers, config })
    try {
      await run({ coordinator, clock, logs, directory })
    } finally {
      await coordinator.close()
      await closeLogs(logs)
    }
  })
}

/** Tracks whether a held promise has settled yet, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: () => boolean, promise: Promise<T> } {
  let settled = false
  const observed = promise.finally(() => { settled = true })
  observed.catch(() => undefined)
  return { settled: () => settled, promise: observed }
}

const heartbeat = (coordinator: GroupCoordinator, memberId: string, generationId: number,
  groupInstanceId?: string): Promise<void> => coordinator.heartbeat({ groupId: GROUP,
  generationId, memberId, ...(groupInstanceId === undefined ? {} : { groupInstanceId }) })

describe('group coordinator: joining and syncing', () => {
  it('members that join together get one generation and one leader, who sees all metadata',
    () => withCoordinator(async ({ coordinator }) => {
      const [a, b] = await Promise.all([
        coordinator.joinGroup(joinRequest({ clientId: 'a',
          protocols: [{ name: 'range', metadata: Buffer.from('A') }] })),
        coordinator.joinGroup(joinRequest({ clientId: 'b',
          protocols: [{ name: 'range', metadata: Buffer.from('B') }] })),
      ])
      expect([a.generationId, b.generationId]).toEqual([1, 1])
      expect(a.leader).toBe(a.memberId)
      expect(b.leader).toBe(a.memberId)
      expect(a.memberId).toMatch(/^a-/)
      expect(a.memberId).not.toBe(b.memberId)
      expect(a.protocolName).toBe('range')
      expect(a.members.map(m => [m.memberId, m.metadata.toString()]))
        .toEqual([[a.memberId, 'A'], [b.memberId, 'B']])
      expect(b.members).toEqual([])
      expect(coordinator.describeGroup(GROUP).state).toBe('CompletingRebalance')

      const follower = track(syncAfterJoin(coordinator, b, 6))
      await flushMicrotasks()
      expect(follower.settled()).toBe(false) // waits for the leader's assignment
      const leader = await syncAfterJoin(coordinator, a, 6)
      expect(partitionsOf(leader)).toEqual(a.memberId < b.memberId ? [0, 2, 4] : [1, 3, 5])
      expect(partitionsOf(await follower.promise).length).toBe(3)
      const description = coordinator.describeGroup(GROUP)
      expect(description).toMatchObject({ state: 'Stable', protocol: 'range', generationId: 1,
        leader: a.memberId, protocolType: 'consumer' })
      expect(description.members.map(m => m.metadata.toString())).toEqual(['A', 'B'])
    }))

  it('a third member joining makes heartbeats answer REBALANCE_IN_PROGRESS until all rejoin',
    () => withCoordinator(async ({ coordinator }) => {
      const [a, b] = await formGroup(coordinator, ['a', 'b'])
      const c = track(coordinator.joinGroup(joinRequest({ clientId: 'c' })))
      await flushMicrotasks()
      expect(c.settled()).toBe(false)
      await expectCode(heartbeat(coordinator, a!.join.memberId, 1), 'REBALANCE_IN_PROGRESS')
      await expectCode(heartbeat(coordinator, b!.join.memberId, 1), 'REBALANCE_IN_PROGRESS')
      await expectCode(syncAfterJoin(coordinator, a!.join, 6), 'REBALANCE_IN_PROGRESS')
      const rejoined = await Promise.all([a!, b!].map(member => coordinator.joinGroup(
        joinRequest({ clientId: 'x', memberId: member.join.memberId }))))
      const third = await c.promise
      expect([...rejoined, third].map(join => join.generationId)).toEqual([2, 2, 2])
      expect(rejoined[0]!.leader).toBe(a!.join.memberId) // the old leader rejoined: it stays
      expect(rejoined[0]!.members.length).toBe(3)
    }))

  it('a rejoin while completing a rebalance fails the syncs held for the leader', () =>
    withCoordinator(async ({ coordinator }) => {
      const [a, b] = await Promise.all(['a', 'b'].map(clientId =>
        coordinator.joinGroup(joinRequest({ clientId }))))
      const held = track(syncAfterJoin(coordinator, b!, 6))
      const c = track(coordinator.joinGroup(joinRequest({ clientId: 'c' })))
      await expectCode(held.promise, 'REBALANCE_IN_PROGRESS')
      await Promise.all([a!, b!].map(join => coordinator.joinGroup(
        joinRequest({ memberId: join.memberId }))))
      expect((await c.promise).generationId).toBe(2)
    }))

  it('the selected protocol is one every member supports, by the members\' votes', () =>
    withCoordinator(async ({ coordinator }) => {
      const p = (name: string) => ({ name, metadata: Buffer.from(name) })
      const joins = await Promise.all([
        coordinator.joinGroup(joinRequest({ protocols: [p('range'), p('roundrobin'),
          p('sticky')] })),
        coordinator.joinGroup(joinRequest({ protocols: [p('roundrobin'), p('range')] })),
        coordinator.joinGroup(joinRequest({ protocols: [p('roundrobin'), p('range')] })),
      ])
      // sticky is not supported by everyone; the leader prefers range but two members vote
      // roundrobin (Kafka's selectProtocol), so roundrobin wins.
      expect(joins.map(join => join.protocolName)).toEqual(['roundrobin', 'roundrobin',
        'roundrobin'])
      expect(joins[0]!.members.map(m => m.metadata.toString())).toEqual(['roundrobin',
        'roundrobin', 'roundrobin'])
    }))

  it('a member with no protocol in common with the group gets INCONSISTENT_GROUP_PROTOCOL',
    () => withCoordinator(async ({ coordinator }) => {
      await formGroup(coordinator, ['a'], 6, () => ({
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] }))
      await expectCode(coordinator.joinGroup(joinRequest({
        protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] })),
      'INCONSISTENT_GROUP_PROTOCOL')
      await expectCode(coordinator.joinGroup(joinRequest({ protocolType: 'connect',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] })),
      'INCONSISTENT_GROUP_PROTOCOL')
      await expectCode(coordinator.joinGroup(joinRequest({ groupId: 'other', protocols: [] })),
        'INCONSISTENT_GROUP_PROTOCOL')
      expect(coordinator.describeGroup(GROUP)).toMatchObject({ state: 'Stable', generationId: 1 })
    }))

  it('requests outside the limits are refused with their codes', () =>
    withCoordinator(async ({ coordinator }) => {
      await expectCode(coordinator.joinGroup(joinRequest({ groupId: '' })), 'INVALID_GROUP_ID')
      await expectCode(coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 50 })),
        'INVALID_SESSION_TIMEOUT')
      await expectCode(coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 3_600_000 })),
        'INVALID_SESSION_TIMEOUT')
      await expectCode(coordinator.joinGroup(joinRequest({
        protocols: [{ name: 'big', metadata: Buffer.alloc(2000) }] })), 'INVALID_REQUEST')
      await expectCode(coordinator.joinGroup(joinRequest({ memberId: 'nobody' })),
        'UNKNOWN_MEMBER_ID')
      await formGroup(coordinator, ['a', 'b'])
      await expectCode(coordinator.joinGroup(joinRequest()), 'GROUP_MAX_SIZE_REACHED')
      await expectCode(coordinator.commitOffsets({ groupId: GROUP, generationId: -1,
        memberId: '', offsets: [{ topic: 't', partition: 0, offset: 1, metadata: 'x'.repeat(65) }],
      }), 'INVALID_REQUEST')
    }, { groupMembersMax: 2, protocolMetadataBytesMax: 1000, offsetMetadataBytesMax: 64 }))

  it('a new group\'s first rebalance waits out initialRebalanceDelayMs for more members', () =>
    withCoordinator(async ({ coordinator, clock }) => {
      const a = track(coordinator.joinGroup(joinRequest({ clientId: 'a' })))
      clock.advance(300)
      const b = track(coordinator.joinGroup(joinRequest({ clientId: 'b' })))
      clock.advance(300)
      coordinator.expire() // 600 ms after a, 300 after b: b pushed the deadline to 800
      await flushMicrotasks()
      expect(a.settled() || b.settled()).toBe(false)
      clock.advance(200)
      coordinator.expire()
      const joins = await Promise.all([a.promise, b.promise])
      expect(joins.map(join => join.generationId)).toEqual([1, 1])
    }, { initialRebalanceDelayMs: 500 }))
})

describe('group coordinator: liveness and leaving', () => {
  it('a member whose session expires is removed and the group rebalances without it', () =>
    withCoordinator(async ({ coordinator, clock }) => {
      const [a, b] = await formGroup(coordinator, ['a', 'b'])
      clock.advance(SESSION_TIMEOUT_MS - 1)
      await heartbeat(coordinator, a!.join.memberId, 1)
      clock.advance(1)
      coordinator.expire()
      expect(coordinator.describeGroup(GROUP).state).toBe('PreparingRebalance')
      await expectCode(heartbeat(coordinator, a!.join.memberId, 1), 'REBALANCE_IN_PROGRESS')
      await expectCode(heartbeat(coordinator, b!.join.memberId, 1), 'UNKNOWN_MEMBER_ID')
      const rejoin = await coordinator.joinGroup(joinRequest({ memberId: a!.join.memberId }))
      expect(rejoin).toMatchObject({ generationId: 2, leader: a!.join.memberId })
      expect(rejoin.members.map(m => m.memberId)).toEqual([a!.join.memberId])
      expect(partitionsOf(await syncAfterJoin(coordinator, rejoin, 6)))
        .toEqual([0, 1, 2, 3, 4, 5])
    }))

  it('a rebalance whose deadline passes completes with the members that rejoined', () =>
    withCoordinator(async ({ coordinator, clock }) => {
      const [a, b, c] = await formGroup(coordinator, ['a', 'b', 'c'])
      const changed = joinRequest({ memberId: b!.join.memberId,
        protocols: [{ name: 'roundrobin', metadata: Buffer.from('topics:t,u') }] })
      const joins = [track(coordinator.joinGroup(changed)),
        track(coordinator.joinGroup(joinRequest({ memberId: a!.join.memberId })))]
      for (let elapsed = 0; elapsed < REBALANCE_TIMEOUT_MS; elapsed += 500) {
        clock.advance(500) // c keeps its session alive but never rejoins
        await expectCode(heartbeat(coordinator, c!.join.memberId, 1), 'REBALANCE_IN_PROGRESS')
        coordinator.expire()
      }
      const [bJoin, aJoin] = await Promise.all(joins.map(join => join.promise))
      expect([aJoin!.generationId, bJoin!.generationId]).toEqual([2, 2])
      expect(aJoin!.members.map(m => m.memberId).sort())
        .toEqual([a!.join.memberId, b!.join.memberId].sort())
      await expectCode(heartbeat(coordinator, c!.join.memberId, 1), 'UNKNOWN_MEMBER_ID')
    }))

  it('the last member leaving makes the group Empty; its id is then unknown', () =>
    withCoordinator(async ({ coordinator }) => {
      const [a, b] = await formGroup(coordinator, ['a', 'b'], 6,
        clientId => clientId === 'b' ? { groupInstanceId: 'instance-b' } : {})
      await coordinator.leaveGroup({ groupId: GROUP, members: [{ memberId: a!.join.memberId }] })
      expect(coordinator.describeGroup(GROUP)).toMatchObject({ state: 'PreparingRebalance' })
      await coordinator.leaveGroup({ groupId: GROUP,
        members: [{ groupInstanceId: 'instance-b' }] })
      expect(coordinator.describeGroup(GROUP)).toMatchObject({ state: 'Empty', members: [],
        generationId: 2, leader: '' })
      await expectCode(heartbeat(coordinator, a!.join.memberId, 1), 'UNKNOWN_MEMBER_ID')
      await expectCode(heartbeat(coordinator, b!.join.memberId, 1, 'instance-b'),
        'UNKNOWN_MEMBER_ID')
      await expectCode(coordinator.leaveGroup({ groupId: GROUP,
        members: [{ memberId: a!.join.memberId }] }), 'UNKNOWN_MEMBER_ID')
    }))

  it('a static member restarting keeps its assignment without a rebalance; the old id is fenced',
    () => withCoordinator(async ({ coordinator, clock }) => {
      const instance = (clientId: string) => ({ groupInstanceId: `instance-${clientId}` })
      const [a, b] = await formGroup(coordinator, ['a', 'b'], 6, instance)
      const restarted = await coordinator.joinGroup(joinRequest({ clientId: 'a',
        groupInstanceId: 'instance-a' }))
      expect(restarted.generationId).toBe(1)
      expect(restarted.memberId).not.toBe(a!.join.memberId)
      expect(restarted.leader).toBe(a!.join.memberId) // the old id: do not assign again
      expect(restarted.members).toEqual([])
      expect(coordinator.describeGroup(GROUP)).toMatchObject({ state: 'Stable', generationId: 1,
        leader: restarted.memberId })
      const sync = await coordinator.syncGroup({ groupId: GROUP, generationId: 1,
        memberId: restarted.memberId, groupInstanceId: 'instance-a', assignments: [] })
      expect(partitionsOf(sync)).toEqual(a!.partitions)
      await heartbeat(coordinator, b!.join.memberId, 1, 'instance-b') // no rebalance for b
      await expectCode(heartbeat(coordinator, a!.join.memberId, 1, 'instance-a'),
        'FENCED_INSTANCE_ID')
      await expectCode(coordinator.commitOffsets({ groupId: GROUP, generationId: 1,
        memberId: a!.join.memberId, groupInstanceId: 'instance-a',
        offsets: [{ topic: 't', partition: 0, offset: 1 }] }), 'FENCED_INSTANCE_ID')
      // A static member that stops heartbeating is removed only when its session expires.
      clock.advance(SESSION_TIMEOUT_MS)
      await heartbeat(coordinator, restarted.memberId, 1, 'instance-a')
      coordinator.expire()
      expect(coordinator.describeGroup(GROUP).members.map(m => m.groupInstanceId))
        .toEqual(['instance-a'])
    }))

  it('closing fails held joins with WEIR_ERR_CLIENT_CLOSED and refuses new requests', () =>
    withCoordinator(async ({ coordinator }) => {
      await formGroup(coordinator, ['a'])
      const held = track(coordinator.joinGroup(joinRequest({ clientId: 'b' })))
      await coordinator.close()
      await expectCode(held.promise, 'WEIR_ERR_CLIENT_CLOSED')
      await expectCode(coordinator.joinGroup(joinRequest()), 'WEIR_ERR_CLIENT_CLOSED')
    }))
})

describe('group coordinator: offsets', () => {
  it('commits need the current generation; during CompletingRebalance they are refused', () =>
    withCoordinator(async ({ coordinator }) => {
      const [a] = await formGroup(coordinator, ['a'])
      const commit = (generationId: number, memberId: string, offset: number) =>
        coordinator.commitOffsets({ groupId: GROUP, generationId, memberId,
          offsets: [{ topic: 't', partition: 0, offset, metadata: `m${offset}` }] })
      await commit(1, a!.join.memberId, 10)
      const b = track(coordinator.joinGroup(joinRequest({ clientId: 'b' })))
      await commit(1, a!.join.memberId, 11) // PreparingRebalance: current generation commits
      const rejoin = await coordinator.joinGroup(joinRequest({ memberId: a!.join.memberId }))
      await b.promise
      await expectCode(commit(2, a!.join.memberId, 12), 'REBALANCE_IN_PROGRESS')
      await syncAfterJoin(coordinator, rejoin, 6)
      await expectCode(commit(1, a!.join.memberId, 13), 'ILLEGAL_GENERATION')
      await expectCode(commit(2, 'nobody', 13), 'UNKNOWN_MEMBER_ID')
      await expectCode(commit(-1, '', 13), 'UNKNOWN_MEMBER_ID')
      await commit(2, a!.join.memberId, 14)
      expect(await coordinator.fetchOffsets({ groupId: GROUP })).toEqual([{ topic: 't',
        partition: 0, offset: 14, metadata: 'm14', commitTimestamp: 1_000_000 }])
    }))

  it('generation -1 commits only to groups without members; unknown groups refuse others', () =>
    withCoordinator(async ({ coordinator }) => {
      const offsets = [{ topic: 't', partition: 1, offset: 5 }]
      await coordinator.commitOffsets({ groupId: 'solo', generationId: -1, memberId: '',
        offsets })
      await expectCode(coordinator.commitOffsets({ groupId: 'never', generationId: 3,
        memberId: 'm', offsets }), 'ILLEGAL_GENERATION')
      expect(await coordinator.fetchOffsets({ groupId: 'solo',
        partitions: [{ topic: 't', partition: 1 }, { topic: 't', partition: 2 }] }))
        .toEqual([{ topic: 't', partition: 1, offset: 5, metadata: '',
          commitTimestamp: 1_000_000 }])
      expect(coordinator.listGroups()).toEqual([{ groupId: 'solo', state: 'Empty',
        protocolType: '' }])
    }))

  it('offsets of a group with members cannot be reset, deleted, or the group deleted', () =>
    withCoordinator(async ({ coordinator }) => {
      const [a] = await formGroup(coordinator, ['a'])
      const offsets = [{ topic: 't', partition: 0, offset: 3 }]
      await expectCode(coordinator.resetOffsets({ groupId: GROUP, offsets }), 'NON_EMPTY_GROUP')
      await expectCode(coordinator.deleteOffsets({ groupId: GROUP, partitions: offsets }),
        'NON_EMPTY_GROUP')
      await expectCode(coordinator.deleteGroups([GROUP]), 'NON_EMPTY_GROUP')
      await coordinator.leaveGroup({ groupId: GROUP, members: [{ memberId: a!.join.memberId }] })
      await coordinator.resetOffsets({ groupId: GROUP, offsets: [...offsets,
        { topic: 't', partition: 1, offset: 4 }] })
      await coordinator.deleteOffsets({ groupId: GROUP, partitions: [offsets[0]!] })
      expect((await coordinator.fetchOffsets({ groupId: GROUP })).map(o => o.offset))
        .toEqual([4])
      await coordinator.deleteGroups([GROUP])
      expect(await coordinator.fetchOffsets({ groupId: GROUP })).toEqual([])
      expect(coordinator.describeGroup(GROUP).state).toBe('Dead')
      expect(coordinator.listGroups()).toEqual([])
      await expectCode(coordinator.deleteGroups([GROUP]), 'GROUP_ID_NOT_FOUND')
    }))

  it('committed offsets and deletions survive closing and reopening logs and coordinator, '
    + 'and the last commit wins after compaction', () =>
    withTempDir('weir-groups-', async directory => {
      const clock = new ManualClock(1_000_000)
      let logs = await openOffsetLogs(directory, 3, clock)
      let coordinator = await GroupCoordinator.open({ offsetLogs: logs, clock,
        scheduler: noTimers })
      const [a] = await formGroup(coordinator, ['a'])
      for (let round = 1; round <= 20; round++) {
        clock.advance(10)
        await coordinator.commitOffsets({ groupId: GROUP, generationId: 1,
          memberId: a!.join.memberId, offsets: [0, 1, 2].map(partition =>
            ({ topic: 't', partition, offset: round * 100 + partition })) })
      }
      await coordinator.commitOffsets({ groupId: 'doomed', generationId: -1, memberId: '',
        offsets: [{ topic: 't', partition: 0, offset: 1 }] })
      await coordinator.deleteGroups(['doomed'])
      await coordinator.resetOffsets({ groupId: 'other', offsets: [{ topic: 'u', partition: 0,
        offset: 7 }] })
      await coordinator.deleteOffsets({ groupId: 'other', partitions: [{ topic: 'u',
        partition: 0 }] })
      await coordinator.close()
      for (const log of logs) {
        await log.roll()
        await log.compact()
      }
      await closeLogs(logs)
      logs = await openOffsetLogs(directory, 3, clock)
      coordinator = await GroupCoordinator.open({ offsetLogs: logs, clock, scheduler: noTimers })
      try {
        expect((await coordinator.fetchOffsets({ groupId: GROUP })).map(o => o.offset))
          .toEqual([2000, 2001, 2002])
        expect(await coordinator.fetchOffsets({ groupId: 'doomed' })).toEqual([])
        expect(await coordinator.fetchOffsets({ groupId: 'other' })).toEqual([])
        expect(coordinator.listGroups()).toEqual([{ groupId: GROUP, state: 'Empty',
          protocolType: '' }])
        // Membership is not persisted: the old member learns to rejoin.
        await expectCode(heartbeat(coordinator, a!.join.memberId, 1), 'UNKNOWN_MEMBER_ID')
      } finally {
        await coordinator.close()
        await closeLogs(logs)
      }
    }))
})

type Action = { kind: 'join' } | { kind: 'leave', pick: number } | { kind: 'crash', pick: number }
  | { kind: 'step', ms: number }

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'join' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('crash' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('step' as const),
    ms: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 900, max: 3500 })) }) },
)

const PARTITIONS = 6

/** Simulated consumers of group GROUP driven by actions, with the group's generations seen. */
class GroupSimulation {
  readonly clients: SimulatedClient[] = []
  readonly generations: number[] = []

  constructor(private readonly coordinator: GroupCoordinator,
    private readonly clock: ManualClock) {}

  get live(): SimulatedClient[] {
    return this.clients.filter(client => client.alive)
  }

  private observe(): void {
    this.generations.push(this.coordinator.describeGroup(GROUP).generationId)
  }

  /** Every live client acts (heartbeat or rejoin), then time passes and deadlines run. */
  async tick(ms: number): Promise<void> {
    for (const client of this.clients) await client.step()
    await flushMicrotasks()
    this.clock.advance(ms)
    this.coordinator.expire()
    await flushMicrotasks()
    this.observe()
  }

  async apply(action: Action): Promise<void> {
    const joined = this.clients.filter(client => client.alive && client.memberId !== '')
    const target = 'pick' in action ? joined[action.pick % Math.max(joined.length, 1)]
      : undefined
    if (action.kind === 'join') {
      const client = new SimulatedClient(this.coordinator, `c${this.clients.length}`, PARTITIONS)
      this.clients.push(client)
      await client.step()
    } else if (action.kind === 'leave' && target !== undefined) {
      target.left = true
      // The coordinator may have removed it already (a timeout the client has not seen).
      await this.coordinator.leaveGroup({ groupId: GROUP,
        members: [{ memberId: target.memberId }] }).catch((error: unknown) => {
        if (!WeirError.is(error, 'UNKNOWN_MEMBER_ID')) throw error
      })
    } else if (action.kind === 'crash' && target !== undefined) {
      target.crashed = true
    } else if (action.kind === 'step') {
      await this.tick(action.ms)
    }
    await flushMicrotasks()
    this.observe()
  }

  /** Stable with exactly the live clients as members, all synced to its generation. */
  settled(): boolean {
    const group = this.coordinator.describeGroup(GROUP)
    const live = this.live
    if (live.length === 0) return group.state === 'Empty'
    return group.state === 'Stable'
      && live.every(c => c.status === 'stable' && c.generationId === group.generationId)
      && group.members.map(m => m.memberId).sort().join()
        === live.map(c => c.memberId).sort().join()
  }
}

const nonDecreasing = (values: readonly number[]): boolean =>
  values.every((value, i) => i === 0 || value >= values[i - 1]!)

describe('group coordinator: property', () => {
  test.prop([fc.array(actionArbitrary, { minLength: 1, maxLength: 25 })],
    { numRuns: defaultNumRuns(60) })(
    'after any sequence of members joining, leaving and timing out, the settled group gives '
    + 'every partition to exactly one live member, generations only increase, and removed '
    + 'members get UNKNOWN_MEMBER_ID',
    generated => withCoordinator(async ({ coordinator, clock }) => {
      // Offsets keep the group known while Empty, so its generation is never reset.
      await coordinator.commitOffsets({ groupId: GROUP, generationId: -1, memberId: '',
        offsets: [{ topic: 't', partition: 0, offset: 0 }] })
      const simulation = new GroupSimulation(coordinator, clock)
      // Two members in a stable group first, so leaves and crashes have someone to hit.
      const actions: Action[] = [{ kind: 'join' }, { kind: 'join' }, { kind: 'step', ms: 0 },
        ...generated]
      for (const action of actions) await simulation.apply(action)
      for (let round = 0; round < 400 && !simulation.settled(); round++) {
        await simulation.tick(100)
      }
      expect(simulation.settled(), 'the group settles').toBe(true)

      const live = simulation.live
      const owned = live.flatMap(client => client.partitions).sort((x, y) => x - y)
      expect(owned).toEqual(live.length === 0 ? [] : [0, 1, 2, 3, 4, 5])
      expect(nonDecreasing(simulation.generations), 'group generations').toBe(true)
      for (const client of simulation.clients) {
        expect(client.unexpected).toEqual([])
        expect(nonDecreasing(client.generations), `generations of ${client.clientId}`).toBe(true)
        if (!client.alive && client.memberId !== '') {
          await expectCode(heartbeat(coordinator, client.memberId, client.generationId),
            'UNKNOWN_MEMBER_ID')
        }
      }
    }))
})
