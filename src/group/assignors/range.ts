/**
 * Kafka's RangeAssignor (`partition.assignment.strategy=range`), eager protocol. Topic by topic,
 * the members subscribed to the topic are put in Kafka's member order and the partitions are cut
 * into contiguous ranges: with `n` partitions and `m` members each gets `floor(n / m)`, and the
 * first `n % m` members one more. Because every topic is cut the same way, members that
 * subscribe to co-partitioned topics get the same partition numbers of each (what joins need).
 *
 * Kafka's member order (AbstractPartitionAssignor.MemberInfo#compareTo) puts static members
 * (KIP-345, with a `group.instance.id`) first, ordered by instance id, then dynamic members by
 * member id; so a static member that restarts with a new member id keeps its ranges.
 * `compareMembers` lives here, the first assignor that needs it, and the other assignors import
 * it.
 *
 * Deliberately not done: rack-aware assignment (KIP-881), which needs racks the interface does not
 * carry. Without racks Kafka's assignor reduces to exactly this.
 */
import { assert } from '../../util/assert.ts'
import type { Assignor, AssignorMember, TopicPartition } from '../assignor.ts'

/**
 * Kafka's member order: static members by `groupInstanceId`, then dynamic ones by `memberId`.
 * Strings compare by UTF-16 code unit, as Java's `String.compareTo` does.
 * @internal Shared by the assignors in this folder.
 */
export function compareMembers(a: AssignorMember, b: AssignorMember): number {
  if (a.groupInstanceId !== undefined && b.groupInstanceId !== undefined) {
    return compareStrings(a.groupInstanceId, b.groupInstanceId)
  }
  if (a.groupInstanceId !== undefined) return -1
  if (b.groupInstanceId !== undefined) return 1
  return compareStrings(a.memberId, b.memberId)
}

/** @internal Orders topic-partitions by topic, then partition, as Kafka's assignors sort them. */
export function compareTopicPartitions(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition
}

/** @internal Orders strings by UTF-16 code unit, as Java's `String.compareTo` does. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * An empty assignment with an entry for every member, in the order given; checks the input the
 * coordinator hands over (unique member ids, whole non-negative partition counts).
 * @internal Shared by the assignors in this folder.
 */
export function emptyAssignment(members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const assignment = new Map<string, TopicPartition[]>()
  for (const member of members) {
    assert(!assignment.has(member.memberId), `member ${member.memberId} is listed twice`)
    assignment.set(member.memberId, [])
  }
  for (const [topic, count] of partitionsPerTopic) {
    assert(Number.isSafeInteger(count) && count >= 0,
      `topic ${topic} has partition count ${count}, not a whole number ≥ 0`)
  }
  return assignment
}

function assign(members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const assignment = emptyAssignment(members, partitionsPerTopic)
  const subscribersByTopic = new Map<string, AssignorMember[]>()
  for (const member of members) {
    for (const topic of new Set(member.topics)) {
      const subscribers = subscribersByTopic.get(topic) ?? []
      subscribers.push(member)
      subscribersByTopic.set(topic, subscribers)
    }
  }
  for (const [topic, subscribers] of subscribersByTopic) {
    const count = partitionsPerTopic.get(topic)
    if (count === undefined) continue
    subscribers.sort(compareMembers)
    const quotient = Math.floor(count / subscribers.length)
    const extra = count % subscribers.length
    let next = 0
    subscribers.forEach((member, index) => {
      const length = quotient + (index < extra ? 1 : 0)
      // Kafka computes the start as quotient * index + min(index, extra); the ranges abut.
      assert(next === quotient * index + Math.min(index, extra), 'ranges must be contiguous')
      const partitions = assignment.get(member.memberId)!
      for (let partition = next; partition < next + length; partition++) {
        partitions.push({ topic, partition })
      }
      next += length
    })
    assert(next === count, `range split of ${topic} must cover all ${count} partitions`)
  }
  for (const partitions of assignment.values()) partitions.sort(compareTopicPartitions)
  return assignment
}

/** Kafka's `range` assignor: contiguous ranges of each topic, first members get the extras. */
export const rangeAssignor: Assignor = { name: 'range', protocol: 'eager', assign }
