/**
 * Metadata: this node as the only broker and controller, and the requested topics (all user
 * topics when the list is empty in v0 or null from v1) with this node leading every partition.
 * Internal topics (`__consumer_offsets`, `__transaction_state`) are not listed: Weir keeps them
 * out of reach of produce and fetch. A missing topic is answered UNKNOWN_TOPIC_OR_PARTITION (3);
 * the listener does not create topics from Metadata (`allowAutoTopicCreation` is ignored), a
 * producer's first send does when the broker runs with `autoCreateTopics`.
 */
import type { TopicMetadata } from '../../broker/topic-registry.ts'
import { CLUSTER_ID, type KafkaHandler, NODE_ID } from './kafka-context.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3

function topicEntry(topic: TopicMetadata) {
  return {
    errorCode: 0, name: topic.name, isInternal: false,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => ({
      errorCode: 0, partitionIndex, leaderId: NODE_ID, replicaNodes: [NODE_ID],
      isrNodes: [NODE_ID], offlineReplicas: [],
    })),
  }
}

export const handleMetadata: KafkaHandler = async (request, context, header) => {
  const requested = request.topics as Array<{ name: string }> | null
  const existing = await context.transport.listTopics()
  const byName = new Map(existing.map(topic => [topic.name, topic]))
  const all = requested === null || (header.apiVersion === 0 && requested.length === 0)
  const topics = all ? existing.map(topicEntry) : requested.map(({ name }) => {
    const topic = byName.get(name)
    return topic === undefined
      ? { errorCode: UNKNOWN_TOPIC_OR_PARTITION, name, isInternal: false, partitions: [] }
      : topicEntry(topic)
  })
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: context.advertised.host, port: context.advertised.port,
      rack: null }],
    clusterId: CLUSTER_ID, controllerId: NODE_ID, topics,
  }
}
