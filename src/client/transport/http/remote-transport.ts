/**
 * The `Transport` of `Weir.connect(url)`: every call is one request to a Weir server (src/server),
 * binary protobuf for produce and fetch, JSON for the rest, so producers, consumers, groups,
 * transactions and admin behave as on the embedded transport. Errors come back as the same
 * WeirErrors; a lost connection is the retriable NETWORK_EXCEPTION (see http-client.ts for
 * which failures are retried here and which are left to the caller).
 *
 * `streamFetch` is the WebSocket streaming fetch, for readers that follow partitions without a
 * group; consumers (and the CLI's `weir consume`) use the long-poll `fetch` like Kafka's.
 */
import type { CreateTopicRequest, TopicDescription } from '../../../broker/broker.ts'
import type { FetchRequest, FetchResult } from '../../../broker/fetch.ts'
import type { Acks, ProduceResult } from '../../../broker/partition.ts'
import type { TopicMetadata } from '../../../broker/topic-registry.ts'
import type {
  CommittedOffset, GroupDescription, GroupListing, HeartbeatRequest, JoinGroupRequest,
  JoinGroupResponse, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest, SyncGroupRequest,
  SyncGroupResponse, TxnOffsetCommitRequest,
} from '../../../group/group-requests.ts'
import {
  type Base64Fields, groupDescriptionFromJson, joinGroupRequestToJson, joinGroupResponseFromJson,
  syncGroupRequestToJson, syncGroupResponseFromJson,
} from '../../../protocol/json-wire.ts'
import {
  decodeFetchResponse, decodeProduceResponse, encodeFetchRequest, encodeProduceRequest,
  type ProducePartitionResult, type ProduceRequestMessage, type StreamFetchRequest,
} from '../../../protocol/weir-proto.ts'
import type {
  AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, InitProducerIdRequest,
  ProducerIdAndEpoch, TransactionDescription,
} from '../../../txn/txn-requests.ts'
import type {
  ListOffsetsRequest, PartitionOffset, ProduceRequest, Transport,
} from '../transport.ts'
import { HttpClient, type HttpClientOptions, type HttpRequest } from './http-client.ts'
import { FetchStream } from './fetch-stream.ts'
import { RpcChannel } from './rpc-channel.ts'
import { WeirError } from '../../../errors.ts'

const PROTOBUF = 'application/x-protobuf'
/** Produce requests unanswered at once per client (Kafka: max.in.flight per connection, 5).
 * Over HTTP two: more keep-alive connections let requests overtake each other more often. */
const PRODUCE_REQUESTS_IN_FLIGHT = { websocket: 5, http: 2 } as const
/** Bounds of one coalesced request, well inside the server's defaults (producePartitionsMax
 * 1,000, requestBytesMax 8 MiB). */
const PRODUCE_REQUEST_PARTITIONS_MAX = 100
const PRODUCE_REQUEST_BYTES_MAX = 4 * 1024 * 1024

interface QueuedProduce {
  readonly request: ProduceRequest
  readonly resolve: (result: ProduceResult) => void
  readonly reject: (error: unknown) => void
}

export interface RemoteTransportOptions extends HttpClientOptions {
  /**
   * How produce and fetch travel: `'websocket'` (default) as frames over one WebSocket
   * (/v1/rpc), about half the CPU of an HTTP request each; `'http'` as POST /v1/produce and
   * /v1/fetch (e.g. through a proxy that does not pass WebSockets). Everything else is HTTP.
   */
  readonly dataChannel?: 'websocket' | 'http'
}

const post = (path: string, body: unknown): HttpRequest =>
  ({ method: 'POST', path, body: JSON.stringify(body) })
/** A POST that only reads: retried after any network failure (http-client.ts). */
const read = (path: string, body: unknown): HttpRequest =>
  ({ ...post(path, body), idempotent: true })

export class RemoteTransport implements Transport {
  private readonly http: HttpClient
  /** The data channel, unless `dataChannel: 'http'`. */
  private readonly rpc: RpcChannel | undefined
  private readonly produceRequestsInFlightMax: number
  private readonly streams = new Set<FetchStream>()
  private produceQueue: QueuedProduce[] = []
  private produceRequestsInFlight = 0

  constructor(options: RemoteTransportOptions) {
    this.http = new HttpClient(options)
    const channel = options.dataChannel ?? 'websocket'
    this.rpc = channel === 'websocket' ? new RpcChannel(this.http) : undefined
    this.produceRequestsInFlightMax = PRODUCE_REQUESTS_IN_FLIGHT[channel]
  }

  get url(): string {
    return this.http.url
  }

  /** Answers when the server is up (waiting up to `reconnectTimeoutMs` for it to start). */
  async health(): Promise<void> {
    await this.http.request({ method: 'GET', path: '/health' })
  }

  async createTopics(requests: readonly CreateTopicRequest[]): Promise<TopicMetadata[]> {
    return this.http.json(post('/v1/topics', { topics: requests }))
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.http.request(post('/v1/topics/delete', { topics }))
  }

  createPartitions(topic: string, count: number): Promise<TopicMetadata> {
    return this.http.json(post(`/v1/topics/${encodeURIComponent(topic)}/partitions`, { count }))
  }

  listTopics(options?: { includeInternal?: boolean }): Promise<TopicMetadata[]> {
    return this.http.json({ method: 'GET',
      path: options?.includeInternal === true ? '/v1/topics?internal=true' : '/v1/topics' })
  }

  describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    return this.http.json(read('/v1/topics/describe', { topics }))
  }

  produce(request: ProduceRequest): Promise<ProduceResult> {
    return new Promise((resolve, reject) => {
      this.produceQueue.push({ request, resolve, reject })
      this.sendQueuedProduces()
    })
  }

  /** Sends queued batches, coalesced, while fewer than the in-flight maximum are out. */
  private sendQueuedProduces(): void {
    while (this.produceQueue.length > 0
      && this.produceRequestsInFlight < this.produceRequestsInFlightMax) {
      const group = this.takeProduceGroup()
      this.produceRequestsInFlight++
      void this.sendProduceGroup(group).finally(() => {
        this.produceRequestsInFlight--
        this.sendQueuedProduces()
      })
    }
  }

  /** The oldest queued batches that fit one request: same acks, each partition once, bounded. */
  private takeProduceGroup(): QueuedProduce[] {
    const acks: Acks = this.produceQueue[0]!.request.acks
    const group: QueuedProduce[] = []
    const rest: QueuedProduce[] = []
    const partitions = new Set<string>()
    let bytes = 0
    for (const queued of this.produceQueue) {
      const { topic, partition, batch } = queued.request
      const key = `${topic}\u0000${partition}`
      if (queued.request.acks !== acks || partitions.has(key)
        || group.length >= PRODUCE_REQUEST_PARTITIONS_MAX
        || (group.length > 0 && bytes + batch.length > PRODUCE_REQUEST_BYTES_MAX)) {
        rest.push(queued)
        continue
      }
      partitions.add(key)
      group.push(queued)
      bytes += batch.length
    }
    this.produceQueue = rest
    return group
  }

  private async sendProduceGroup(group: readonly QueuedProduce[]): Promise<void> {
    let results
    try {
      results = await this.sendProduce({ acks: group[0]!.request.acks,
        partitions: group.map(({ request }) => ({ topic: request.topic,
          partition: request.partition, batch: request.batch })) })
    } catch (error) {
      if (group.length > 1 && WeirError.is(error) && error.code !== 'NETWORK_EXCEPTION'
        && error.code !== 'WEIR_ERR_CLIENT_CLOSED') {
        // The server refused the whole request for one batch's sake: find out whose, alone.
        await Promise.all(group.map(queued => this.sendProduceGroup([queued])))
      } else {
        for (const queued of group) queued.reject(error)
      }
      return
    }
    group.forEach((queued, i) => {
      const result = results[i]
      if (result === undefined) {
        queued.reject(new WeirError('WEIR_ERR_SERVER_INTERNAL', 'The produce response has no '
          + `result for ${queued.request.topic}/${queued.request.partition}.`))
      } else if ('error' in result) {
        queued.reject(result.error)
      } else {
        queued.resolve(result.result)
      }
    })
  }

  private async sendProduce(request: ProduceRequestMessage): Promise<ProducePartitionResult[]> {
    if (this.rpc !== undefined) {
      return (await this.rpc.call({ kind: 'produce', request } as const)).results
    }
    const response = await this.http.request({ method: 'POST', path: '/v1/produce',
      contentType: PROTOBUF, body: encodeProduceRequest(request) })
    return decodeProduceResponse(response.body)
  }

  async fetch(request: FetchRequest): Promise<FetchResult[]> {
    const waitMs = request.maxWaitMs ?? 0
    if (this.rpc !== undefined) {
      const call = { kind: 'fetch', request } as const
      return (await this.rpc.call(call, { waitMs, idempotent: true })).results
    }
    const response = await this.http.request({ method: 'POST', path: '/v1/fetch',
      contentType: PROTOBUF, body: encodeFetchRequest(request), waitMs, idempotent: true })
    return decodeFetchResponse(response.body)
  }

  listOffsets(requests: readonly ListOffsetsRequest[]): Promise<PartitionOffset[]> {
    return this.http.json(read('/v1/offsets/list', { requests }))
  }

  initProducerId(request: InitProducerIdRequest = {}): Promise<ProducerIdAndEpoch> {
    return this.http.json(post('/v1/producers/init', request))
  }

  async addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<void> {
    await this.http.request(post('/v1/transactions/add-partitions', request))
  }

  async addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<void> {
    await this.http.request(post('/v1/transactions/add-offsets', request))
  }

  async txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<void> {
    await this.http.request(post('/v1/transactions/commit-offsets', request))
  }

  endTxn(request: EndTxnRequest): Promise<ProducerIdAndEpoch> {
    return this.http.json(post('/v1/transactions/end', request))
  }

  describeTransactions(transactionalIds: readonly string[]): Promise<TransactionDescription[]> {
    return this.http.json(read('/v1/transactions/describe', { transactionalIds }))
  }

  listTransactions(): Promise<TransactionDescription[]> {
    return this.http.json({ method: 'GET', path: '/v1/transactions' })
  }

  async joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    // The coordinator holds a join until the rebalance completes: up to the rebalance timeout.
    return joinGroupResponseFromJson(await this.http.json<Base64Fields<JoinGroupResponse>>({
      ...post('/v1/groups/join', joinGroupRequestToJson(request)),
      waitMs: request.rebalanceTimeoutMs }))
  }

  async syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return syncGroupResponseFromJson(await this.http.json<Base64Fields<SyncGroupResponse>>(
      post('/v1/groups/sync', syncGroupRequestToJson(request))))
  }

  async heartbeat(request: HeartbeatRequest): Promise<void> {
    await this.http.request(post('/v1/groups/heartbeat', request))
  }

  async leaveGroup(request: LeaveGroupRequest): Promise<void> {
    await this.http.request(post('/v1/groups/leave', request))
  }

  async commitOffsets(request: OffsetCommitRequest): Promise<void> {
    await this.http.request(post('/v1/groups/offsets/commit', request))
  }

  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    return this.http.json(read('/v1/groups/offsets/fetch', request))
  }

  listGroups(): Promise<GroupListing[]> {
    return this.http.json({ method: 'GET', path: '/v1/groups' })
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    return groupDescriptionFromJson(await this.http.json<Base64Fields<GroupDescription>>({
      method: 'GET', path: `/v1/groups/${encodeURIComponent(groupId)}` }))
  }

  async resetOffsets(request: { groupId: string, offsets: readonly PartitionOffset[] }):
  Promise<void> {
    await this.http.request({ method: 'PUT',
      path: `/v1/groups/${encodeURIComponent(request.groupId)}/offsets`,
      body: JSON.stringify({ offsets: request.offsets }) })
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    await this.http.request(post('/v1/groups/delete', { groupIds }))
  }

  /**
   * Follows partitions over the WebSocket streaming fetch: batches arrive as the server has
   * them, without a request per poll. `for await (const results of stream)`; `stream.seek(...)`
   * resubscribes; `stream.close()` ends it.
   */
  streamFetch(request: StreamFetchRequest): FetchStream {
    const stream = new FetchStream(this.http.url, this.http.token, request,
      () => this.streams.delete(stream))
    this.streams.add(stream)
    return stream
  }

  async close(): Promise<void> {
    for (const stream of this.streams) stream.close()
    const queued = this.produceQueue
    this.produceQueue = []
    for (const { reject } of queued) {
      reject(new WeirError('WEIR_ERR_CLIENT_CLOSED', 'This Weir client was closed before the '
        + 'batch was sent.'))
    }
    this.rpc?.close()
    this.http.close()
  }
}
