/**
 * JoinGroup, every version, onto the coordinator's joinGroup. The request waits for the
 * rebalance, so it holds its connection until then (Kafka does the same: one request at a time
 * per connection; clients send JoinGroup on their coordinator connection and wait).
 *
 * MEMBER_ID_REQUIRED (79, KIP-394): from v4 Kafka answers a first join (empty member id) with
 * that error and a generated id, and the client rejoins with it, so a client that times out
 * does not leave an unknown member behind for a session. Weir's coordinator has no such pending
 * members: it gives the id in the response of the first join (group-join.ts). Every client of
 * the reference (KafkaJS, librdkafka, platformatic) takes the id from a successful response at
 * any version, so the listener never sends 79; the cost is that a join abandoned by its client
 * stays a member until its session expires, as with v0–3.
 *
 * Metadata bytes are opaque: copied, stored, handed to the leader unchanged. v0 has no
 * rebalance timeout; Kafka then uses the session timeout, and so does this handler.
 */
import type { JoinGroupResponse } from '../../group/group-requests.ts'
import { assert } from '../../util/assert.ts'
import type { KafkaHandler } from './kafka-context.ts'
import { copyBytes, optional, settle, wire } from './group-wire.ts'

interface JoinGroupWire {
  readonly groupId: string
  readonly sessionTimeoutMs: number
  /** v1+. */
  readonly rebalanceTimeoutMs?: number
  readonly memberId: string
  /** v5+. */
  readonly groupInstanceId?: string | null
  readonly protocolType: string
  readonly protocols: ReadonlyArray<{ name: string, metadata: Buffer }>
}

function responseBody(errorCode: number, memberId: string, joined?: JoinGroupResponse) {
  assert((errorCode === 0) === (joined !== undefined), 'a join has a response or an error')
  assert(joined === undefined || joined.memberId !== '', 'a joined member has an id')
  return {
    throttleTimeMs: 0, errorCode,
    generationId: joined?.generationId ?? -1,
    protocolName: joined?.protocolName ?? '',
    leader: joined?.leader ?? '',
    memberId: joined?.memberId ?? memberId,
    members: (joined?.members ?? []).map(member => ({ memberId: member.memberId,
      groupInstanceId: member.groupInstanceId ?? null, metadata: member.metadata })),
  }
}

export const handleJoinGroup: KafkaHandler = async (request, context, header) => {
  const join = wire<JoinGroupWire>(request)
  const groupInstanceId = optional(join.groupInstanceId)
  const { errorCode, value } = await settle(() => context.transport.joinGroup({
    groupId: join.groupId, memberId: join.memberId,
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
    clientId: header.clientId ?? '',
    sessionTimeoutMs: join.sessionTimeoutMs,
    rebalanceTimeoutMs: join.rebalanceTimeoutMs ?? join.sessionTimeoutMs,
    protocolType: join.protocolType,
    protocols: join.protocols.map(protocol => ({ name: protocol.name,
      metadata: copyBytes(protocol.metadata) })),
  }))
  return responseBody(errorCode, join.memberId, value)
}
