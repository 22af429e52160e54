/**
 * Idempotent and transactional producers, JSON in and out: InitProducerId, AddPartitionsToTxn,
 * AddOffsetsToTxn, TxnOffsetCommit, EndTxn, and describing and listing transactions.
 */
import type { FastifyInstance } from 'fastify'
import type { EmbeddedTransport } from '../../client/transport/embedded.ts'
import type { TxnOffsetCommitRequest } from '../../group/group-requests.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
} from '../../txn/txn-requests.ts'
import {
  addOffsetsToTxnBody, addPartitionsToTxnBody, endTxnBody, initProducerIdBody,
  transactionalIdsBody, txnOffsetCommitBody,
} from '../json-schemas.ts'

export function registerTransactionRoutes(app: FastifyInstance, transport: EmbeddedTransport):
void {
  app.post<{ Body: InitProducerIdRequest }>('/v1/producers/init',
    { schema: { body: initProducerIdBody } }, request => transport.initProducerId(request.body))

  app.post<{ Body: AddPartitionsToTxnRequest }>('/v1/transactions/add-partitions',
    { schema: { body: addPartitionsToTxnBody } }, async (request, reply) => {
      await transport.addPartitionsToTxn(request.body)
      return reply.code(204).send()
    })

  app.post<{ Body: AddOffsetsToTxnRequest }>('/v1/transactions/add-offsets',
    { schema: { body: addOffsetsToTxnBody } }, async (request, reply) => {
      await transport.addOffsetsToTxn(request.body)
      return reply.code(204).send()
    })

  app.post<{ Body: TxnOffsetCommitRequest }>('/v1/transactions/commit-offsets',
    { schema: { body: txnOffsetCommitBody } }, async (request, reply) => {
      await transport.txnOffsetCommit(request.body)
      return reply.code(204).send()
    })

  app.post<{ Body: EndTxnRequest }>('/v1/transactions/end', { schema: { body: endTxnBody } },
    request => transport.endTxn(request.body))

  app.get('/v1/transactions', () => transport.listTransactions())

  app.post<{ Body: { transactionalIds: string[] } }>('/v1/transactions/describe',
    { schema: { body: transactionalIdsBody } },
    request => transport.describeTransactions(request.body.transactionalIds))
}
