/**
 * Topic and group administration against a Kafka cluster.
 *
 * - Topics are created and deleted on the controller. CreateTopics v0–3 need an explicit
 *   replication factor: `replicationFactor` of Weir.kafka (default 1).
 * - Metadata gives names, partition counts and the internal flag, not configs or topic ids:
 *   TopicMetadata reads `config: {}` and `topicId: ''` over Kafka (DescribeConfigs is not used).
 *   Partition states come from ListOffsets (earliest, latest); the log end offset a client can
 *   see is the high watermark.
 * - Resetting a group's offsets is an OffsetCommit outside any generation (generation −1, no
 *   member), after the checks Weir's broker makes (no members, offsets within the log).
 */
import type {
  CreateTopicRequest, TopicDescription,
} from '../../../broker/broker.ts'
import type { TopicMetadata } from '../../../broker/topic-registry.ts'
import type { ResetOffsetsRequest } from '../../../group/group-requests.ts'
import { topicConfigToKafka } from '../../../protocol/kafka/topic-configs.ts'
import { WeirError } from '../../../errors.ts'
import { API, type KafkaCluster } from './kafka-cluster.ts'
import { kafkaError, throwIfError } from './kafka-errors.ts'
import { commitOffsets, describeGroup } from './kafka-group-requests.ts'
import { listOffsets } from './kafka-data-requests.ts'

const ADMIN_TIMEOUT_MS = 30_000
const UNKNOWN_TOPIC_OR_PARTITION = 3

export interface TopicDefaults {
  readonly replicationFactor: number
  readonly partitions: number
}

export async function createTopics(cluster: KafkaCluster, requests: readonly CreateTopicRequest[],
  defaults: TopicDefaults): Promise<TopicMetadata[]> {
  const topics = requests.map(request => ({ name: request.topic,
    numPartitions: request.partitions ?? defaults.partitions,
    replicationFactor: defaults.replicationFactor, assignments: [],
    configs: topicConfigToKafka(request.config ?? {}) }))
  const { answer } = await cluster.call<{ topics: Array<{ name: string, errorCode: number,
    errorMessage?: string | null }> }>(await cluster.controller(), API.createTopics,
  { topics, timeoutMs: ADMIN_TIMEOUT_MS, validateOnly: false },
  { timeoutMs: 2 * ADMIN_TIMEOUT_MS })
  for (const result of answer.topics) {
    const error = kafkaError(result.errorCode, `CreateTopics of ${result.name}`)
    if (error !== undefined) {
      throw new WeirError(error.code, `${error.message}${result.errorMessage == null ? ''
        : ` ${result.errorMessage}`}`)
    }
  }
  return requests.map((request, i) => ({ name: request.topic, topicId: '',
    partitions: topics[i]!.numPartitions, config: request.config ?? {}, internal: false }))
}

export async function deleteTopics(cluster: KafkaCluster, names: readonly string[]):
Promise<void> {
  const { answer } = await cluster.call<{ responses: Array<{ name: string,
    errorCode: number }> }>(await cluster.controller(), API.deleteTopics,
  { topicNames: names, timeoutMs: ADMIN_TIMEOUT_MS }, { timeoutMs: 2 * ADMIN_TIMEOUT_MS })
  for (const result of answer.responses) {
    if (result.errorCode === UNKNOWN_TOPIC_OR_PARTITION) {
      throw new WeirError('UNKNOWN_TOPIC', `Topic ${result.name} does not exist.`)
    }
    throwIfError(result.errorCode, `DeleteTopics of ${result.name}`)
  }
  for (const name of names) cluster.forget(name)
}

export async function listTopics(cluster: KafkaCluster,
  options: { includeInternal?: boolean } = {}): Promise<TopicMetadata[]> {
  const answer = await cluster.metadata(null)
  return answer.topics
    .filter(topic => topic.errorCode === 0 && (options.includeInternal === true
      || topic.isInternal !== true))
    .map(topic => ({ name: topic.name, topicId: '', partitions: topic.partitions.length,
      config: {}, internal: topic.isInternal === true }))
    .sort((a, b) => a.name.localeCompare(b.name))
}

export async function describeTopics(cluster: KafkaCluster, names: readonly string[]):
Promise<TopicDescription[]> {
  const answer = await cluster.metadata(names)
  const described: TopicDescription[] = []
  for (const name of names) {
    const topic = answer.topics.find(candidate => candidate.name === name)
    if (topic === undefined || topic.errorCode === UNKNOWN_TOPIC_OR_PARTITION) {
      throw new WeirError('UNKNOWN_TOPIC', `Topic ${name} does not exist in the Kafka `
        + 'cluster; create it first (admin.createTopics).')
    }
    throwIfError(topic.errorCode, `Metadata of ${name}`)
    const partitions = topic.partitions.map(p => p.partitionIndex).sort((a, b) => a - b)
    const ask = (spec: 'earliest' | 'latest') => listOffsets(cluster,
      partitions.map(partition => ({ topic: name, partition, spec })))
    const [starts, ends] = await Promise.all([ask('earliest'), ask('latest')])
    described.push({ name, topicId: '', partitions: partitions.length, config: {},
      internal: topic.isInternal === true,
      partitionStates: partitions.map((partition, i) => ({ partition,
        logStartOffset: starts[i]!.offset, logEndOffset: ends[i]!.offset,
        highWatermark: ends[i]!.offset })) })
  }
  return described
}

/**
 * Checked first as Weir's broker checks (and kafka-consumer-groups.sh does): the group has no
 * members, and each offset lies between the partition's log start and end.
 * @throws NON_EMPTY_GROUP, OFFSET_OUT_OF_RANGE
 */
export async function resetOffsets(cluster: KafkaCluster, request: ResetOffsetsRequest):
Promise<void> {
  const { state } = await describeGroup(cluster, request.groupId)
  if (state !== 'Empty' && state !== 'Dead') {
    throw new WeirError('NON_EMPTY_GROUP', `Group ${request.groupId} is ${state} with members; `
      + 'stop its consumers before resetting its offsets.')
  }
  const bounds = (spec: 'earliest' | 'latest') => listOffsets(cluster,
    request.offsets.map(({ topic, partition }) => ({ topic, partition, spec })))
  const [starts, ends] = await Promise.all([bounds('earliest'), bounds('latest')])
  for (const [i, { topic, partition, offset }] of request.offsets.entries()) {
    if (offset < starts[i]!.offset || offset > ends[i]!.offset) {
      throw new WeirError('OFFSET_OUT_OF_RANGE', `Offset ${offset} is outside ${topic}/`
        + `${partition}'s log (${starts[i]!.offset}..${ends[i]!.offset}).`)
    }
  }
  await commitOffsets(cluster, { groupId: request.groupId, generationId: -1, memberId: '',
    offsets: request.offsets })
}

export async function deleteGroups(cluster: KafkaCluster, groupIds: readonly string[]):
Promise<void> {
  const unique = [...new Set(groupIds)]
  const byCoordinator = await Promise.all(unique.map(groupId =>
    cluster.callCoordinator<{ results: Array<{ groupId: string, errorCode: number }> }>(
      groupId, 'group', API.deleteGroups, { groupsNames: [groupId] })))
  for (const answer of byCoordinator) {
    for (const result of answer.results) {
      throwIfError(result.errorCode, `DeleteGroups of ${result.groupId}`)
    }
  }
}

/** A call that has no classic Kafka API: refused with what to use instead. */
export function notOverKafka(call: string, instead: string): Promise<never> {
  return Promise.reject(new WeirError('UNSUPPORTED_VERSION', `${call} is not available over `
    + `the Kafka transport (Kafka serves it only in flexible protocol versions, or not at all `
    + `to clients); ${instead}.`))
}
