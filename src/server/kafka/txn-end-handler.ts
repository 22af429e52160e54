/**
 * EndTxn (v0–1): commits or aborts the producer's transaction. Weir answers once the decision
 * is durable; the markers follow, and the id's next transactional request meanwhile gets the
 * retriable CONCURRENT_TRANSACTIONS (51), which KafkaJS and librdkafka retry. These versions
 * cannot tell the client a new epoch, so the end keeps it (`keepEpoch`, Kafka's transaction
 * version 1): the producer goes on with the next transaction on the same epoch.
 */
import type { KafkaHandler } from './kafka-context.ts'
import { txnErrorCode } from './txn-error-code.ts'

interface EndTxnBody {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
  readonly committed: boolean
}

export const handleEndTxn: KafkaHandler = async (request, context) => {
  const { transactionalId, producerId, producerEpoch, committed } =
    request as unknown as EndTxnBody
  try {
    await context.transport.endTxn({ transactionalId, producerId, producerEpoch,
      commit: committed, keepEpoch: true })
    return { throttleTimeMs: 0, errorCode: 0 }
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: txnErrorCode(error) }
  }
}
