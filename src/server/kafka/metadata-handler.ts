/**
 * Metadata: this node as the only broker and controller, and the requested topics (all user
 * topics when the list is empty in v0 or null from v1) with this node leading every partition.
 * Internal topics (`__consumer_offsets`, `__transaction_state`) are not listed: Weir keeps them
 * out of reach of produce and fetch. A missing topic is answered UNKNOWN_TOPIC_OR_PARTITION (3),
 * unless the listener runs with `autoCreateTopics` (the broker's option; `weir serve
 * --auto-create-topics`) and the request allows creation (v0–3 always do; from v4,
 * `allowAutoTopicCreation`): then it is created with the broker's default partitions and config
 * and listed at once, as Kafka does with auto.create.topics.enable. A name Weir refuses is
 * answered INVALID_TOPIC_EXCEPTION (17).
 */
import type { TopicMetadata } from '../../broker/topic-registry.ts'
import { WeirError } from '../../errors.ts'
import {
  CLUSTER_ID, type KafkaContext, kafkaErrorCode, type KafkaHandler, NODE_ID,
} from './kafka-context.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3
const INVALID_TOPIC_EXCEPTION = 17

function topicEntry(topic: TopicMetadata) {
  return {
    errorCode: 0, name: topic.name, isInternal: false,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => ({
      errorCode: 0, partitionIndex, leaderId: NODE_ID, replicaNodes: [NODE_ID],
      isrNodes: [NODE_ID], offlineReplicas: [],
    })),
  }
}

/** Creates `name`; its metadata, or the Kafka error code that refused it. */
async function autoCreate(context: KafkaContext, name: string): Promise<TopicMetadata | number> {
  try {
    const [created] = await context.transport.createTopics([{ topic: name }])
    return created!
  } catch (error) {
    // Another client's Metadata or Produce created it first (or it is internal: not listed).
    if (WeirError.is(error, 'TOPIC_ALREADY_EXISTS')) {
      const existing = (await context.transport.listTopics()).find(topic => topic.name === name)
      return existing ?? UNKNOWN_TOPIC_OR_PARTITION
    }
    const code = kafkaErrorCode(error)
    return code === -1 ? INVALID_TOPIC_EXCEPTION : code
  }
}

export const handleMetadata: KafkaHandler = async (request, context, header) => {
  const requested = request.topics as Array<{ name: string }> | null
  const existing = await context.transport.listTopics()
  const byName = new Map(existing.map(topic => [topic.name, topic]))
  const all = requested === null || (header.apiVersion === 0 && requested.length === 0)
  const mayCreate = context.autoCreateTopics && request.allowAutoTopicCreation !== false
  const missing = (name: string, errorCode: number) => ({ errorCode, name, isInternal: false,
    partitions: [] })
  const topics = all ? existing.map(topicEntry) : await Promise.all(requested.map(
    async ({ name }) => {
      const topic = byName.get(name)
      if (topic !== undefined) return topicEntry(topic)
      if (!mayCreate) return missing(name, UNKNOWN_TOPIC_OR_PARTITION)
      const created = await autoCreate(context, name)
      return typeof created === 'number' ? missing(name, created) : topicEntry(created)
    }))
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: context.advertised.host, port: context.advertised.port,
      rack: null }],
    clusterId: CLUSTER_ID, controllerId: NODE_ID, topics,
  }
}
