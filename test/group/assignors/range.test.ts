/**
 * Goal: the range assignor gives exactly Kafka's RangeAssignor result: per topic, the subscribers
 * in Kafka's member order (static members by instance id, then dynamic ones by member id) get
 * contiguous ranges, the first `n % m` one partition more; every partition of a subscribed topic
 * goes to exactly one subscriber and nothing else is assigned.
 * Method: Kafka's own RangeAssignorTest cases with their expected assignments, then properties
 * over random groups (subscriptions, static and dynamic members, missing and empty topics).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { AssignorMember, TopicPartition } from '../../../src/group/assignor.ts'
import { assignorByName } from '../../../src/group/assignors/index.ts'
import { compareMembers, rangeAssignor } from '../../../src/group/assignors/range.ts'
import {
  assignWith, countsArbitrary, itAssignsSimpleGroupsLikeKafka, expectOrderIndependent, expectValidAndComplete, member,
  memberSpecsArbitrary, membersOf, partitionsPerTopicOf, tp, withShuffledMembers,
} from '../../helpers/assignor-fixtures.ts'
import { numRuns as defaultNumRuns } from '../../helpers/num-runs.ts'

const numRuns = defaultNumRuns(200)

const assign = assignWith(rangeAssignor)

// Expected assignments from apache/kafka,
// clients/src/test/java/org/apache/kafka/clients/consumer/RangeAssignorTest.java (test names kept).
describe('rangeAssignor, Kafka RangeAssignorTest cases', () => {
  itAssignsSimpleGroupsLikeKafka(rangeAssignor)

  it('testTwoConsumersTwoTopicsSixPartitions', () => {
    const topics = ['topic1', 'topic2']
    const result = assign([member('consumer1', topics), member('consumer2', topics)],
      { topic1: 3, topic2: 3 })
    expect(result.get('consumer1'))
      .toEqual([tp('topic1', 0), tp('topic1', 1), tp('topic2', 0), tp('topic2', 1)])
    expect(result.get('consumer2')).toEqual([tp('topic1', 2), tp('topic2', 2)])
  })

  it('testTwoStaticConsumers… and testOneStaticConsumerAndOneDynamicConsumer…', () => {
    // consumer-b sorts after consumer-a by member id, but instance ids (and being static) win.
    const topics = ['topic1', 'topic2']
    const low = [tp('topic1', 0), tp('topic1', 1), tp('topic2', 0), tp('topic2', 1)]
    const high = [tp('topic1', 2), tp('topic2', 2)]
    const bothStatic = assign([member('consumer-b', topics, 'instance1'),
      member('consumer-a', topics, 'instance2')], { topic1: 3, topic2: 3 })
    expect(bothStatic).toEqual(new Map([['consumer-b', low], ['consumer-a', high]]))
    const oneStatic = assign([member('consumer-b', topics, 'instance1'),
      member('consumer-a', topics)], { topic1: 3, topic2: 3 })
    expect(oneStatic).toEqual(new Map([['consumer-b', low], ['consumer-a', high]]))
  })

  it('testStaticMemberRangeAssignmentPersistent', () => {
    const topics = ['topic1', 'topic2']
    const statics = [member('consumer1', topics, 'instance1'),
      member('consumer2', topics, 'instance2'), member('consumer3', topics, 'instance3')]
    const expected = (dynamic: string): Map<string, TopicPartition[]> => new Map([
      ['consumer1', [tp('topic1', 0), tp('topic1', 1), tp('topic2', 0)]],
      ['consumer2', [tp('topic1', 2), tp('topic2', 1)]],
      ['consumer3', [tp('topic1', 3), tp('topic2', 2)]],
      [dynamic, [tp('topic1', 4), tp('topic2', 3)]],
    ])
    const counts = { topic1: 5, topic2: 4 }
    expect(assign([...statics, member('consumer4', topics)], counts)).toEqual(expected('consumer4'))
    // Replacing the dynamic member 4 by a new dynamic member 5 leaves the static members alone.
    expect(assign([...statics, member('consumer5', topics)], counts)).toEqual(expected('consumer5'))
  })

  it('is registered under Kafka\'s strategy name, eager', () => {
    expect(assignorByName('range')).toBe(rangeAssignor)
    expect(rangeAssignor.protocol).toBe('eager')
  })
})

/** Random groups: unique member ids, some static members, subscriptions that may name a topic
 * missing from the metadata, and topics with no partitions. */
const groupArbitrary = fc.record({ counts: countsArbitrary, members: memberSpecsArbitrary })
  .map(({ counts, members }) => ({ partitionsPerTopic: partitionsPerTopicOf(counts),
    members: membersOf(members) }))

function subscribes(member: AssignorMember, topic: string): boolean {
  return member.topics.includes(topic)
}

describe('rangeAssignor properties', () => {
  test.prop([groupArbitrary], { numRuns })(
    'every member gets an entry, only subscribed partitions, and each partition of a subscribed '
    + 'topic goes to exactly one member',
    ({ members, partitionsPerTopic }) => {
      expectValidAndComplete(members, partitionsPerTopic,
        rangeAssignor.assign(members, partitionsPerTopic))
    })

  test.prop([groupArbitrary], { numRuns })(
    'per topic, subscribers in Kafka member order hold consecutive ranges from partition 0 up, '
    + 'of sizes floor(n/m) or one more, the larger ones first',
    ({ members, partitionsPerTopic }) => {
      const assignment = rangeAssignor.assign(members, partitionsPerTopic)
      for (const [topic, count] of partitionsPerTopic) {
        const subscribers = members.filter(m => subscribes(m, topic)).sort(compareMembers)
        let next = 0
        for (const [index, m] of subscribers.entries()) {
          const mine = assignment.get(m.memberId)!.filter(p => p.topic === topic)
          const size = Math.floor(count / subscribers.length)
            + (index < count % subscribers.length ? 1 : 0)
          expect(mine.map(p => p.partition))
            .toEqual(Array.from({ length: size }, (_, offset) => next + offset))
          next += size
        }
      }
    })

  test.prop([withShuffledMembers(groupArbitrary)], { numRuns })(
    'the assignment does not depend on the order members are listed in',
    ({ group, shuffled }) => {
      expectOrderIndependent(rangeAssignor, group.members, shuffled, group.partitionsPerTopic)
    })
})
