/**
 * AddPartitionsToTxn (v0–1): enrolls partitions in the producer's transaction. Errors are per
 * partition, as in Kafka's TransactionCoordinator: unknown partitions get
 * UNKNOWN_TOPIC_OR_PARTITION (3) and the rest OPERATION_NOT_ATTEMPTED (55), since none is added
 * then; a coordinator refusal (fencing, CONCURRENT_TRANSACTIONS…) applies to every partition.
 */
import type { TopicPartition } from '../../group/assignor.ts'
import type { KafkaHandler } from './kafka-context.ts'
import { txnErrorCode } from './txn-error-code.ts'
import { knownPartitions } from './txn-known-partitions.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3
const OPERATION_NOT_ATTEMPTED = 55

interface AddPartitionsBody {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
  readonly topics: ReadonlyArray<{ name: string, partitions: number[] }>
}

export const handleAddPartitionsToTxn: KafkaHandler = async (request, context) => {
  const body = request as unknown as AddPartitionsBody
  const exists = await knownPartitions(context.transport)
  const unknown = body.topics.some(topic => topic.partitions.some(p => !exists(topic.name, p)))
  let failure = 0
  if (!unknown) {
    const partitions: TopicPartition[] = body.topics.flatMap(topic =>
      topic.partitions.map(partition => ({ topic: topic.name, partition })))
    try {
      await context.transport.addPartitionsToTxn({ transactionalId: body.transactionalId,
        producerId: body.producerId, producerEpoch: body.producerEpoch, partitions })
    } catch (error) {
      failure = txnErrorCode(error)
    }
  }
  const codeOf = (topic: string, partition: number): number => {
    if (!unknown) return failure
    return exists(topic, partition) ? OPERATION_NOT_ATTEMPTED : UNKNOWN_TOPIC_OR_PARTITION
  }
  return {
    throttleTimeMs: 0,
    results: body.topics.map(topic => ({ name: topic.name,
      results: topic.partitions.map(partitionIndex => ({ partitionIndex,
        errorCode: codeOf(topic.name, partitionIndex) })) })),
  }
}
