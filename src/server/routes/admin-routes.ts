/**
 * Topics and offsets, JSON in and out: list/create/describe/delete topics, add partitions, list
 * offsets, and a group's lag. Creating several topics checks them all first, so a request whose
 * second topic exists creates none.
 */
import type { FastifyInstance } from 'fastify'
import { Admin } from '../../client/admin.ts'
import type { CreateTopicRequest } from '../../broker/broker.ts'
import type { IsolationLevel } from '../../broker/fetch.ts'
import type { EmbeddedTransport } from '../../client/transport/embedded.ts'
import type { ListOffsetsRequest } from '../../client/transport/transport.ts'
import { WeirError } from '../../errors.ts'
import {
  createPartitionsBody, createTopicsBody, groupParams, lagQuery, listOffsetsBody, listTopicsQuery,
  topicParams, topicsBody,
} from '../json-schemas.ts'

export function registerAdminRoutes(app: FastifyInstance, transport: EmbeddedTransport): void {
  app.get<{ Querystring: { internal?: 'true' | 'false' } }>('/v1/topics',
    { schema: { querystring: listTopicsQuery } },
    request => transport.listTopics({ includeInternal: request.query.internal === 'true' }))

  app.post<{ Body: { topics: CreateTopicRequest[] } }>('/v1/topics',
    { schema: { body: createTopicsBody } }, async (request, reply) => {
      const names = request.body.topics.map(t => t.topic)
      const existing = new Set(transport.broker.listTopics({ includeInternal: true })
        .map(t => t.name))
      const clash = names.find((name, i) => existing.has(name) || names.indexOf(name) !== i)
      if (clash !== undefined) {
        throw new WeirError('TOPIC_ALREADY_EXISTS', `Topic '${clash}' already exists or is named `
          + 'twice in the request; no topic was created.')
      }
      return reply.code(201).send(await transport.createTopics(request.body.topics))
    })

  app.post<{ Body: { topics: string[] } }>('/v1/topics/describe',
    { schema: { body: topicsBody } }, request => transport.describeTopics(request.body.topics))

  app.post<{ Body: { topics: string[] } }>('/v1/topics/delete',
    { schema: { body: topicsBody } }, async (request, reply) => {
      for (const topic of request.body.topics) transport.broker.requireTopic(topic)
      await transport.deleteTopics(request.body.topics)
      return reply.code(204).send()
    })

  app.get<{ Params: { topic: string } }>('/v1/topics/:topic', { schema: { params: topicParams } },
    async request => (await transport.describeTopics([request.params.topic]))[0])

  app.delete<{ Params: { topic: string } }>('/v1/topics/:topic',
    { schema: { params: topicParams } }, async (request, reply) => {
      await transport.deleteTopics([request.params.topic])
      return reply.code(204).send()
    })

  app.post<{ Params: { topic: string }, Body: { count: number } }>('/v1/topics/:topic/partitions',
    { schema: { params: topicParams, body: createPartitionsBody } },
    request => transport.createPartitions(request.params.topic, request.body.count))

  app.post<{ Body: { requests: ListOffsetsRequest[] } }>('/v1/offsets/list',
    { schema: { body: listOffsetsBody } }, request => transport.listOffsets(request.body.requests))

  app.get<{ Params: { groupId: string }, Querystring: { isolationLevel?: IsolationLevel,
    topics?: string } }>('/v1/groups/:groupId/lag',
    { schema: { params: groupParams, querystring: lagQuery } }, request => new Admin(transport)
      .lag(request.params.groupId, request.query.topics?.split(',').filter(t => t.length > 0),
        { isolationLevel: request.query.isolationLevel ?? 'read_committed' }))
}
