/**
 * Transaction requests against a Kafka cluster: InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn and EndTxn go to the transactional id's coordinator, TxnOffsetCommit to the
 * group's.
 *
 * - EndTxn is classic (< v5, Kafka's transaction version 1): the producer keeps its epoch, so
 *   the answer is the request's own id and epoch (Weir's broker moves to a new epoch instead).
 * - TxnOffsetCommit v3 (Kafka 2.5+) carries the member's generation (KIP-447), so the group
 *   coordinator refuses offsets from a member that was rebalanced out; against an older broker
 *   only the producer epoch fences (an old instance of the same transactional id).
 */
import type { TxnOffsetCommitRequest } from '../../../group/group-requests.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch, TransactionalRequest, TransactionDescription, TransactionState,
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
    : await cluster.callCoordinator<Answer>(request.transactionalId, 'transaction',
      API.initProducerId, body)
  throwIfError(answer.errorCode, 'InitProducerId')
  return { producerId: answer.producerId, producerEpoch: answer.producerEpoch }
}

/**
 * A request of the producer's transaction (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn): to its
 * transactional id's coordinator, with its id and epoch, and `fields` of that API.
 */
async function transactionCall<T>(cluster: KafkaCluster, request: TransactionalRequest,
  apiKey: number, fields: object): Promise<T> {
  const { transactionalId, producerId, producerEpoch } = request
  return cluster.callCoordinator<T>(transactionalId, 'transaction', apiKey,
    { transactionalId, producerId, producerEpoch, ...fields })
}

export async function addPartitionsToTxn(cluster: KafkaCluster,
  request: AddPartitionsToTxnRequest): Promise<void> {
  const topics = [...new Set(request.partitions.map(p => p.topic))].map(name => ({ name,
    partitions: request.partitions.filter(p => p.topic === name).map(p => p.partition) }))
  type Answer = { results: Array<{ name: string,
    results: Array<{ partitionIndex: number, errorCode: number }> }> }
  const answer = await transactionCall<Answer>(cluster, request, API.addPartitionsToTxn,
    { topics })
  throwFirstPartitionError({ topics: answer.results.map(topic => ({ name: topic.name,
    partitions: topic.results })) }, 'AddPartitionsToTxn')
}

export async function addOffsetsToTxn(cluster: KafkaCluster, request: AddOffsetsToTxnRequest):
Promise<void> {
  const answer = await transactionCall<{ errorCode: number }>(cluster, request,
    API.addOffsetsToTxn, { groupId: request.groupId })
  throwIfError(answer.errorCode, 'AddOffsetsToTxn')
}

export async function txnOffsetCommit(cluster: KafkaCluster, request: TxnOffsetCommitRequest):
Promise<void> {
  type Answer = { topics: Array<{ name: string, partitions: Array<{ partitionIndex: number,
    errorCode: number }> }> }
  const answer = await cluster.callCoordinator<Answer>(request.groupId, 'group',
    API.txnOffsetCommit, {
      transactionalId: request.transactionalId, groupId: request.groupId,
      producerId: request.producerId, producerEpoch: request.producerEpoch,
      generationId: request.generationId, memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      topics: offsetTopics(request.offsets) })
  throwFirstPartitionError(answer, 'TxnOffsetCommit')
}

export async function endTxn(cluster: KafkaCluster, request: EndTxnRequest):
Promise<ProducerIdAndEpoch> {
  const answer = await transactionCall<{ errorCode: number }>(cluster, request, API.endTxn,
    { committed: request.commit })
  throwIfError(answer.errorCode, request.commit ? 'EndTxn (commit)' : 'EndTxn (abort)')
  return { producerId: request.producerId, producerEpoch: request.producerEpoch }
}

interface DescribedTransaction {
  errorCode: number
  transactionalId: string
  transactionState: string
  transactionTimeoutMs: number
  transactionStartTimeMs: number
  producerId: number
  producerEpoch: number
  topics: Array<{ topic: string, partitions: number[] }>
}

/** DescribeTransactions (Kafka 3.0+) at each id's coordinator. */
export async function describeTransactions(cluster: KafkaCluster, ids: readonly string[]):
Promise<TransactionDescription[]> {
  return Promise.all(ids.map(async transactionalId => {
    const answer = await cluster.callCoordinator<{ transactionStates: DescribedTransaction[] }>(
      transactionalId, 'transaction', API.describeTransactions,
      { transactionalIds: [transactionalId] })
    const state = answer.transactionStates[0]!
    throwIfError(state.errorCode, `DescribeTransactions of ${transactionalId}`)
    return { transactionalId, producerId: state.producerId, producerEpoch: state.producerEpoch,
      state: state.transactionState as TransactionState, timeoutMs: state.transactionTimeoutMs,
      startedAtMs: state.transactionStartTimeMs,
      partitions: state.topics.flatMap(({ topic, partitions }) =>
        partitions.map(partition => ({ topic, partition }))) }
  }))
}

/** ListTransactions (Kafka 3.0+) of every broker, each id then described at its coordinator. */
export async function listTransactions(cluster: KafkaCluster):
Promise<TransactionDescription[]> {
  const { brokers } = await cluster.metadata([])
  const listed = await Promise.all(brokers.map(async broker => {
    const { answer } = await cluster.call<{ errorCode: number,
      transactionStates: Array<{ transactionalId: string }> }>(
      { host: broker.host, port: broker.port }, API.listTransactions,
      { stateFilters: [], producerIdFilters: [] })
    throwIfError(answer.errorCode, 'ListTransactions')
    return answer.transactionStates.map(state => state.transactionalId)
  }))
  return describeTransactions(cluster, [...new Set(listed.flat())].sort())
}
