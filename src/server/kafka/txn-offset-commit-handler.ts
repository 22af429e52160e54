/**
 * TxnOffsetCommit (v0–3): stages a group's offsets in the producer's transaction (they become
 * committed with it). v0–2 carry no generation or member, so the commit is not checked against
 * the group's membership (generation −1), as Kafka does for them; v3 (KIP-447) carries them and
 * a member of an older generation is refused (ILLEGAL_GENERATION). v2 adds a leader epoch per
 * partition, which Weir ignores (it keeps none). Errors are
 * per partition: unknown partitions get UNKNOWN_TOPIC_OR_PARTITION (3) and the others are
 * committed; a refusal of the commit (fencing, INVALID_TXN_STATE without AddOffsetsToTxn…)
 * applies to every other partition.
 */
import type { OffsetCommitEntry } from '../../group/group-requests.ts'
import type { KafkaHandler } from './kafka-context.ts'
import { txnErrorCode } from './txn-error-code.ts'
import { knownPartitions } from './txn-known-partitions.ts'

const UNKNOWN_TOPIC_OR_PARTITION = 3

interface TxnOffsetCommitBody {
  readonly transactionalId: string
  readonly groupId: string
  readonly producerId: number
  readonly producerEpoch: number
  /** v3+ (KIP-447): the committing member, checked against the group's generation. */
  readonly generationId?: number
  readonly memberId?: string
  readonly groupInstanceId?: string | null
  readonly topics: ReadonlyArray<{ name: string, partitions: ReadonlyArray<{
    partitionIndex: number, committedOffset: number, committedMetadata: string | null }> }>
}

export const handleTxnOffsetCommit: KafkaHandler = async (request, context) => {
  const body = request as unknown as TxnOffsetCommitBody
  const exists = await knownPartitions(context.transport)
  const offsets: OffsetCommitEntry[] = body.topics.flatMap(topic => topic.partitions
    .filter(entry => exists(topic.name, entry.partitionIndex))
    .map(entry => ({ topic: topic.name, partition: entry.partitionIndex,
      offset: entry.committedOffset, metadata: entry.committedMetadata ?? '' })))
  let failure = 0
  try {
    await context.transport.txnOffsetCommit({ transactionalId: body.transactionalId,
      groupId: body.groupId, producerId: body.producerId, producerEpoch: body.producerEpoch,
      generationId: body.generationId ?? -1, memberId: body.memberId ?? '',
      ...(body.groupInstanceId == null ? {} : { groupInstanceId: body.groupInstanceId }),
      offsets })
  } catch (error) {
    failure = txnErrorCode(error)
  }
  return {
    throttleTimeMs: 0,
    topics: body.topics.map(topic => ({ name: topic.name,
      partitions: topic.partitions.map(({ partitionIndex }) => ({ partitionIndex,
        errorCode: exists(topic.name, partitionIndex) ? failure
          : UNKNOWN_TOPIC_OR_PARTITION })) })),
  }
}
