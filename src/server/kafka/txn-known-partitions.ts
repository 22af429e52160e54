/**
 * Which of a request's partitions exist, for the transactional APIs that answer per partition
 * (AddPartitionsToTxn, TxnOffsetCommit): Kafka refuses an unknown one with
 * UNKNOWN_TOPIC_OR_PARTITION (3) next to the others instead of failing the whole request.
 * Internal topics count as unknown: the listener keeps them out of reach, as Metadata does.
 */
import type { Transport } from '../../client/transport/transport.ts'

export type PartitionExists = (topic: string, partition: number) => boolean

export async function knownPartitions(transport: Transport): Promise<PartitionExists> {
  const counts = new Map((await transport.listTopics()).map(t => [t.name, t.partitions]))
  return (topic, partition) => partition >= 0 && partition < (counts.get(topic) ?? 0)
}
