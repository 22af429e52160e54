/**
 * Fixtures for the assignor tests: builders of members and partitions, random groups, and the
 * checks every assignment must pass.
 */
import { fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { Assignor, AssignorMember, TopicPartition } from '../../src/group/assignor.ts'

export function member(memberId: string, topics: readonly string[], groupInstanceId?: string,
  ownedPartitions: readonly TopicPartition[] = []): AssignorMember {
  return { memberId, topics, ownedPartitions,
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }) }
}

export function tp(topic: string, partition: number): TopicPartition {
  return { topic, partition }
}

export const keyOf = (p: TopicPartition): string => `${p.topic}:${p.partition}`

/** `assignor.assign` with the partition counts written as an object literal. */
export function assignWith(assignor: Assignor):
(members: AssignorMember[], counts: Record<string, number>) => Map<string, TopicPartition[]> {
  return (members, counts) => assignor.assign(members, new Map(Object.entries(counts)))
}

/** Topics of the random groups: `t0`-`t2` (see `partitionsPerTopicOf`) and one that is missing. */
export const topicNames = ['t0', 't1', 't2', 'missing']

/** Partition counts of `t0`, `t1`, `t2` (zero is a topic with no partitions). */
export const countsArbitrary = fc.tuple(fc.nat(9), fc.nat(9), fc.nat(9))

export function partitionsPerTopicOf(counts: readonly number[]): Map<string, number> {
  return new Map<string, number>(counts.map((count, index) => [`t${index}`, count]))
}

/**
 * Members of a random group: unique member ids, some with an instance id (static), subscriptions
 * that may name a topic missing from the metadata. Turned into members by `membersOf`.
 */
export const memberSpecsArbitrary = fc.uniqueArray(fc.record({
  id: fc.integer({ min: 0, max: 30 }),
  instance: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  topics: fc.subarray(topicNames),
}), { minLength: 1, maxLength: 7, selector: m => m.id })

/**
 * Members `m<id>`; a member is static (`i<instance>`) if no earlier member took its instance id.
 * Every member subscribes to `subscription` if given, else to its own topics.
 */
export function membersOf(specs: readonly { id: number, instance: number | undefined,
  topics: string[] }[], subscription?: string[]): AssignorMember[] {
  const seenInstances = new Set<number>()
  return specs.map(({ id, instance, topics }) => {
    const unique = instance !== undefined && !seenInstances.has(instance)
    if (unique) seenInstances.add(instance)
    return member(`m${id}`, subscription ?? topics, unique ? `i${instance}` : undefined)
  })
}

/** An entry per member; only subscribed, existing partitions; no partition twice. */
export function expectValid(members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  assignment: Map<string, TopicPartition[]>): void {
  expect([...assignment.keys()].sort()).toEqual(members.map(m => m.memberId).sort())
  const seen = new Set<string>()
  for (const m of members) {
    for (const p of assignment.get(m.memberId)!) {
      expect(m.topics).toContain(p.topic)
      expect(p.partition).toBeGreaterThanOrEqual(0)
      expect(p.partition).toBeLessThan(partitionsPerTopic.get(p.topic) ?? 0)
      expect(seen.has(keyOf(p))).toBe(false)
      seen.add(keyOf(p))
    }
  }
}

/**
 * What an eager assignor must give: `expectValid`, the entries in the order the members were
 * listed, and every partition of a subscribed topic assigned.
 */
export function expectValidAndComplete(members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  assignment: Map<string, TopicPartition[]>): void {
  expect([...assignment.keys()]).toEqual(members.map(m => m.memberId))
  expectValid(members, partitionsPerTopic, assignment)
  const assigned = new Set([...assignment.values()].flat().map(keyOf))
  for (const [topic, count] of partitionsPerTopic) {
    if (!members.some(m => m.topics.includes(topic))) continue
    for (let p = 0; p < count; p++) expect(assigned.has(keyOf(tp(topic, p)))).toBe(true)
  }
}

/** A group drawn from `groups`, with its members in an arbitrary other order. */
export function withShuffledMembers<G extends { readonly members: AssignorMember[] }>(
  groups: fc.Arbitrary<G>): fc.Arbitrary<{ group: G, shuffled: AssignorMember[] }> {
  return groups.chain(group => fc.record({
    group: fc.constant(group),
    shuffled: fc.shuffledSubarray(group.members, { minLength: group.members.length }),
  }))
}

/** Every member of `members` gets the same partitions when they are listed as in `shuffled`. */
export function expectOrderIndependent(assignor: Assignor, members: readonly AssignorMember[],
  shuffled: readonly AssignorMember[], partitionsPerTopic: ReadonlyMap<string, number>): void {
  const original = assignor.assign(members, partitionsPerTopic)
  const reordered = assignor.assign(shuffled, partitionsPerTopic)
  for (const m of members) {
    expect(reordered.get(m.memberId)).toEqual(original.get(m.memberId))
  }
}

/**
 * Kafka's cases that RangeAssignorTest and RoundRobinAssignorTest share (test names kept):
 * groups too simple for the two strategies to differ, so both must give exactly these answers.
 */
export function itAssignsSimpleGroupsLikeKafka(assignor: Assignor): void {
  const assign = assignWith(assignor)
  describe('cases both Kafka assignor tests share', () => {
    it('testOneConsumerNoTopic and testOneConsumerNonexistentTopic: an empty entry', () => {
      expect(assign([member('consumer1', [])], {})).toEqual(new Map([['consumer1', []]]))
      expect(assign([member('consumer1', ['topic1'])], {})).toEqual(new Map([['consumer1', []]]))
    })

    it('testOneConsumerOneTopic and testOnlyAssignsPartitionsFromSubscribedTopics', () => {
      const all = [tp('topic1', 0), tp('topic1', 1), tp('topic1', 2)]
      expect(assign([member('consumer1', ['topic1'])], { topic1: 3 }).get('consumer1')).toEqual(all)
      expect(assign([member('consumer1', ['topic1'])], { topic1: 3, other: 3 }).get('consumer1'))
        .toEqual(all)
    })

    it('testOneConsumerMultipleTopics', () => {
      expect(assign([member('consumer1', ['topic1', 'topic2'])], { topic1: 1, topic2: 2 })
        .get('consumer1')).toEqual([tp('topic1', 0), tp('topic2', 0), tp('topic2', 1)])
    })

    it('testTwoConsumersOneTopicOnePartition and testTwoConsumersOneTopicTwoPartitions', () => {
      const consumers = [member('consumer1', ['topic1']), member('consumer2', ['topic1'])]
      expect(assign(consumers, { topic1: 1 }))
        .toEqual(new Map([['consumer1', [tp('topic1', 0)]], ['consumer2', []]]))
      expect(assign(consumers, { topic1: 2 }))
        .toEqual(new Map([['consumer1', [tp('topic1', 0)]], ['consumer2', [tp('topic1', 1)]]]))
    })

    it('testMultipleConsumersMixedTopics', () => {
      const result = assign([member('consumer1', ['topic1']),
        member('consumer2', ['topic1', 'topic2']), member('consumer3', ['topic1'])],
      { topic1: 3, topic2: 2 })
      expect(result.get('consumer1')).toEqual([tp('topic1', 0)])
      expect(result.get('consumer2')).toEqual([tp('topic1', 1), tp('topic2', 0), tp('topic2', 1)])
      expect(result.get('consumer3')).toEqual([tp('topic1', 2)])
    })
  })
}
