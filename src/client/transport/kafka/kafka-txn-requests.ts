/**
 * Transaction requests against a Kafka cluster: InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn go to the transactional id's coordinator, TxnOffsetCommit to the
 * group's.
 *
 * - EndTxn is classic (< v5, Kafka's transaction version 1): the producer keeps its epoch, so
 *   the answer is the request's own id and epoch (Weir's broker moves to a new epoch instead).
 * - TxnOffsetCommit is classic (< v3): it carries no generation or member id, so a Kafka broker
 *   cannot fence a commit by a member that was rebalanced out (KIP-447); the producer epoch
 *   still fences an old instance of the same transactional id. See the README.
 */
import type { TxnOffsetCommitRequest } from '../../../group/group-requests.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch,
} from '../../../txn/txn-requests.ts'
import { API, type KafkaCluster } from './kafka-cluster.ts'
import { throwIfError } from './kafka-errors.ts'
import { offsetTopics, throwFirstPartitionError } from './kafka-group-requests.ts'

/** Kafka's default transaction.timeout.ms, for idempotent producers (the field is required). */
const TRANSACTION_TIMEOUT_DEFAULT_MS = 60_000

export async function initProducerId(cluster: KafkaCluster, request?: InitProducerIdRequest):
Promise<ProducerIdAndEpoch> {
  const body = { transactionalId: request?.transactionalId ?? null,
    transactionTimeoutMs: request?.transactionTimeoutMs ?? TRANSACTION_TIMEOUT_DEFAULT_MS }
  type Answer = { errorCode: number, producerId: number, producerEpoch: number }
  const answer = request?.transactionalId === undefined
    ? (await cluster.call<Answer>(cluster.anyBroker(), API.initProducerId, body)).answer
    : await cluster.withCoordinator(request.transactionalId, 'transaction', async address =>
      (await cluster.call<Answer>(address, API.initProducerId, body)).answer)
  throwIfError(answer.errorCode, 'InitProducerId')
  return { producerId: answer.producerId, producerEpoch: answer.producerEpoch }
}

export async function addPartitionsToTxn(cluster: KafkaCluster,
  request: AddPartitionsToTxnRequest): Promise<void> {
  const topics = [...new Set(request.partitions.map(p => p.topic))].map(name => ({ name,
    partitions: request.partitions.filter(p => p.topic === name).map(p => p.partition) }))
  const answer = await cluster.withCoordinator(request.transactionalId, 'transaction',
    async address => (await cluster.call<{ results: Array<{ name: string,
      results: Array<{ partitionIndex: number, errorCode: number }> }> }>(address,
      API.addPartitionsToTxn, { transactionalId: request.transactionalId,
        producerId: request.producerId, producerEpoch: request.producerEpoch, topics })).answer)
  throwFirstPartitionError({ topics: answer.results.map(topic => ({ name: topic.name,
    partitions: topic.results })) }, 'AddPartitionsToTxn')
}

export async function addOffsetsToTxn(cluster: KafkaCluster, request: AddOffsetsToTxnRequest):
Promise<void> {
  const answer = await cluster.withCoordinator(request.transactionalId, 'transaction',
    async address => (await cluster.call<{ errorCode: number }>(address, API.addOffsetsToTxn, {
      transactionalId: request.transactionalId, producerId: request.producerId,
      producerEpoch: request.producerEpoch, groupId: request.groupId })).answer)
  throwIfError(answer.errorCode, 'AddOffsetsToTxn')
}

export async function txnOffsetCommit(cluster: KafkaCluster, request: TxnOffsetCommitRequest):
Promise<void> {
  type Answer = { topics: Array<{ name: string, partitions: Array<{ partitionIndex: number,
    errorCode: number }> }> }
  const answer = await cluster.withCoordinator(request.groupId, 'group', async address =>
    (await cluster.call<Answer>(address, API.txnOffsetCommit, {
      transactionalId: request.transactionalId, groupId: request.groupId,
      producerId: request.producerId, producerEpoch: request.producerEpoch,
      topics: offsetTopics(request.offsets) })).answer)
  throwFirstPartitionError(answer, 'TxnOffsetCommit')
}

export async function endTxn(cluster: KafkaCluster, request: EndTxnRequest):
Promise<ProducerIdAndEpoch> {
  const answer = await cluster.withCoordinator(request.transactionalId, 'transaction',
    async address => (await cluster.call<{ errorCode: number }>(address, API.endTxn, {
      transactionalId: request.transactionalId, producerId: request.producerId,
      producerEpoch: request.producerEpoch, committed: request.commit })).answer)
  throwIfError(answer.errorCode, request.commit ? 'EndTxn (commit)' : 'EndTxn (abort)')
  return { producerId: request.producerId, producerEpoch: request.producerEpoch }
}
