/**
 * Which of the requested topic partitions exist, from one listTopics call. Fetch and
 * ListOffsets answer an unknown one per partition (UNKNOWN_TOPIC_OR_PARTITION), while the
 * transport fails a whole request for it. Internal topics count as unknown, as in Metadata:
 * they are the coordinators'. Kafka's Fetch never creates topics, so neither does this.
 */
import type { KafkaContext } from './kafka-context.ts'

export async function knownPartitions(context: KafkaContext, names: readonly string[]):
Promise<(topic: string, partition: number) => boolean> {
  if (names.length === 0) return () => false
  const counts = new Map((await context.transport.listTopics())
    .map(topic => [topic.name, topic.partitions]))
  return (topic, partition) => Number.isInteger(partition) && partition >= 0
    && partition < (counts.get(topic) ?? 0)
}
