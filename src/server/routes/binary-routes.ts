/**
 * POST /v1/produce and POST /v1/fetch, and their frames on WebSocket /v1/rpc (rpc-route.ts):
 * protobuf bodies (proto/weir.proto), record batches as opaque bytes both ways. A produce request
 * is checked whole before anything is appended — every topic and partition exists, every batch
 * is one whole batch with a good CRC and at most `batchRecordsMax` records — so a bad request
 * writes nothing. The broker then validates each
 * batch again as it appends it (sequence, epoch, limits); its refusals come back per partition,
 * as in Kafka's ProduceResponse.
 */
import type { FastifyInstance } from 'fastify'
import { WeirError } from '../../errors.ts'
import type { ServerLimits } from '../../limits.ts'
import { batchDefect, readBatchHeader } from '../../log/record-batch.ts'
import type { EmbeddedTransport } from '../../client/transport/embedded.ts'
import type { TopicMetadata } from '../../broker/topic-registry.ts'
import type { FetchRequest, FetchResult } from '../../broker/fetch.ts'
import {
  decodeFetchRequest, decodeProduceRequest, encodeFetchResponse, encodeProduceResponse,
  type ProducePartitionResult, type ProduceRequestMessage,
} from '../../protocol/weir-proto.ts'
import { asWeirError } from '../http-errors.ts'
import type { ServerMetrics } from '../metrics/server-metrics.ts'

export const PROTOBUF = 'application/x-protobuf'

export interface BinaryRoutesContext {
  readonly transport: EmbeddedTransport
  readonly limits: ServerLimits
  readonly metrics: ServerMetrics
}

/** Checks the whole request; returns each batch's record count. @throws nothing written */
async function checkProduce(request: ProduceRequestMessage, context: BinaryRoutesContext):
Promise<number[]> {
  const { limits, transport } = context
  if (request.partitions.length > limits.producePartitionsMax) {
    throw new WeirError('WEIR_ERR_SERVER_BODY_TOO_LARGE', `The request names `
      + `${request.partitions.length} partitions; the limit is ${limits.producePartitionsMax} `
      + '(producePartitionsMax). Split it.')
  }
  const seen = new Set<string>()
  const counts: number[] = []
  for (const { topic, partition, batch } of request.partitions) {
    const key = `${topic}\u0000${partition}`
    if (seen.has(key)) {
      throw new WeirError('INVALID_REQUEST', `${topic}/${partition} appears twice in one produce `
        + 'request; send one batch per partition.')
    }
    seen.add(key)
    const defect = batchDefect(batch, 0)
    if (defect !== undefined || batch.length !== batch.readInt32BE(8) + 12) {
      throw new WeirError('CORRUPT_MESSAGE', `The batch for ${topic}/${partition} is not one whole `
        + `record batch v2 (${defect ?? 'trailing bytes'}). Encode it again.`)
    }
    const { recordCount } = readBatchHeader(batch, 0)
    if (recordCount > limits.batchRecordsMax) {
      throw new WeirError('WEIR_ERR_SERVER_BODY_TOO_LARGE', `The batch for ${topic}/${partition} `
        + `holds ${recordCount} records; the limit is ${limits.batchRecordsMax} `
        + '(batchRecordsMax). Send smaller batches.')
    }
    counts.push(recordCount)
  }
  // Topics last: with autoCreateTopics this creates them, which a refused request must not do.
  // Await only to create one: batches of a partition sent in two requests must reach the broker
  // in the order the requests came, and an await per partition let a one-partition request
  // overtake a longer one that came first (OUT_OF_ORDER_SEQUENCE, then a retry backoff).
  for (const { topic, partition } of request.partitions) {
    const metadata = existingTopic(transport, topic) ?? await transport.broker.topicForUse(topic)
    if (metadata.internal) {
      throw new WeirError('INVALID_TOPIC_EXCEPTION', `Topic '${topic}' is internal; clients `
        + 'cannot produce to it.')
    }
    transport.broker.partition(topic, partition)
  }
  return counts
}

function existingTopic(transport: EmbeddedTransport, topic: string): TopicMetadata | undefined {
  try {
    return transport.broker.requireTopic(topic)
  } catch {
    return undefined
  }
}

/** Appends a whole-checked produce request; the broker's refusals come back per partition. */
export async function handleProduce(message: ProduceRequestMessage,
  context: BinaryRoutesContext): Promise<ProducePartitionResult[]> {
  const { transport, metrics } = context
  const counts = await checkProduce(message, context)
  return Promise.all(message.partitions.map(async (p, i): Promise<ProducePartitionResult> => {
    try {
      const result = await transport.produce({ ...p, acks: message.acks })
      if (!result.duplicate) {
        metrics.producedRecords.inc({ topic: p.topic }, counts[i]!)
        metrics.producedBytes.inc({ topic: p.topic }, p.batch.length)
      }
      return { topic: p.topic, partition: p.partition, result }
    } catch (error) {
      const weirError = asWeirError(error)
      metrics.produceErrors.inc({ code: weirError.code })
      return { topic: p.topic, partition: p.partition, error: weirError }
    }
  }))
}

export async function handleFetch(request: FetchRequest, context: BinaryRoutesContext):
Promise<FetchResult[]> {
  const results = await context.transport.fetch(request)
  for (const result of results) {
    if (result.bytes.length > 0) {
      context.metrics.fetchedBytes.inc({ topic: result.topic }, result.bytes.length)
    }
  }
  return results
}

export function registerBinaryRoutes(app: FastifyInstance, context: BinaryRoutesContext): void {
  app.addContentTypeParser(PROTOBUF, { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body)
  })

  app.post('/v1/produce', async (request, reply) => {
    const results = await handleProduce(decodeProduceRequest(bodyBytes(request.body)), context)
    return reply.type(PROTOBUF).send(Buffer.from(encodeProduceResponse(results)))
  })

  app.post('/v1/fetch', async (request, reply) => {
    const results = await handleFetch(decodeFetchRequest(bodyBytes(request.body)), context)
    return reply.type(PROTOBUF).send(Buffer.from(encodeFetchResponse(results)))
  })
}

function bodyBytes(body: unknown): Buffer {
  if (!Buffer.isBuffer(body)) {
    throw new WeirError('WEIR_ERR_SERVER_BODY_MALFORMED', `This endpoint takes a protobuf body `
      + `with Content-Type: ${PROTOBUF}.`)
  }
  return body
}
