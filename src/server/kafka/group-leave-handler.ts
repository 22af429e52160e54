/**
 * LeaveGroup: v0–2 name one member; v3+ (KIP-345) name a batch, by member id and/or static
 * instance id, each answered with its own error code.
 *
 * The coordinator removes a batch all or nothing (an unknown member fails the whole call), so
 * v3 members leave one call each: a member that can leave does, and an unknown one gets its own
 * UNKNOWN_MEMBER_ID, as Kafka answers. A group-level failure (INVALID_GROUP_ID) is the
 * response's top-level error; an empty batch is INVALID_REQUEST (42) from the coordinator.
 */
import type { LeavingMember } from '../../group/group-requests.ts'
import { assert } from '../../util/assert.ts'
import type { KafkaContext, KafkaHandler } from './kafka-context.ts'
import { NO_ERROR, optional, settle, wire } from './group-wire.ts'

const INVALID_GROUP_ID = 24

interface LeaveGroupWire {
  readonly groupId: string
  /** v0–2. */
  readonly memberId?: string
  /** v3+. */
  readonly members?: ReadonlyArray<{ memberId: string, groupInstanceId: string | null }>
}

async function leave(context: KafkaContext, groupId: string,
  members: readonly LeavingMember[]): Promise<number> {
  const { errorCode } = await settle(() => context.transport.leaveGroup({ groupId, members }))
  return errorCode
}

function leavingMember(memberId: string, groupInstanceId: string | null): LeavingMember {
  const instanceId = optional(groupInstanceId)
  // An empty member id with an instance id names the member by its instance id alone.
  return { ...(memberId === '' && instanceId !== undefined ? {} : { memberId }),
    ...(instanceId === undefined ? {} : { groupInstanceId: instanceId }) }
}

export const handleLeaveGroup: KafkaHandler = async (request, context) => {
  const { groupId, memberId, members } = wire<LeaveGroupWire>(request)
  if (members === undefined) {
    const errorCode = await leave(context, groupId, [{ memberId: memberId ?? '' }])
    return { throttleTimeMs: 0, errorCode }
  }
  if (members.length === 0) {
    return { throttleTimeMs: 0, errorCode: await leave(context, groupId, []), members: [] }
  }
  const answered: Array<{ memberId: string, groupInstanceId: string | null,
    errorCode: number }> = []
  for (const member of members) {
    const errorCode = await leave(context, groupId,
      [leavingMember(member.memberId, member.groupInstanceId)])
    answered.push({ ...member, errorCode })
  }
  assert(answered.length === members.length, 'every leaving member is answered')
  const groupError = answered.some(member => member.errorCode === INVALID_GROUP_ID)
  return { throttleTimeMs: 0, errorCode: groupError ? INVALID_GROUP_ID : NO_ERROR,
    members: answered }
}
