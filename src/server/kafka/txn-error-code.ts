/**
 * Kafka's error code for a transaction failure, as the versions the listener serves (InitProducerId
 * v0–1, AddPartitionsToTxn v0–1, AddOffsetsToTxn v0–1, EndTxn v0–1, TxnOffsetCommit v0–1) carry
 * it. Those versions predate PRODUCER_FENCED (90, KIP-588: Kafka answers it only from
 * InitProducerId v4, EndTxn/AddPartitions/AddOffsets v2, TxnOffsetCommit v3 on, and
 * INVALID_PRODUCER_EPOCH (47) below), and KafkaJS 2.2.4 does not know codes above 89 at all. So:
 * - PRODUCER_FENCED → INVALID_PRODUCER_EPOCH (47), which KafkaJS and librdkafka treat as fencing;
 * - TRANSACTION_TIMED_OUT → 47: before KIP-890 Kafka's coordinator bumps the epoch when it aborts
 *   a timed-out transaction, and the producer's next request is refused for its old epoch;
 * - TRANSACTIONAL_ID_NOT_FOUND → INVALID_PRODUCER_ID_MAPPING (49), Kafka's answer for an unknown
 *   transactional id (TransactionCoordinator.handleEndTransaction).
 * Anything else keeps its own mapping (kafkaErrorCode()).
 */
import { WeirError } from '../../errors.ts'
import { kafkaErrorCode } from './kafka-context.ts'

const INVALID_PRODUCER_EPOCH = 47
const INVALID_PRODUCER_ID_MAPPING = 49

export function txnErrorCode(error: unknown): number {
  if (WeirError.is(error, 'PRODUCER_FENCED') || WeirError.is(error, 'TRANSACTION_TIMED_OUT')) {
    return INVALID_PRODUCER_EPOCH
  }
  if (WeirError.is(error, 'TRANSACTIONAL_ID_NOT_FOUND')) return INVALID_PRODUCER_ID_MAPPING
  return kafkaErrorCode(error)
}
