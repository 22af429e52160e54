/**
 * DeleteTopics (v0–1): deletes each named topic on its own, one error per topic. A topic that
 * does not exist, or an internal one (hidden from Kafka clients, as in Metadata), gets
 * UNKNOWN_TOPIC_OR_PARTITION (3); a name given twice, INVALID_REQUEST (42). `timeout_ms` is
 * ignored: a topic is gone, durably, when its entry is answered.
 */
import { type KafkaHandler, kafkaErrorCode } from './kafka-context.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3
const INVALID_REQUEST = 42

export const handleDeleteTopics: KafkaHandler = async (request, context) => {
  const names = request.topicNames as readonly string[]
  const existing = new Set((await context.transport.listTopics()).map(topic => topic.name))
  const responses: Array<{ name: string, errorCode: number }> = []
  for (const name of names) {
    let errorCode = 0
    if (names.indexOf(name) !== names.lastIndexOf(name)) errorCode = INVALID_REQUEST
    else if (!existing.has(name)) errorCode = UNKNOWN_TOPIC_OR_PARTITION
    else {
      try {
        await context.transport.deleteTopics([name])
      } catch (error) {
        errorCode = kafkaErrorCode(error)
      }
    }
    responses.push({ name, errorCode })
  }
  return { throttleTimeMs: 0, responses }
}
