/**
 * Goal: the cooperative-sticky assignor is safe, balanced, sticky and converges. Safe: no round
 * assigns a partition to a member while another member still owns it (KIP-429). Balanced: once
 * settled, identical subscriptions differ by at most one partition, and with differing ones no
 * member holds a partition that an eligible member with two fewer could take. Sticky: after a
 * change only the minimum number of partitions any balanced assignment needs change owner.
 * Converges: at most two rounds after any change, the second revoking nothing.
 *
 * Method: a group is simulated as Kafka's consumers run it. After each generated change (members
 * join with subscriptions, leave, resubscribe; topics gain partitions) rounds run: every member
 * reports what it owns, the assignor runs, and each member's owned set becomes what it owned
 * minus what the assignment leaves out (revoked) plus what it received; rounds repeat until one
 * revokes nothing. Every round and every settled state is checked. Single calls are checked
 * separately against arbitrary claimed ownership: stale, foreign, invalid and doubly claimed.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { AssignorMember, TopicPartition } from '../../../src/group/assignor.ts'
import { cooperativeStickyAssignor } from '../../../src/group/assignors/cooperative-sticky.ts'
import { assignorByName } from '../../../src/group/assignors/index.ts'
import { expectValid, keyOf, member, tp } from '../../helpers/assignor-fixtures.ts'
import { numRuns as defaultNumRuns } from '../../helpers/num-runs.ts'

const numRuns = defaultNumRuns(150)
/** Rounds the simulation allows before giving up; the property expects at most two. */
const ROUNDS_MAX = 6

interface SimMember {
  readonly memberId: string
  readonly groupInstanceId?: string
  topics: readonly string[]
  owned: TopicPartition[]
}

interface Group {
  readonly members: SimMember[]
  readonly partitionsPerTopic: Map<string, number>
}

function toAssignorMember(m: SimMember): AssignorMember {
  return member(m.memberId, m.topics, m.groupInstanceId, m.owned)
}

/** Partitions of topics that exist and that at least one member subscribes to. */
function subscribedPartitions(group: Group): string[] {
  const topics = new Set(group.members.flatMap(m => m.topics))
  return [...group.partitionsPerTopic].filter(([topic]) => topics.has(topic))
    .flatMap(([topic, count]) => Array.from({ length: count }, (_, p) => keyOf(tp(topic, p))))
}

/** No member is assigned a partition that a different member claims as owned. */
function expectNothingOwnedElsewhere(members: readonly AssignorMember[],
  assignment: Map<string, TopicPartition[]>): void {
  for (const m of members) {
    for (const p of assignment.get(m.memberId)!) {
      const otherOwners = members.filter(other => other !== m
        && other.ownedPartitions.some(owned => keyOf(owned) === keyOf(p)))
      expect(otherOwners.map(other => other.memberId), `${keyOf(p)} → ${m.memberId}`).toEqual([])
    }
  }
}

/**
 * Runs rounds until one revokes nothing, checking validity and safety in every round; returns
 * the number of rounds run (ROUNDS_MAX + 1 if it never settled).
 */
function rebalance(group: Group): number {
  for (let round = 1; round <= ROUNDS_MAX; round++) {
    const members = group.members.map(toAssignorMember)
    const assignment = cooperativeStickyAssignor.assign(members, group.partitionsPerTopic)
    expectValid(members, group.partitionsPerTopic, assignment)
    expectNothingOwnedElsewhere(members, assignment)
    let revokedAny = false
    for (const m of group.members) {
      const assigned = assignment.get(m.memberId)!
      const assignedKeys = new Set(assigned.map(keyOf))
      const ownedKeys = new Set(m.owned.map(keyOf))
      const revoked = m.owned.filter(p => !assignedKeys.has(keyOf(p)))
      const received = assigned.filter(p => !ownedKeys.has(keyOf(p)))
      revokedAny ||= revoked.length > 0
      // A consumer's owned partitions are a set, however often it listed one (claims are raw).
      const kept = m.owned.filter(p => assignedKeys.has(keyOf(p)))
      m.owned = [...new Map([...kept, ...received].map(p => [keyOf(p), p])).values()]
    }
    if (!revokedAny) return round
  }
  return ROUNDS_MAX + 1
}

/** Partition → owning member id, checking that no partition has two owners. */
function ownersOf(group: Group): Map<string, string> {
  const owners = new Map<string, string>()
  for (const m of group.members) {
    for (const p of m.owned) {
      expect(owners.get(keyOf(p)), `${keyOf(p)} has two owners`).toBeUndefined()
      owners.set(keyOf(p), m.memberId)
    }
  }
  return owners
}

/** Settled: every partition of a subscribed topic has exactly one owner, nothing else is owned. */
function expectSettled(group: Group): void {
  expect([...ownersOf(group).keys()].sort()).toEqual(subscribedPartitions(group).sort())
}

/** Kafka's balance criterion: no partition could move to an eligible member with two fewer. */
function expectNoPartitionTwoLighterCouldTake(group: Group): void {
  for (const m of group.members) {
    for (const p of m.owned) {
      for (const other of group.members.filter(o => o.topics.includes(p.topic))) {
        expect(other.owned.length, `${m.memberId} holds ${keyOf(p)}`)
          .toBeGreaterThanOrEqual(m.owned.length - 1)
      }
    }
  }
}

/**
 * The fewest partitions that must change owner to reach any balanced state with identical
 * subscriptions: those of departed members, plus what members hold above the count a balanced
 * state allows them (the `total % members` fullest may keep ⌈total/members⌉, the rest ⌊…⌋).
 */
function minimumMoves(before: Map<string, string>, group: Group): number {
  const present = new Set(group.members.map(m => m.memberId))
  const departed = [...before.values()].filter(owner => !present.has(owner)).length
  if (group.members.length === 0) return departed
  const total = subscribedPartitions(group).length
  const floor = Math.floor(total / group.members.length)
  const fullest = group.members
    .map(m => [...before.values()].filter(owner => owner === m.memberId).length)
    .sort((a, b) => b - a)
  const extras = total % group.members.length
  return departed + fullest.reduce((sum, count, rank) =>
    sum + Math.max(0, count - floor - (rank < extras ? 1 : 0)), 0)
}

function movedCount(before: Map<string, string>, after: Map<string, string>): number {
  return [...before].filter(([partition, owner]) => after.get(partition) !== owner).length
}

type Change =
  | { readonly kind: 'join', readonly topics: readonly string[], readonly isStatic: boolean }
  | { readonly kind: 'leave', readonly pick: number }
  | { readonly kind: 'resubscribe', readonly pick: number, readonly topics: readonly string[] }
  | { readonly kind: 'grow', readonly topic: string, readonly by: number }

function applyChange(group: Group, change: Change, id: number): void {
  const picked = group.members.length === 0 ? undefined
    : 'pick' in change ? change.pick % group.members.length : undefined
  switch (change.kind) {
    case 'join':
      group.members.push({ memberId: `m${id}`, topics: change.topics, owned: [],
        ...(change.isStatic ? { groupInstanceId: `i${id}` } : {}) })
      return
    case 'leave':
      if (picked !== undefined) group.members.splice(picked, 1)
      return
    case 'resubscribe':
      // The member rejoins with a new subscription but still owns what it owned.
      if (picked !== undefined) group.members[picked]!.topics = change.topics
      return
    case 'grow':
      group.partitionsPerTopic.set(change.topic,
        (group.partitionsPerTopic.get(change.topic) ?? 0) + change.by)
  }
}

const topicNames = ['t0', 't1', 't2']
const subscriptionArbitrary = fc.subarray([...topicNames, 'missing'])
const countsArbitrary = fc.tuple(fc.nat(10), fc.nat(10), fc.nat(10))
  .map(counts => new Map<string, number>(counts.map((count, index) => [`t${index}`, count])))
const growArbitrary = fc.record({ kind: fc.constant('grow' as const),
  topic: fc.constantFrom(...topicNames), by: fc.integer({ min: 1, max: 4 }) })
const leaveArbitrary = fc.record({ kind: fc.constant('leave' as const), pick: fc.nat(20) })

const generalScenario = fc.record({
  partitionsPerTopic: countsArbitrary,
  changes: fc.array(fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('join' as const),
      topics: subscriptionArbitrary, isStatic: fc.boolean() }) },
    { weight: 2, arbitrary: leaveArbitrary },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('resubscribe' as const),
      pick: fc.nat(20), topics: subscriptionArbitrary }) },
    { weight: 1, arbitrary: growArbitrary },
  ), { minLength: 1, maxLength: 14 }),
})

/** Every member subscribes to the same topics; members come and go, topics grow. */
const identicalScenario = fc.record({
  partitionsPerTopic: countsArbitrary,
  topics: fc.subarray([...topicNames, 'missing'], { minLength: 1 }),
  changes: fc.array(fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('join' as const),
      topics: fc.constant([]), isStatic: fc.boolean() }) },
    { weight: 3, arbitrary: leaveArbitrary },
    { weight: 1, arbitrary: growArbitrary },
  ), { minLength: 1, maxLength: 16 }),
}).map(({ partitionsPerTopic, topics, changes }) => ({ partitionsPerTopic, changes: changes
  .map((change): Change => (change.kind === 'join' ? { ...change, topics } : change)) }))

describe('cooperativeStickyAssignor across rebalances', () => {
  test.prop([generalScenario], { numRuns })(
    'with any subscriptions, after each change no round assigns a partition another member still '
    + 'owns, the second round at the latest revokes nothing, and then every subscribed partition '
    + 'has one owner and no eligible member with two fewer partitions could take any of them',
    ({ partitionsPerTopic, changes }) => {
      const group: Group = { members: [], partitionsPerTopic: new Map(partitionsPerTopic) }
      changes.forEach((change, id) => {
        applyChange(group, change, id)
        expect(rebalance(group)).toBeLessThanOrEqual(2)
        expectSettled(group)
        expectNoPartitionTwoLighterCouldTake(group)
      })
    })

  test.prop([identicalScenario], { numRuns })(
    'with identical subscriptions, after each join, leave or topic growth no round assigns a '
    + 'partition another member still owns, the second round at the latest revokes nothing, '
    + 'counts then differ by at most one, and the partitions that change owner number exactly '
    + 'the fewest any balanced state needs (the departed member\'s, plus what members hold over '
    + 'the ⌈N/M⌉ or ⌊N/M⌋ they may keep): after a leave only the leaver\'s partitions move, '
    + 'after a join only partitions that end at the newcomer move',
    ({ partitionsPerTopic, changes }) => {
      const group: Group = { members: [], partitionsPerTopic: new Map(partitionsPerTopic) }
      changes.forEach((change, id) => {
        const before = ownersOf(group)
        const memberIds = new Set(group.members.map(m => m.memberId))
        applyChange(group, change, id)
        const minimum = minimumMoves(before, group)
        expect(rebalance(group)).toBeLessThanOrEqual(2)
        expectSettled(group)
        const counts = group.members.map(m => m.owned.length)
        const spread = counts.length === 0 ? 0 : Math.max(...counts) - Math.min(...counts)
        expect(spread).toBeLessThanOrEqual(1)
        const after = ownersOf(group)
        expect(movedCount(before, after)).toBe(minimum)
        const moved = [...before].filter(([partition, owner]) => after.get(partition) !== owner)
        if (change.kind === 'leave') {
          const left = [...memberIds].filter(id => !group.members.some(m => m.memberId === id))
          for (const [, owner] of moved) expect(left).toContain(owner)
        }
        if (change.kind === 'join') {
          for (const [partition] of moved) expect(after.get(partition)).toBe(`m${id}`)
        }
      })
    })
})

/** Members with arbitrary claims: stale, of missing topics, out of range, and doubly claimed. */
const claimsArbitrary = fc.record({
  partitionsPerTopic: countsArbitrary,
  identical: fc.boolean(),
  shared: subscriptionArbitrary,
  members: fc.uniqueArray(fc.record({
    id: fc.integer({ min: 0, max: 30 }),
    isStatic: fc.boolean(),
    topics: subscriptionArbitrary,
    owned: fc.array(fc.record({ topic: fc.constantFrom(...topicNames, 'missing'),
      partition: fc.integer({ min: -1, max: 11 }) }), { maxLength: 9 }),
  }), { minLength: 1, maxLength: 7, selector: m => m.id }),
}).map(({ partitionsPerTopic, identical, shared, members }) => ({
  identical,
  group: { partitionsPerTopic, members: members.map((m): SimMember => ({
    memberId: `m${m.id}`, topics: identical ? shared : m.topics, owned: m.owned,
    ...(m.isStatic ? { groupInstanceId: `i${m.id}` } : {}),
  })) } satisfies Group,
}))

describe('cooperativeStickyAssignor on arbitrary claimed ownership', () => {
  test.prop([claimsArbitrary], { numRuns })(
    'a single assignment is valid and gives no member a partition that another member claims',
    ({ group }) => {
      const members = group.members.map(toAssignorMember)
      const assignment = cooperativeStickyAssignor.assign(members, group.partitionsPerTopic)
      expectValid(members, group.partitionsPerTopic, assignment)
      expectNothingOwnedElsewhere(members, assignment)
    })

  test.prop([claimsArbitrary], { numRuns })(
    'from any claimed ownership the second round at the latest revokes nothing and leaves every '
    + 'subscribed partition with one owner',
    ({ group }) => {
      expect(rebalance(group)).toBeLessThanOrEqual(2)
      expectSettled(group)
      expectNoPartitionTwoLighterCouldTake(group)
    })

  test.prop([claimsArbitrary.filter(c => c.identical)], { numRuns })(
    'with identical subscriptions, a member whose claims on existing subscribed partitions are '
    + 'all unclaimed by others and number at most ⌊N/M⌋ is assigned all of them again',
    ({ group }) => {
      const members = group.members.map(toAssignorMember)
      const assignment = cooperativeStickyAssignor.assign(members, group.partitionsPerTopic)
      const existing = new Set(subscribedPartitions(group))
      const floor = Math.floor(existing.size / members.length)
      const claimants = new Map<string, Set<string>>()
      for (const m of members) {
        for (const p of m.ownedPartitions) {
          claimants.set(keyOf(p), (claimants.get(keyOf(p)) ?? new Set()).add(m.memberId))
        }
      }
      for (const m of members) {
        const claims = new Set(m.ownedPartitions.map(keyOf).filter(key => existing.has(key)))
        if (claims.size > floor || [...claims].some(key => claimants.get(key)!.size > 1)) continue
        const assigned = new Set(assignment.get(m.memberId)!.map(keyOf))
        for (const key of claims) expect(assigned.has(key), `${m.memberId} keeps ${key}`).toBe(true)
      }
    })

  test.prop([claimsArbitrary.chain(c => fc.record({
    claims: fc.constant(c),
    shuffled: fc.shuffledSubarray(c.group.members, { minLength: c.group.members.length })
      .map(members => members.map(m => ({ ...m, owned: [...m.owned].reverse() }))),
  }))], { numRuns })(
    'the assignment does not depend on the order of members or of their owned partitions',
    ({ claims, shuffled }) => {
      const { group } = claims
      const original = cooperativeStickyAssignor.assign(group.members.map(toAssignorMember),
        group.partitionsPerTopic)
      const reordered = cooperativeStickyAssignor.assign(shuffled.map(toAssignorMember),
        group.partitionsPerTopic)
      for (const m of group.members) {
        expect(reordered.get(m.memberId)).toEqual(original.get(m.memberId))
      }
    })
})

function simMember(memberId: string, topics: string[], owned: TopicPartition[] = []): SimMember {
  return { memberId, topics, owned }
}

function ownedBy(group: Group): Record<string, string[]> {
  return Object.fromEntries(group.members.map(m => [m.memberId, m.owned.map(keyOf).sort()]))
}

describe('cooperativeStickyAssignor examples', () => {
  it('is registered under Kafka\'s strategy name, cooperative', () => {
    expect(assignorByName('cooperative-sticky')).toBe(cooperativeStickyAssignor)
    expect(cooperativeStickyAssignor.protocol).toBe('cooperative')
  })

  it('a fresh group gets a balanced assignment in one round', () => {
    const group: Group = { partitionsPerTopic: new Map([['t0', 4], ['t1', 2]]),
      members: [simMember('a', ['t0', 't1']), simMember('b', ['t0', 't1']),
        simMember('c', ['t0', 't1'])] }
    expect(rebalance(group)).toBe(1)
    expect(Object.values(ownedBy(group)).map(owned => owned.length)).toEqual([2, 2, 2])
  })

  it('a joining member gets its share in the second round, after the owner revoked it', () => {
    const a = simMember('a', ['t0'], [tp('t0', 0), tp('t0', 1), tp('t0', 2), tp('t0', 3)])
    const b = simMember('b', ['t0'])
    const members = [a, b].map(toAssignorMember)
    const first = cooperativeStickyAssignor.assign(members, new Map([['t0', 4]]))
    // Round one: a keeps the first half, the other half is held back while a still owns it.
    expect(first).toEqual(new Map([['a', [tp('t0', 0), tp('t0', 1)]], ['b', []]]))
    const group: Group = { partitionsPerTopic: new Map([['t0', 4]]), members: [a, b] }
    expect(rebalance(group)).toBe(2)
    expect(ownedBy(group)).toEqual({ a: ['t0:0', 't0:1'], b: ['t0:2', 't0:3'] })
  })

  it('when a member leaves, only its partitions move, in one round', () => {
    const group: Group = { partitionsPerTopic: new Map([['t0', 6]]), members: [
      simMember('a', ['t0'], [tp('t0', 0), tp('t0', 1)]),
      simMember('b', ['t0'], [tp('t0', 2), tp('t0', 3)]),
    ] }
    expect(rebalance(group)).toBe(1)
    expect(ownedBy(group)).toEqual({ a: ['t0:0', 't0:1', 't0:4'], b: ['t0:2', 't0:3', 't0:5'] })
  })

  it('a partition claimed by two members goes to neither until both have revoked it', () => {
    const a = simMember('a', ['t0'], [tp('t0', 0)])
    const b = simMember('b', ['t0'], [tp('t0', 0), tp('t0', 1)])
    const first = cooperativeStickyAssignor.assign([a, b].map(toAssignorMember),
      new Map([['t0', 2]]))
    expect(first).toEqual(new Map([['a', []], ['b', [tp('t0', 1)]]]))
    const group: Group = { partitionsPerTopic: new Map([['t0', 2]]), members: [a, b] }
    expect(rebalance(group)).toBe(2)
    expect(ownedBy(group)).toEqual({ a: ['t0:0'], b: ['t0:1'] })
  })

  it('balances through a chain of members where no single move could', () => {
    // c can take only t0, which b holds; a, the heaviest, holds only t1. Balance needs a → b
    // (a t1 partition) and b → c (a t0 partition). Kafka's criterion would accept 3/2/1 here.
    const group: Group = { partitionsPerTopic: new Map([['t0', 3], ['t1', 3]]), members: [
      simMember('a', ['t1'], [tp('t1', 0), tp('t1', 1), tp('t1', 2)]),
      simMember('b', ['t0', 't1'], [tp('t0', 0), tp('t0', 1), tp('t0', 2)]),
      simMember('c', ['t0']),
    ] }
    expect(rebalance(group)).toBe(2)
    expect(Object.values(ownedBy(group)).map(owned => owned.length)).toEqual([2, 2, 2])
    expect(ownedBy(group)['a']).toEqual(['t1:0', 't1:1'])
  })
})
