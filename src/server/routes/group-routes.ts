/**
 * Consumer groups, JSON in and out: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, offset commit
 * and fetch, and the admin calls (list, describe, reset offsets, delete). Protocol metadata and
 * assignments travel as base64 (src/protocol/json-wire.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { EmbeddedTransport } from '../../client/transport/embedded.ts'
import type { PartitionOffset } from '../../client/transport/transport.ts'
import type {
  HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest,
  SyncGroupRequest,
} from '../../group/group-requests.ts'
import {
  type Base64Fields, groupDescriptionToJson, joinGroupRequestFromJson, joinGroupResponseToJson,
  syncGroupRequestFromJson, syncGroupResponseToJson,
} from '../../protocol/json-wire.ts'
import {
  commitOffsetsBody, fetchOffsetsBody, groupIdsBody, groupParams, heartbeatBody, joinGroupBody,
  leaveGroupBody, resetOffsetsBody, syncGroupBody,
} from '../json-schemas.ts'

export function registerGroupRoutes(app: FastifyInstance, transport: EmbeddedTransport): void {
  app.post<{ Body: Base64Fields<JoinGroupRequest> }>('/v1/groups/join',
    { schema: { body: joinGroupBody } }, async request => joinGroupResponseToJson(
      await transport.joinGroup(joinGroupRequestFromJson(request.body))))

  app.post<{ Body: Base64Fields<SyncGroupRequest> }>('/v1/groups/sync',
    { schema: { body: syncGroupBody } }, async request => syncGroupResponseToJson(
      await transport.syncGroup(syncGroupRequestFromJson(request.body))))

  app.post<{ Body: HeartbeatRequest }>('/v1/groups/heartbeat', { schema: { body: heartbeatBody } },
    async (request, reply) => {
      await transport.heartbeat(request.body)
      return reply.code(204).send()
    })

  app.post<{ Body: LeaveGroupRequest }>('/v1/groups/leave', { schema: { body: leaveGroupBody } },
    async (request, reply) => {
      await transport.leaveGroup(request.body)
      return reply.code(204).send()
    })

  app.post<{ Body: OffsetCommitRequest }>('/v1/groups/offsets/commit',
    { schema: { body: commitOffsetsBody } }, async (request, reply) => {
      await transport.commitOffsets(request.body)
      return reply.code(204).send()
    })

  app.post<{ Body: OffsetFetchRequest }>('/v1/groups/offsets/fetch',
    { schema: { body: fetchOffsetsBody } }, request => transport.fetchOffsets(request.body))

  app.get('/v1/groups', () => transport.listGroups())

  app.get<{ Params: { groupId: string } }>('/v1/groups/:groupId',
    { schema: { params: groupParams } },
    async request => groupDescriptionToJson(await transport.describeGroup(request.params.groupId)))

  app.put<{ Params: { groupId: string }, Body: { offsets: PartitionOffset[] } }>(
    '/v1/groups/:groupId/offsets', { schema: { params: groupParams, body: resetOffsetsBody } },
    async (request, reply) => {
      await transport.resetOffsets({ groupId: request.params.groupId,
        offsets: request.body.offsets })
      return reply.code(204).send()
    })

  app.post<{ Body: { groupIds: string[] } }>('/v1/groups/delete',
    { schema: { body: groupIdsBody } }, async (request, reply) => {
      await transport.deleteGroups(request.body.groupIds)
      return reply.code(204).send()
    })
}
