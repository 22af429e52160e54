/**
 * InitProducerId (v0–1): with a transactional id, the coordinator's next epoch for it (fencing
 * every older instance; CONCURRENT_TRANSACTIONS, retriable, while it aborts the previous
 * instance's open transaction); with a null id, a fresh idempotent producer id at epoch 0.
 * A failure answers producer id −1 and epoch −1, as Kafka does.
 */
import type { KafkaHandler } from './kafka-context.ts'
import { txnErrorCode } from './txn-error-code.ts'

interface InitProducerIdBody {
  readonly transactionalId: string | null
  readonly transactionTimeoutMs: number
}

export const handleInitProducerId: KafkaHandler = async (request, context) => {
  const { transactionalId, transactionTimeoutMs } = request as unknown as InitProducerIdBody
  try {
    const { producerId, producerEpoch } = await context.transport.initProducerId(
      transactionalId === null ? undefined : { transactionalId, transactionTimeoutMs })
    return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch }
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: txnErrorCode(error), producerId: -1,
      producerEpoch: -1 }
  }
}
