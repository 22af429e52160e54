/**
 * One CreateTopics entry → Weir's CreateTopicRequest, with the checks Kafka's controller makes
 * before it creates anything (ControllerConfigurationValidator, ReplicationControlManager), in
 * Kafka's words for a one-node cluster:
 * - a partition count of −1 takes the broker's default; 0 or below −1 is INVALID_PARTITIONS (37);
 * - a replication factor other than 1 or −1 (the default) is INVALID_REPLICATION_FACTOR (38):
 *   Weir is one node, so no other factor can be honoured;
 * - explicit assignments fix the partition count; they must name partitions 0..n−1, each on this
 *   node only (else INVALID_REPLICA_ASSIGNMENT, 39), and then the count and factor must be −1
 *   (else INVALID_REQUEST, 42);
 * - configs go through src/protocol/kafka/topic-configs.ts (INVALID_CONFIG, 40).
 */
import type { CreateTopicRequest } from '../../broker/broker.ts'
import { NODE_ID } from './kafka-context.ts'
import { topicConfigFromKafka } from '../../protocol/kafka/topic-configs.ts'
import { WeirError } from '../../errors.ts'

export interface CreatableTopic {
  readonly name: string
  readonly numPartitions: number
  readonly replicationFactor: number
  readonly assignments: ReadonlyArray<{ partitionIndex: number, brokerIds: number[] }>
  readonly configs: ReadonlyArray<{ name: string, value: string | null }>
}

/** A refusal Kafka has a code for that Weir's errors.ts does not name. */
export class TopicRefusal extends Error {
  constructor(readonly errorCode: number, message: string) {
    super(message)
  }
}

const INVALID_REPLICATION_FACTOR = 38
const INVALID_REPLICA_ASSIGNMENT = 39

function partitionCount(topic: CreatableTopic): number | undefined {
  if (topic.assignments.length === 0) {
    if (topic.numPartitions === -1) return undefined
    if (topic.numPartitions < 1) {
      throw new WeirError('INVALID_PARTITIONS', `Topic '${topic.name}' cannot have `
        + `${topic.numPartitions} partitions: ask for at least 1, or -1 for the default.`)
    }
    return topic.numPartitions
  }
  if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
    throw new WeirError('INVALID_REQUEST', `Topic '${topic.name}' gives both assignments and a `
      + 'partition count or replication factor; give one or the other.')
  }
  topic.assignments.forEach((assignment, index) => {
    if (assignment.partitionIndex !== index || assignment.brokerIds.length !== 1
      || assignment.brokerIds[0] !== NODE_ID) {
      throw new TopicRefusal(INVALID_REPLICA_ASSIGNMENT, `Topic '${topic.name}' must assign `
        + `partitions 0..${topic.assignments.length - 1} in order, each to node ${NODE_ID} `
        + 'only: Weir is a single node.')
    }
  })
  return topic.assignments.length
}

/** @throws WeirError or TopicRefusal, whose Kafka code is the topic's error code */
export function createTopicRequest(topic: CreatableTopic): CreateTopicRequest {
  const partitions = partitionCount(topic)
  if (topic.replicationFactor !== -1 && topic.replicationFactor !== 1) {
    throw new TopicRefusal(INVALID_REPLICATION_FACTOR, `Topic '${topic.name}' asks for `
      + `replication factor ${topic.replicationFactor}; Weir is a single node: use 1 or -1.`)
  }
  const config = topicConfigFromKafka(topic.configs)
  return { topic: topic.name, ...(partitions === undefined ? {} : { partitions }), config }
}
