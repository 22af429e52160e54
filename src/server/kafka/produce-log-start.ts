/**
 * Fills the log start offset into successful produce responses (Produce v5+, KIP-107): one
 * describeTopics call for the topics appended to. librdkafka compares it with its last acked
 * offset to tell lost producer state from a sequence gap (KIP-360); when the look-up fails
 * (the topic was deleted meanwhile) the field stays −1, as for a failed partition.
 */
import { WeirError } from '../../errors.ts'
import type { KafkaContext } from './kafka-context.ts'

interface Filled {
  readonly name: string
  readonly partitionResponses: ReadonlyArray<{ index: number, errorCode: number,
    logStartOffset: number }>
}

export async function logStartOffsets(context: KafkaContext, topics: readonly Filled[]):
Promise<void> {
  const names = [...new Set(topics.filter(topic =>
    topic.partitionResponses.some(partition => partition.errorCode === 0))
    .map(topic => topic.name))]
  if (names.length === 0) return
  let described
  try {
    described = await context.transport.describeTopics(names)
  } catch (error) {
    if (!WeirError.is(error)) throw error
    return
  }
  const byName = new Map(described.map(topic => [topic.name, topic.partitionStates]))
  for (const topic of topics) {
    const states = byName.get(topic.name)
    for (const partition of topic.partitionResponses) {
      const state = states?.[partition.index]
      if (partition.errorCode === 0 && state !== undefined) {
        partition.logStartOffset = state.logStartOffset
      }
    }
  }
}
