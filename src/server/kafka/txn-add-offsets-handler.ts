/** AddOffsetsToTxn (v0–1): enrolls a group's offsets in the producer's transaction. */
import type { KafkaHandler } from './kafka-context.ts'
import { txnErrorCode } from './txn-error-code.ts'

interface AddOffsetsBody {
  readonly transactionalId: string
  readonly producerId: number
  readonly producerEpoch: number
  readonly groupId: string
}

export const handleAddOffsetsToTxn: KafkaHandler = async (request, context) => {
  const { transactionalId, producerId, producerEpoch, groupId } =
    request as unknown as AddOffsetsBody
  try {
    await context.transport.addOffsetsToTxn({ transactionalId, producerId, producerEpoch,
      groupId })
    return { throttleTimeMs: 0, errorCode: 0 }
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: txnErrorCode(error) }
  }
}
