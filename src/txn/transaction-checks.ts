/**
 * The checks and errors the transaction coordinator applies to requests: is the caller the
 * transactional id's current producer, and the errors that say what to do when it is not.
 */
import { WeirError } from '../errors.ts'
import type { TopicPartition } from '../group/assignor.ts'
import { compareTopicPartitions, type TransactionMetadata } from './transaction-metadata.ts'
import type { TransactionalRequest } from './txn-requests.ts'

/** Is the caller the producer the transaction belongs to now? */
export function checkProducer(current: TransactionMetadata, request: TransactionalRequest): void {
  if (request.producerId === current.producerId
    && request.producerEpoch === current.producerEpoch) return
  if (current.timedOut && request.producerId === current.lastProducerId
    && request.producerEpoch === current.lastProducerEpoch) throw timedOut(current)
  if (request.producerId !== current.producerId && request.producerId !== current.lastProducerId) {
    throw new WeirError('INVALID_PRODUCER_ID_MAPPING', `Producer id ${request.producerId} does `
      + `not belong to transactional id ${current.transactionalId}; call initTransactions() again.`)
  }
  throw new WeirError('PRODUCER_FENCED', `Producer ${request.producerId} epoch `
    + `${request.producerEpoch} of transactional id ${current.transactionalId} is fenced: the `
    + `current epoch is ${current.producerEpoch} (a newer instance called initTransactions, or `
    + 'this request belongs to a transaction that already ended). Close this producer.')
}

export function concurrent(id: string): WeirError {
  return new WeirError('CONCURRENT_TRANSACTIONS', `The previous transaction of ${id} is still `
    + 'completing; retry shortly.')
}

export function timedOut(current: TransactionMetadata): WeirError {
  return new WeirError('TRANSACTION_TIMED_OUT', `The broker aborted the transaction of `
    + `${current.transactionalId} because it stayed open longer than ${current.timeoutMs} ms `
    + '(transactionTimeoutMs). Call abortTransaction() and begin again.')
}

export function includes(partitions: readonly TopicPartition[], wanted: TopicPartition): boolean {
  return partitions.some(each => each.topic === wanted.topic
    && each.partition === wanted.partition)
}

export function mergePartitions(current: readonly TopicPartition[], added: readonly TopicPartition[]):
TopicPartition[] {
  const merged = [...current]
  for (const partition of added) {
    if (!includes(merged, partition)) {
      merged.push({ topic: partition.topic, partition: partition.partition })
    }
  }
  return merged.sort(compareTopicPartitions)
}
