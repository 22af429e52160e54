/**
 * SyncGroup, every version: a follower's request waits for the leader's (the coordinator's
 * second barrier); the leader's carries every member's assignment, opaque bytes copied out of
 * the frame. A member the leader left out gets zero-length bytes, which KafkaJS reads as "no
 * assignment" (the reference, §6).
 */
import type { KafkaHandler } from './kafka-context.ts'
import { copyBytes, optional, settle, wire } from './group-wire.ts'

interface SyncGroupWire {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  /** v3+. */
  readonly groupInstanceId?: string | null
  readonly assignments: ReadonlyArray<{ memberId: string, assignment: Buffer }>
}

export const handleSyncGroup: KafkaHandler = async (request, context) => {
  const sync = wire<SyncGroupWire>(request)
  const groupInstanceId = optional(sync.groupInstanceId)
  const { errorCode, value } = await settle(() => context.transport.syncGroup({
    groupId: sync.groupId, generationId: sync.generationId, memberId: sync.memberId,
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
    assignments: sync.assignments.map(entry => ({ memberId: entry.memberId,
      assignment: copyBytes(entry.assignment) })),
  }))
  return { throttleTimeMs: 0, errorCode, assignment: value?.assignment ?? Buffer.alloc(0) }
}
