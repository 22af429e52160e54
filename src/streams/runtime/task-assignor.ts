/**
 * The streams app's assignor (the part of Kafka Streams' StreamsPartitionAssignor Weir needs): a
 * task reads the same partition of every source topic of its sub-topology, so those partitions
 * must go to one member together. It assigns tasks, not partitions: each sub-topology becomes a
 * virtual topic whose partitions are its tasks, Kafka's cooperative-sticky assignor (balanced,
 * sticky, incremental; cooperative-sticky.ts) assigns those, and each task is expanded back into
 * its partitions. A member that owns any partition of a task counts as owning the task.
 */
import type { Assignor, AssignorMember, TopicPartition } from '../../group/assignor.ts'
import { cooperativeStickyAssignor } from '../../group/assignors/cooperative-sticky.ts'

const virtualTopic = (subTopology: number): string => `sub-topology-${subTopology}`

export function taskAssignor(subTopologyOfTopic: ReadonlyMap<string, number>): Assignor {
  return {
    name: 'weir-streams',
    protocol: 'cooperative',
    assign(members, partitionsPerTopic) {
      const tasksPerSub = new Map<number, number>()
      for (const [topic, partitions] of partitionsPerTopic) {
        const sub = subTopologyOfTopic.get(topic)
        if (sub !== undefined) {
          tasksPerSub.set(sub, Math.max(tasksPerSub.get(sub) ?? 0, partitions))
        }
      }
      const virtualMembers: AssignorMember[] = members.map(member => ({
        ...member,
        topics: [...new Set(member.topics.flatMap(topic => {
          const sub = subTopologyOfTopic.get(topic)
          return sub === undefined ? [] : [virtualTopic(sub)]
        }))],
        ownedPartitions: dedupe(member.ownedPartitions.flatMap(tp => {
          const sub = subTopologyOfTopic.get(tp.topic)
          return sub === undefined ? [] : [{ topic: virtualTopic(sub), partition: tp.partition }]
        })),
      }))
      const virtualCounts = new Map([...tasksPerSub].map(([sub, tasks]) =>
        [virtualTopic(sub), tasks]))
      const tasks = cooperativeStickyAssignor.assign(virtualMembers, virtualCounts)
      const result = new Map<string, TopicPartition[]>()
      for (const member of members) {
        const assigned = tasks.get(member.memberId) ?? []
        result.set(member.memberId, assigned.flatMap(task =>
          [...partitionsPerTopic].filter(([topic, partitions]) =>
            virtualTopic(subTopologyOfTopic.get(topic) ?? -1) === task.topic
            && task.partition < partitions && member.topics.includes(topic))
            .map(([topic]) => ({ topic, partition: task.partition }))))
      }
      return result
    },
  }
}

function dedupe(partitions: readonly TopicPartition[]): TopicPartition[] {
  const seen = new Map(partitions.map(tp => [`${tp.topic}\u0000${tp.partition}`, tp]))
  return [...seen.values()]
}
