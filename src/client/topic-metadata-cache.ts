/**
 * Partition counts of topics as the client last learned them (Kafka's client Metadata). A topic
 * is described once and then served from the cache; `invalidate` forgets it after an
 * UNKNOWN_TOPIC_OR_PARTITION so partitions added since are seen.
 */
import type { TopicDescription } from '../broker/broker.ts'
import type { Transport } from './transport/transport.ts'

export class TopicMetadataCache {
  private readonly counts = new Map<string, Promise<number>>()

  constructor(private readonly transport: Transport) {}

  /** @throws UNKNOWN_TOPIC */
  partitionCount(topic: string): Promise<number> {
    let count = this.counts.get(topic)
    if (count === undefined) {
      count = this.transport.describeTopics([topic]).then(([description]) =>
        description!.partitions)
      count.catch(() => this.counts.delete(topic))
      this.counts.set(topic, count)
    }
    return count
  }

  invalidate(topic: string): void {
    this.counts.delete(topic)
  }
}

/**
 * Descriptions of those of `topics` that exist, skipping the others (a subscription or a group's
 * offsets may name a topic that was deleted or is not created yet).
 */
export async function describeExistingTopics(transport: Transport, topics: readonly string[]):
Promise<TopicDescription[]> {
  const existing = new Set((await transport.listTopics()).map(topic => topic.name))
  return transport.describeTopics(topics.filter(topic => existing.has(topic)))
}
