/**
 * Goal: the round-robin assignor gives exactly Kafka's RoundRobinAssignor result: partitions
 * sorted by topic then partition are dealt to members in Kafka's member order, each to the next
 * member after the previous taker that subscribes to its topic; every partition of a subscribed
 * topic goes to exactly one subscriber, and identical subscriptions come out balanced.
 * Method: Kafka's own RoundRobinAssignorTest cases with their expected assignments, then
 * properties over random groups (subscriptions, static and dynamic members, missing topics).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { AssignorMember, TopicPartition } from '../../../src/group/assignor.ts'
import { assignorByName } from '../../../src/group/assignors/index.ts'
import { compareMembers } from '../../../src/group/assignors/range.ts'
import { roundRobinAssignor } from '../../../src/group/assignors/round-robin.ts'
import {
  assignWith, countsArbitrary, itAssignsSimpleGroupsLikeKafka, expectOrderIndependent, expectValidAndComplete, member,
  memberSpecsArbitrary, membersOf, partitionsPerTopicOf, topicNames, tp, withShuffledMembers,
} from '../../helpers/assignor-fixtures.ts'
import { numRuns as defaultNumRuns } from '../../helpers/num-runs.ts'

const numRuns = defaultNumRuns(200)

const assign = assignWith(roundRobinAssignor)

// Expected assignments from apache/kafka,
// clients/src/test/java/org/apache/kafka/clients/consumer/RoundRobinAssignorTest.java
// (test names kept).
describe('roundRobinAssignor, Kafka RoundRobinAssignorTest cases', () => {
  itAssignsSimpleGroupsLikeKafka(roundRobinAssignor)

  it('testTwoDynamicConsumersTwoTopicsSixPartitions', () => {
    const topics = ['topic1', 'topic2']
    const result = assign([member('consumer1', topics), member('consumer2', topics)],
      { topic1: 3, topic2: 3 })
    expect(result.get('consumer1')).toEqual([tp('topic1', 0), tp('topic1', 2), tp('topic2', 1)])
    expect(result.get('consumer2')).toEqual([tp('topic1', 1), tp('topic2', 0), tp('topic2', 2)])
  })

  it('testTwoStaticConsumers… and testOneStaticConsumerAndOneDynamicConsumer…', () => {
    // consumer-b sorts after consumer-a by member id, but instance ids (and being static) win.
    const topics = ['topic1', 'topic2']
    const first = [tp('topic1', 0), tp('topic1', 2), tp('topic2', 1)]
    const second = [tp('topic1', 1), tp('topic2', 0), tp('topic2', 2)]
    const bothStatic = assign([member('consumer-b', topics, 'instance1'),
      member('consumer-a', topics, 'instance2')], { topic1: 3, topic2: 3 })
    expect(bothStatic).toEqual(new Map([['consumer-b', first], ['consumer-a', second]]))
    const oneStatic = assign([member('consumer-b', topics, 'instance1'),
      member('consumer-a', topics)], { topic1: 3, topic2: 3 })
    expect(oneStatic).toEqual(new Map([['consumer-b', first], ['consumer-a', second]]))
  })

  it('testStaticMemberAssignmentPersistent', () => {
    const topics = ['topic1', 'topic2']
    const statics = [member('consumer1', topics, 'instance1'),
      member('consumer2', topics, 'instance2'), member('consumer3', topics, 'instance3')]
    const expected = (dynamic: string): Map<string, TopicPartition[]> => new Map([
      ['consumer1', [tp('topic1', 0), tp('topic2', 1)]],
      ['consumer2', [tp('topic1', 1), tp('topic2', 2)]],
      ['consumer3', [tp('topic1', 2)]],
      [dynamic, [tp('topic2', 0)]],
    ])
    const counts = { topic1: 3, topic2: 3 }
    expect(assign([...statics, member('consumer4', topics)], counts)).toEqual(expected('consumer4'))
    // Replacing the dynamic member 4 by a new dynamic member 5 leaves the static members alone.
    expect(assign([...statics, member('consumer5', topics)], counts)).toEqual(expected('consumer5'))
  })

  it('testStaticMemberAssignmentPersistentAfterMemberIdChanges', () => {
    // The instance ids keep their partitions when every member id changes.
    const topics = ['topic1', 'topic2']
    const counts = { topic1: 3, topic2: 3 }
    const byInstance = (members: AssignorMember[]): Map<string, TopicPartition[]> => {
      const result = assign(members, counts)
      return new Map(members.map(m => [m.groupInstanceId!, result.get(m.memberId)!]))
    }
    const before = byInstance([member('consumer1', topics, 'instance1'),
      member('consumer2', topics, 'instance2'), member('consumer3', topics, 'instance3')])
    const after = byInstance([member('consumer4', topics, 'instance1'),
      member('consumer5', topics, 'instance2'), member('consumer1', topics, 'instance3')])
    expect(after).toEqual(before)
    expect(before.get('instance1')).toEqual([tp('topic1', 0), tp('topic2', 0)])
  })

  it('is registered under Kafka\'s strategy name, eager', () => {
    expect(assignorByName('roundrobin')).toBe(roundRobinAssignor)
    expect(roundRobinAssignor.protocol).toBe('eager')
  })
})

/** Random groups: unique member ids, some static members, subscriptions that may name a topic
 * missing from the metadata, and topics with no partitions; some with one subscription shared
 * by every member. */
const groupArbitrary = fc.record({
  counts: countsArbitrary,
  identical: fc.boolean(),
  shared: fc.subarray(topicNames),
  members: memberSpecsArbitrary,
}).map(({ counts, identical, shared, members }) => ({
  identical,
  partitionsPerTopic: partitionsPerTopicOf(counts),
  members: membersOf(members, identical ? shared : undefined),
}))

describe('roundRobinAssignor properties', () => {
  test.prop([groupArbitrary], { numRuns })(
    'every member gets an entry, only subscribed partitions, and each partition of a subscribed '
    + 'topic goes to exactly one member',
    ({ members, partitionsPerTopic }) => {
      expectValidAndComplete(members, partitionsPerTopic,
        roundRobinAssignor.assign(members, partitionsPerTopic))
    })

  test.prop([groupArbitrary], { numRuns })(
    'in (topic, partition) order, each partition goes to the first subscriber of its topic after '
    + 'the previous taker in Kafka member order, wrapping around',
    ({ members, partitionsPerTopic }) => {
      const assignment = roundRobinAssignor.assign(members, partitionsPerTopic)
      const sorted = [...members].sort(compareMembers)
      const takerOf = new Map<string, number>()
      sorted.forEach((m, index) => {
        for (const p of assignment.get(m.memberId)!) takerOf.set(`${p.topic}:${p.partition}`, index)
      })
      const dealt = [...partitionsPerTopic].sort(([a], [b]) => (a < b ? -1 : 1))
        .filter(([topic]) => members.some(m => m.topics.includes(topic)))
        .flatMap(([topic, count]) => Array.from({ length: count }, (_, p) => tp(topic, p)))
      let previous = -1
      for (const { topic, partition } of dealt) {
        let expected = (previous + 1) % sorted.length
        while (!sorted[expected]!.topics.includes(topic)) expected = (expected + 1) % sorted.length
        expect(takerOf.get(`${topic}:${partition}`)).toBe(expected)
        previous = expected
      }
    })

  test.prop([groupArbitrary.filter(group => group.identical)], { numRuns })(
    'with identical subscriptions, members\' partition counts differ by at most one',
    ({ members, partitionsPerTopic }) => {
      const counts = [...roundRobinAssignor.assign(members, partitionsPerTopic).values()]
        .map(partitions => partitions.length)
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
    })

  test.prop([withShuffledMembers(groupArbitrary)], { numRuns })(
    'the assignment does not depend on the order members are listed in',
    ({ group, shuffled }) => {
      expectOrderIndependent(roundRobinAssignor, group.members, shuffled,
        group.partitionsPerTopic)
    })
})
