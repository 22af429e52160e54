/**
 * Kafka's RoundRobinAssignor (`partition.assignment.strategy=roundrobin`), eager protocol. All
 * partitions of the subscribed topics that exist are laid out sorted by topic, then partition;
 * the members, in Kafka's member order (static members by instance id first, then dynamic ones
 * by member id), are dealt them in turn like cards. A member not subscribed to a partition's
 * topic is skipped for that partition, and the deal carries on from the member after the one
 * that took it (Kafka's CircularIterator, peeked until a subscriber comes up).
 *
 * With identical subscriptions the counts differ by at most one. With differing subscriptions
 * Kafka gives no balance promise and neither does this; that is what the sticky assignors are for.
 */
import { assert } from '../../util/assert.ts'
import type { Assignor, AssignorMember, TopicPartition } from '../assignor.ts'
import { compareMembers, compareStrings, emptyAssignment } from './range.ts'

function assign(members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const assignment = emptyAssignment(members, partitionsPerTopic)
  const sorted = [...members].sort(compareMembers)
  const subscriptions = sorted.map(member => new Set(member.topics))
  const topics = [...new Set(sorted.flatMap(member => member.topics))]
    .filter(topic => partitionsPerTopic.has(topic))
    .sort(compareStrings)
  let next = 0
  for (const topic of topics) {
    const count = partitionsPerTopic.get(topic)!
    for (let partition = 0; partition < count; partition++) {
      // Someone subscribes to `topic` (it came from a subscription), so one lap finds them.
      let skipped = 0
      while (!subscriptions[next]!.has(topic)) {
        next = (next + 1) % sorted.length
        skipped++
        assert(skipped < sorted.length, `no member subscribes to ${topic}`)
      }
      assignment.get(sorted[next]!.memberId)!.push({ topic, partition })
      next = (next + 1) % sorted.length
    }
  }
  assert(next >= 0 && next < Math.max(sorted.length, 1), 'the deal position stays on a member')
  return assignment
}

/** Kafka's `roundrobin` assignor: partitions dealt to members in turn, skipping non-subscribers. */
export const roundRobinAssignor: Assignor = { name: 'roundrobin', protocol: 'eager', assign }
