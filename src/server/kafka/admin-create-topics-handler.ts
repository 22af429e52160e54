/**
 * CreateTopics (v0–3): creates each topic on its own and answers one error per topic
 * (TOPIC_ALREADY_EXISTS 36, INVALID_TOPIC_EXCEPTION 17, INVALID_PARTITIONS 37,
 * INVALID_REPLICATION_FACTOR 38, INVALID_CONFIG 40…, with a message from v1). A name given twice
 * in one request is refused for each entry (INVALID_REQUEST, 42), as Kafka does. With
 * `validate_only` (v1+) nothing is created: the entry is checked as far as Weir can without
 * creating (name, existence, counts, configs and their ranges); the broker's
 * partitionsPerTopicMax is checked only on creation. `timeout_ms` is ignored: a topic exists,
 * durably, when its entry is answered.
 */
import type { CreateTopicRequest } from '../../broker/broker.ts'
import { validateTopicName } from '../../broker/topic-registry.ts'
import { WeirError } from '../../errors.ts'
import { resolveLogConfig } from '../../log/log-config.ts'
import {
  type CreatableTopic, createTopicRequest, TopicRefusal,
} from './admin-create-topic-request.ts'
import { type KafkaContext, type KafkaHandler, kafkaErrorCode } from './kafka-context.ts'

const INVALID_REQUEST = 42

interface CreateTopicsBody {
  readonly topics: readonly CreatableTopic[]
  readonly validateOnly?: boolean
}

interface TopicResult {
  readonly name: string
  readonly errorCode: number
  readonly errorMessage: string | null
}

function failed(name: string, error: unknown): TopicResult {
  const errorCode = error instanceof TopicRefusal ? error.errorCode : kafkaErrorCode(error)
  return { name, errorCode, errorMessage: error instanceof Error ? error.message : null }
}

async function validate(request: CreateTopicRequest, context: KafkaContext): Promise<void> {
  validateTopicName(request.topic, false)
  const existing = await context.transport.listTopics({ includeInternal: true })
  if (existing.some(topic => topic.name === request.topic)) {
    throw new WeirError('TOPIC_ALREADY_EXISTS', `Topic '${request.topic}' already exists.`)
  }
  resolveLogConfig(request.config)
}

async function createOne(topic: CreatableTopic, validateOnly: boolean, context: KafkaContext):
Promise<TopicResult> {
  try {
    const request = createTopicRequest(topic)
    if (validateOnly) await validate(request, context)
    else await context.transport.createTopics([request])
    return { name: topic.name, errorCode: 0, errorMessage: null }
  } catch (error) {
    return failed(topic.name, error)
  }
}

export const handleCreateTopics: KafkaHandler = async (request, context) => {
  const body = request as unknown as CreateTopicsBody
  const counts = new Map<string, number>()
  for (const { name } of body.topics) counts.set(name, (counts.get(name) ?? 0) + 1)
  const topics: TopicResult[] = []
  // One at a time: the broker serializes admin changes anyway, and results keep request order.
  for (const topic of body.topics) {
    topics.push(counts.get(topic.name)! > 1
      ? { name: topic.name, errorCode: INVALID_REQUEST,
        errorMessage: `Topic '${topic.name}' appears more than once in the request.` }
      : await createOne(topic, body.validateOnly === true, context))
  }
  return { throttleTimeMs: 0, topics }
}
