/**
 * Heartbeat, every version: REBALANCE_IN_PROGRESS (27) tells the member to rejoin,
 * ILLEGAL_GENERATION (22) and UNKNOWN_MEMBER_ID (25) to rejoin from scratch (the coordinator's
 * order of checks is Kafka's: member, generation, state).
 */
import type { KafkaHandler } from './kafka-context.ts'
import { optional, settle, wire } from './group-wire.ts'

interface HeartbeatWire {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  /** v3+. */
  readonly groupInstanceId?: string | null
}

export const handleHeartbeat: KafkaHandler = async (request, context) => {
  const beat = wire<HeartbeatWire>(request)
  const groupInstanceId = optional(beat.groupInstanceId)
  const { errorCode } = await settle(() => context.transport.heartbeat({
    groupId: beat.groupId, generationId: beat.generationId, memberId: beat.memberId,
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
  }))
  return { throttleTimeMs: 0, errorCode }
}
