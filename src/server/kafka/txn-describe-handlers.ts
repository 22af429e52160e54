/**
 * DescribeTransactions v0 and ListTransactions v0 (KIP-664, what `kafka-transactions.sh` and
 * admin clients use): the transaction coordinator's view of transactional ids. One node
 * coordinates every id, so ListTransactions lists them all.
 *
 * - DescribeTransactions answers each id on its own: an unknown one gets
 *   TRANSACTIONAL_ID_NOT_FOUND (105) with empty fields, as Kafka answers.
 * - ListTransactions filters by state name and producer id (empty filters match everything);
 *   state names that are not transaction states are listed back in unknown_state_filters.
 */
import type { TransactionDescription } from '../../txn/txn-requests.ts'
import type { KafkaHandler } from './kafka-context.ts'
import { settle } from './group-wire.ts'

const STATES = new Set(['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit',
  'CompleteAbort', 'Dead', 'PrepareEpochFence'])

function topicsOf(description: TransactionDescription) {
  const topics = new Map<string, number[]>()
  for (const { topic, partition } of description.partitions) {
    topics.set(topic, [...topics.get(topic) ?? [], partition])
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }))
}

export const handleDescribeTransactions: KafkaHandler = async (request, context) => {
  const ids = request.transactionalIds as readonly string[]
  const transactionStates = []
  for (const transactionalId of ids) {
    const { errorCode, value } = await settle(() =>
      context.transport.describeTransactions([transactionalId]))
    const found = value?.[0]
    transactionStates.push({ errorCode, transactionalId,
      transactionState: found?.state ?? '', transactionTimeoutMs: found?.timeoutMs ?? 0,
      transactionStartTimeMs: found?.startedAtMs ?? -1, producerId: found?.producerId ?? -1,
      producerEpoch: found?.producerEpoch ?? -1,
      topics: found === undefined ? [] : topicsOf(found) })
  }
  return { throttleTimeMs: 0, transactionStates }
}

export const handleListTransactions: KafkaHandler = async (request, context) => {
  const stateFilters = request.stateFilters as readonly string[]
  const producerIdFilters = request.producerIdFilters as readonly number[]
  const { errorCode, value } = await settle(() => context.transport.listTransactions())
  const matches = (description: TransactionDescription): boolean =>
    (stateFilters.length === 0 || stateFilters.includes(description.state))
    && (producerIdFilters.length === 0 || producerIdFilters.includes(description.producerId))
  return { throttleTimeMs: 0, errorCode,
    unknownStateFilters: stateFilters.filter(state => !STATES.has(state)),
    transactionStates: (value ?? []).filter(matches).map(description => ({
      transactionalId: description.transactionalId, producerId: description.producerId,
      transactionState: description.state })) }
}
