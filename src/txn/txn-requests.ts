/**
 * Requests and responses of the transaction coordinator, one per Kafka API (InitProducerId,
 * AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions, ListTransactions). The
 * transactional offset commit itself (TxnOffsetCommit) is the group coordinator's, in
 * src/group/group-requests.ts.
 */
import type { TopicPartition } from '../group/assignor.ts'

export interface ProducerIdAndEpoch {
  readonly producerId: number
  readonly producerEpoch: number
}

export interface InitProducerIdRequest {
  /** Without one the producer is idempotent only: a fresh id, epoch 0. */
  readonly transactionalId?: string
  /** How long a transaction may stay open before the broker aborts it (default 60 s). */
  readonly transactionTimeoutMs?: number
}

/** Identifies the caller of every transactional request after InitProducerId. */
export interface TransactionalRequest {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
}

export interface AddPartitionsToTxnRequest extends TransactionalRequest {
  readonly partitions: readonly TopicPartition[]
}

export interface AddOffsetsToTxnRequest extends TransactionalRequest {
  readonly groupId: string
}

export interface EndTxnRequest extends TransactionalRequest {
  readonly commit: boolean
  /**
   * End without moving the producer to a new epoch: Kafka's transaction version 1, what Kafka
   * clients before KIP-890 part 2 (EndTxn < v5: KafkaJS, librdkafka 2.0) expect — they keep
   * their epoch and go on with the next transaction. Weir's own clients leave it unset and get
   * the new epoch back (transaction-metadata.ts, "Epochs").
   */
  readonly keepEpoch?: boolean
}

export type TransactionState =
  | 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort'

export interface TransactionDescription {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
  readonly state: TransactionState
  readonly timeoutMs: number
  /** When the current (or last) transaction started, ms since the epoch; -1 if none did. */
  readonly startedAtMs: number
  readonly partitions: readonly TopicPartition[]
}
