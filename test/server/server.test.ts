/**
 * Goal: the server behaves as the README's server API says. With a token, /health answers
 * without it and every other endpoint is a 401 WEIR_ERR_SERVER_UNAUTHORIZED without it or with a
 * wrong one, while `Weir.connect(url, { token })` works; an unknown route is a 404
 * WEIR_ERR_SERVER_NOT_FOUND; /metrics is valid Prometheus text that shows produced records, log end
 * offsets, a group's lag, open transactions, fsyncs and request durations; one connection over
 * `connectionsMax` is a 503 WEIR_ERR_SERVER_BUSY; `close()` lets a long poll in flight finish,
 * refuses new requests, and leaves every acknowledged record readable by `Weir.open` on the same
 * directory; the WebSocket streaming fetch delivers records in order and re-delivers after a seek;
 * topics are administered over REST (create 201, a clash 409 that creates nothing, describe,
 * delete 204, unknown 404).
 *
 * Method: real servers on 127.0.0.1:0 over temp dirs, reached with the global fetch, node:http
 * (where connections must be counted) and the remote client. Where a test needs to know that a
 * request is inside the server (the long poll at shutdown), it wraps the server's transport, the
 * seam every route calls; waits are for conditions, never for time.
 */
import http from 'node:http'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { FetchRequest, FetchResult } from '../../src/broker/fetch.ts'
import type { RemoteTransport } from '../../src/client/transport/http/remote-transport.ts'
import { Weir } from '../../src/client/weir.ts'
import { WeirError } from '../../src/errors.ts'
import {
  decodeRecords, encodeBatch, forEachBatch, type LogRecord,
} from '../../src/log/record-batch.ts'
import {
  decodeFetchResponse, encodeFetchRequest, encodeProduceRequest,
} from '../../src/protocol/weir-proto.ts'
import { WeirServer } from '../../src/server/weir-server.ts'
import { FAST, pull, readPartition, until } from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { parsePrometheus, type Sample, sampled } from './prometheus-text.ts'
import {
  type Answer, call, callJson, errorOf, expectHealthy, get, JSON_TYPE, PROTOBUF, request,
  withServer,
} from './server-fixtures.ts'

const TIMESTAMP = 1_700_000_000_000
const values = (records: readonly LogRecord[]): string[] =>
  records.map(record => record.value?.toString() ?? 'null')

/** A request to every endpoint but /health: method, path and a body that would be valid. */
const PROTECTED: ReadonlyArray<{ method: string, path: string, body?: unknown,
  protobuf?: Uint8Array }> = [
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/v1/topics' },
  { method: 'POST', path: '/v1/topics', body: { topics: [{ topic: 'created' }] } },
  { method: 'POST', path: '/v1/topics/describe', body: { topics: ['t'] } },
  { method: 'POST', path: '/v1/topics/delete', body: { topics: ['t'] } },
  { method: 'GET', path: '/v1/topics/t' },
  { method: 'DELETE', path: '/v1/topics/t' },
  { method: 'POST', path: '/v1/topics/t/partitions', body: { count: 2 } },
  { method: 'POST', path: '/v1/offsets/list',
    body: { requests: [{ topic: 't', partition: 0, spec: 'latest' }] } },
  { method: 'POST', path: '/v1/produce', protobuf: encodeProduceRequest({ acks: 'all',
    partitions: [{ topic: 't', partition: 0, batch: encodeBatch([{ value: Buffer.from('x') }],
      { timestamp: TIMESTAMP }) }] }) },
  { method: 'POST', path: '/v1/fetch', protobuf: encodeFetchRequest({ partitions: [
    { topic: 't', partition: 0, offset: 0 }] }) },
  { method: 'GET', path: '/v1/groups' },
  { method: 'GET', path: '/v1/groups/g' },
  { method: 'GET', path: '/v1/groups/g/lag' },
  { method: 'PUT', path: '/v1/groups/g/offsets',
    body: { offsets: [{ topic: 't', partition: 0, offset: 0 }] } },
  { method: 'POST', path: '/v1/groups/delete', body: { groupIds: ['g'] } },
  { method: 'POST', path: '/v1/groups/join', body: { groupId: 'g', memberId: '', clientId: 'c',
    sessionTimeoutMs: 1000, rebalanceTimeoutMs: 1000, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: '' }] } },
  { method: 'POST', path: '/v1/groups/sync', body: { groupId: 'g', generationId: 1,
    memberId: 'm', assignments: [] } },
  { method: 'POST', path: '/v1/groups/heartbeat', body: { groupId: 'g', generationId: 1,
    memberId: 'm' } },
  { method: 'POST', path: '/v1/groups/leave',
    body: { groupId: 'g', members: [{ memberId: 'm' }] } },
  { method: 'POST', path: '/v1/groups/offsets/commit', body: { groupId: 'g', generationId: -1,
    memberId: '', offsets: [{ topic: 't', partition: 0, offset: 0 }] } },
  { method: 'POST', path: '/v1/groups/offsets/fetch', body: { groupId: 'g' } },
  { method: 'POST', path: '/v1/producers/init', body: {} },
  { method: 'GET', path: '/v1/transactions' },
  { method: 'POST', path: '/v1/transactions/describe', body: { transactionalIds: ['x'] } },
  { method: 'POST', path: '/v1/transactions/end', body: { transactionalId: 'x', producerId: 0,
    producerEpoch: 0, commit: true } },
  { method: 'GET', path: '/v1/no-such-endpoint' },
]

describe('token', () => {
  const TOKEN = 'correct horse battery staple'

  it('/health needs no token; every other endpoint is 401 without it or with a wrong one',
    async () => {
      await withServer({ token: TOKEN }, async server => {
        await server.transport.createTopics([{ topic: 't' }])
        await expectHealthy(server.url)
        for (const token of [undefined, 'wrong', `${TOKEN}x`, TOKEN.slice(0, -1), '']) {
          for (const endpoint of PROTECTED) {
            const answer = await call(server.url, endpoint.method, endpoint.path, {
              ...endpoint.protobuf !== undefined
                ? { body: endpoint.protobuf, contentType: PROTOBUF }
                : endpoint.body !== undefined
                  ? { body: JSON.stringify(endpoint.body), contentType: JSON_TYPE } : {},
              ...token === undefined ? {} : { token } })
            expect(errorOf(answer, 401).code, `${endpoint.method} ${endpoint.path}`)
              .toBe('WEIR_ERR_SERVER_UNAUTHORIZED')
          }
        }
        const basic = await fetch(`${server.url}/v1/topics`,
          { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } })
        expect(basic.status).toBe(401)
        // Nothing the refused requests asked for happened.
        expect(server.transport.broker.listTopics().map(t => t.name)).toEqual(['t'])
        expect(server.transport.broker.describeTopic('t').partitionStates[0]!.logEndOffset)
          .toBe(0)
      })
    })

  it('refuses the streaming fetch upgrade without the token and closes its connection',
    async () => {
      await withServer({ token: TOKEN }, async server => {
        for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
          const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/fetch/stream`,
            { headers })
          try {
            socket.on('open', () => { throw new Error('the stream opened without a token') })
            const refused = await new Promise<http.IncomingMessage>(resolve =>
              socket.once('unexpected-response', (_request, response) => resolve(response)))
            expect(refused.statusCode).toBe(401)
            // The server ends the refused upgrade's connection (else close() would never end).
            await new Promise(resolve => refused.socket.once('close', resolve))
          } finally {
            socket.on('error', () => undefined) // terminate() mid-handshake reports one
            socket.terminate()
          }
        }
      })
    })

  it('works through Weir.connect(url, { token }), and without the token refuses calls',
    async () => {
      await withServer({ token: TOKEN }, async server => {
        const weir = await Weir.connect(server.url, { token: TOKEN })
        const anonymous = await Weir.connect(server.url, { reconnectTimeoutMs: 0 })
        try {
          await weir.admin().createTopics([{ topic: 'orders', partitions: 2 }])
          const producer = weir.producer()
          await producer.send({ topic: 'orders', messages: [{ partition: 1, value: 'a' },
            { partition: 1, value: 'b' }] })
          await producer.close()
          expect(values(await readPartition(weir.transport, 'orders', 1))).toEqual(['a', 'b'])
          const stream = (weir.transport as RemoteTransport).streamFetch({ partitions: [
            { topic: 'orders', partition: 1, offset: 0 }], isolationLevel: 'read_uncommitted' })
          expect(values(await nextRecords(stream[Symbol.asyncIterator](), 0, 2, 1)))
            .toEqual(['a', 'b'])
          stream.close()
          await expect(anonymous.admin().listTopics()).rejects.toSatisfy(error =>
            WeirError.is(error, 'WEIR_ERR_SERVER_UNAUTHORIZED'))
        } finally {
          await anonymous.close()
          await weir.close()
        }
      })
    })
})

describe('routes', () => {
  it('answers an unknown route 404 WEIR_ERR_SERVER_NOT_FOUND', async () => {
    await withServer({}, async server => {
      for (const [method, path] of [['GET', '/'], ['GET', '/v2/topics'], ['POST', '/v1/nope'],
        ['PUT', '/v1/topics'], ['PATCH', '/v1/groups'], ['GET', '/v1/produce'],
        ['GET', '/health/extra']] as const) {
        const answer = await call(server.url, method, path,
          method === 'GET' ? {} : { body: '{}', contentType: JSON_TYPE })
        expect(errorOf(answer, 404).code, `${method} ${path}`).toBe('WEIR_ERR_SERVER_NOT_FOUND')
      }
    })
  })
})

async function scrape(url: string): Promise<Sample[]> {
  const answer = await call(url, 'GET', '/metrics')
  expect(answer.status).toBe(200)
  expect(answer.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheus(answer.body.toString('utf8'))
}

const sum = (numbers: readonly number[]): number => numbers.reduce((a, b) => a + b, 0)

describe('/metrics', () => {
  it('is Prometheus text showing produced records, log ends, group lag, open transactions, '
    + 'fsyncs and request durations', async () => {
    await withServer({ broker: { group: { tickMs: 20 } } }, async server => {
      const weir = await Weir.connect(server.url)
      try {
        parsePrometheus((await call(server.url, 'GET', '/metrics')).body.toString('utf8'))
        await weir.admin().createTopics([{ topic: 'm', partitions: 2 }])
        const producer = weir.producer()
        await producer.send({ topic: 'm', messages: [0, 1, 2, 3, 4].map(i =>
          ({ partition: i % 2, value: `v${i}` })) })
        const consumer = weir.consumer({ ...FAST, groupId: 'mg', autoOffsetReset: 'earliest',
          autoCommit: false })
        consumer.subscribe({ topics: ['m'] })
        expect(await pull(consumer, 5)).toHaveLength(5)
        await consumer.commit()
        await consumer.close()
        await producer.send({ topic: 'm', messages: [{ partition: 0, value: 'late0' },
          { partition: 0, value: 'late1' }, { partition: 1, value: 'late2' }] })

        const transactional = weir.producer({ transactionalId: 'mt' })
        await transactional.initTransactions()
        transactional.beginTransaction()
        await transactional.send({ topic: 'm', messages: [{ partition: 1, value: 'tx' }] })
        const during = await scrape(server.url)
        expect(sampled(during, 'weir_open_transactions')).toEqual([1])
        await transactional.commitTransaction()
        await transactional.close()
        await producer.close()
        // Complete once its markers are written (after EndTxn answered, as in Kafka).
        await until(async () =>
          sampled(await scrape(server.url), 'weir_open_transactions')[0] === 0)

        const samples = await scrape(server.url)
        expect(sampled(samples, 'weir_produce_records_total', { topic: 'm' })).toEqual([9])
        const [described] = await weir.admin().describeTopics(['m'])
        for (const state of described!.partitionStates) {
          expect(sampled(samples, 'weir_log_end_offset',
            { topic: 'm', partition: String(state.partition) })).toEqual([state.highWatermark])
        }
        // 5 + 3 + 1 records and the commit marker.
        expect(sum(sampled(samples, 'weir_log_end_offset', { topic: 'm' }))).toBe(10)
        const lag = await weir.admin().lag('mg')
        // Committed at 5 of 10: three later records, the transaction's record and its marker.
        expect(sum(lag.map(p => p.lag))).toBe(5)
        for (const partition of lag) {
          expect(sampled(samples, 'weir_group_lag', { group: 'mg', topic: 'm',
            partition: String(partition.partition) })).toEqual([partition.lag])
        }
        expect(sampled(samples, 'weir_fsync_duration_seconds_count')[0]).toBeGreaterThan(0)
        for (const route of ['/v1/groups/join', '/v1/groups/sync', '/v1/groups/offsets/commit']) {
          expect(sampled(samples, 'weir_http_request_duration_seconds_count', { route })[0],
            route).toBeGreaterThan(0)
          expect(sampled(samples, 'weir_http_request_duration_seconds_bucket',
            { route }).length).toBeGreaterThan(1)
        }
        // Produce and fetch went over the client's data channel, WebSocket /v1/rpc.
        for (const call of ['produce', 'fetch']) {
          expect(sampled(samples, 'weir_rpc_call_duration_seconds_count', { call })[0],
            call).toBeGreaterThan(0)
          expect(sampled(samples, 'weir_rpc_calls_total', { call, status: '200' })[0], call)
            .toBeGreaterThan(0)
        }
        expect(sampled(samples, 'weir_fetch_bytes_total', { topic: 'm' })[0]).toBeGreaterThan(0)
      } finally {
        await weir.close()
      }
    })
  })
})

describe('limits', () => {
  it('a limit that is not an integer ≥ 1 is refused with INVALID_CONFIG before anything opens',
    async () => {
      await withTempDir('weir-limits-', async dir => {
        for (const limits of [{ rpcInFlightMax: 0 }, { connectionsMax: 1.5 },
          { requestBytesMax: -1 }]) {
          const started = WeirServer.start({ dir, port: 0, limits })
          await expect(started).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
        }
      })
    })
})

describe('connectionsMax', () => {
  it('answers a connection over the limit 503 WEIR_ERR_SERVER_BUSY, and takes one again once '
    + 'a connection closes', async () => {
    await withServer({ limits: { connectionsMax: 2 } }, async server => {
      const agents = [0, 1, 2].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }))
      try {
        expect((await get(server.url, '/health', agents[0]!)).status).toBe(200)
        expect((await get(server.url, '/v1/topics', agents[1]!)).status).toBe(200)
        const over = await get(server.url, '/v1/topics', agents[2]!)
        expect(errorOf(over, 503)).toMatchObject({ code: 'WEIR_ERR_SERVER_BUSY',
          retriable: true })
        // The two kept connections still work.
        expect((await get(server.url, '/health', agents[0]!)).status).toBe(200)
        expect((await get(server.url, '/health', agents[1]!)).status).toBe(200)
        agents[0]!.destroy()
        await until(async () => (await get(server.url, '/health', false)).status === 200)
        expect((await get(server.url, '/v1/topics', agents[1]!)).status).toBe(200)
      } finally {
        for (const agent of agents) agent.destroy()
      }
    })
  })
})

describe('graceful close', () => {
  it('finishes a long poll in flight, refuses new requests, and keeps every acknowledged record',
    async () => {
      await withTempDir('weir-server-close-', async dir => {
        // A close held by an idle connection would end only at shutdownGraceMs: beyond the
        // test's timeout here, so such a hold fails the test instead of slowing it.
        const server = await WeirServer.start({ dir, port: 0,
          limits: { shutdownGraceMs: 600_000 } })
        const weir = await Weir.connect(server.url, { reconnectTimeoutMs: 0 })
        const keepAlive = new http.Agent({ keepAlive: true })
        let closing: Promise<void> | undefined
        /** Offset → value of every record of g/0 the server acknowledged. */
        const acknowledged = new Map<number, string>()
        try {
          await weir.admin().createTopics([{ topic: 'g', partitions: 2 }])
          const produce = async (value: string): Promise<void> => {
            const result = await weir.transport.produce({ topic: 'g', partition: 0, acks: 'all',
              batch: encodeBatch([{ value: Buffer.from(value) }], { timestamp: TIMESTAMP }) })
            acknowledged.set(result.baseOffset, value)
          }
          for (let i = 0; i < 20; i++) await produce(`before-${i}`)

          // The long poll waits at the end of g/1, which only the test writes; the wrapped
          // transport says when it is inside the server.
          const fetches: FetchRequest[] = []
          const fetchInside = server.transport.fetch.bind(server.transport)
          server.transport.fetch = request => {
            fetches.push(request)
            return fetchInside(request)
          }
          const longPoll = request(server.url, '/v1/fetch', keepAlive, { contentType: PROTOBUF,
            bytes: encodeFetchRequest({ partitions: [{ topic: 'g', partition: 1, offset: 0 }],
              maxWaitMs: 20_000, minBytes: 1 }) })
          await until(() => fetches.length === 1)
          // A producer keeps sending while the server closes: some sends are acknowledged.
          let producing = true
          const producer = (async () => {
            for (let i = 0; producing; i++) await produce(`during-${i}`)
          })().catch((error: unknown) => error)
          await until(() => acknowledged.size >= 25)

          closing = server.close()
          producing = false
          // Once the close has begun (a turn or two after the call), a new request is refused:
          // at connect (the server stopped listening) or with a 503.
          let refused: Answer | Error
          do {
            refused = await call(server.url, 'GET', '/v1/topics').catch((error: unknown) =>
              error as Error)
          } while (!(refused instanceof Error) && refused.status === 200)
          if (!(refused instanceof Error)) {
            expect(errorOf(refused, 503).code).toBe('WEIR_ERR_SERVER_SHUTTING_DOWN')
          }
          // The broker is open until the long poll ends: a record written now wakes it.
          await server.transport.produce({ topic: 'g', partition: 1, acks: 'all',
            batch: encodeBatch([{ value: Buffer.from('late') }], { timestamp: TIMESTAMP }) })
          const answer = await longPoll
          expect(answer.status).toBe(200)
          // Its keep-alive connection ends with it, so the close need not wait for it.
          expect(answer.connection).toBe('close')
          const [result] = decodeFetchResponse(answer.body)
          expect(result!.error).toBeUndefined()
          expect(values(decodeRecords(result!.bytes))).toEqual(['late'])
          await closing
          const stopped = await producer
          expect(WeirError.is(stopped) || stopped === undefined).toBe(true)
        } finally {
          await weir.close()
          await (closing ?? server.close())
          keepAlive.destroy()
        }
        await expect(call(server.url, 'GET', '/health')).rejects.toThrow()

        const reopened = await Weir.open({ dir })
        try {
          const stored = await readPartition(reopened.transport, 'g', 0)
          const byOffset = new Map(stored.map(record => [record.offset, record.value?.toString()]))
          for (const [offset, value] of acknowledged) {
            expect(byOffset.get(offset), `acknowledged offset ${offset}`).toBe(value)
          }
          expect(values(await readPartition(reopened.transport, 'g', 1))).toEqual(['late'])
        } finally {
          await reopened.close()
        }
      })
    })
})

/**
 * Reads frames until `count` records from `from` arrived, checking they are consecutive (records
 * below `from` are skipped: a stored batch may begin before the asked offset).
 */
async function nextRecords(frames: AsyncIterator<FetchResult[]>, from: number, count: number,
  partition = 0): Promise<LogRecord[]> {
  const records: LogRecord[] = []
  while (records.length < count) {
    const next = await frames.next()
    if (next.done === true) throw new Error('the stream ended')
    for (const result of next.value) {
      expect(result.error).toBeUndefined()
      expect(result.partition).toBe(partition)
      forEachBatch(result.bytes, position => {
        for (const record of decodeRecords(result.bytes, position)) {
          if (record.offset < from) continue
          expect(record.offset).toBe(from + records.length)
          records.push(record)
        }
      })
    }
  }
  return records
}

describe('streaming fetch', () => {
  it('delivers records produced after subscribing, in order, and re-delivers from an earlier '
    + 'offset after a seek', async () => {
    await withServer({}, async server => {
      const weir = await Weir.connect(server.url)
      try {
        await weir.admin().createTopics([{ topic: 's', partitions: 2 }])
        const polled: FetchRequest[] = []
        const fetchInside = server.transport.fetch.bind(server.transport)
        server.transport.fetch = request => {
          polled.push(request)
          return fetchInside(request)
        }
        const stream = (weir.transport as RemoteTransport).streamFetch({ partitions: [
          { topic: 's', partition: 0, offset: 0 }], isolationLevel: 'read_uncommitted' })
        const frames = stream[Symbol.asyncIterator]()
        // Subscribed: the server polls the partition for the stream.
        await until(() => polled.some(request => request.partitions[0]?.topic === 's'))
        const producer = weir.producer()
        for (let i = 0; i < 6; i += 2) {
          await producer.send({ topic: 's', messages: [{ partition: 0, value: `v${i}` },
            { partition: 0, value: `v${i + 1}` }, { partition: 1, value: 'elsewhere' }] })
        }
        const first = await nextRecords(frames, 0, 6)
        expect(values(first)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5'])

        stream.seek({ partitions: [{ topic: 's', partition: 0, offset: 2 }],
          isolationLevel: 'read_uncommitted' })
        const again = await nextRecords(frames, 2, 4)
        await producer.send({ topic: 's', messages: [{ partition: 0, value: 'v6' },
          { partition: 0, value: 'v7' }] })
        const after = again.length >= 6 ? again : [...again, ...await nextRecords(frames,
          2 + again.length, 6 - again.length)]
        expect(values(after)).toEqual(['v2', 'v3', 'v4', 'v5', 'v6', 'v7'])
        await producer.close()
        stream.close()
        expect((await frames.next()).done).toBe(true)
      } finally {
        await weir.close()
      }
    })
  })
})

describe('topic admin over REST', () => {
  it('creates (201), refuses a clash (409) creating nothing, describes, deletes (204) and '
    + 'answers an unknown topic 404', async () => {
    await withServer({}, async server => {
      const url = server.url
      const json = <T>(answer: Answer): T => JSON.parse(answer.body.toString('utf8')) as T
      const names = async (query = ''): Promise<string[]> =>
        json<Array<{ name: string }>>(await call(url, 'GET', `/v1/topics${query}`))
          .map(topic => topic.name).sort()

      const created = await callJson(url, 'POST', '/v1/topics', { topics: [
        { topic: 't1', partitions: 2, config: { retentionMs: 60_000 } }, { topic: 't2' }] })
      expect(created.status).toBe(201)
      expect(json<Array<{ name: string, partitions: number }>>(created)
        .map(t => [t.name, t.partitions])).toEqual([['t1', 2], ['t2', 1]])
      expect(await names()).toEqual(['t1', 't2'])

      for (const topics of [[{ topic: 't3' }, { topic: 't1', partitions: 4 }],
        [{ topic: 't4' }, { topic: 't4' }], [{ topic: 't5' }, { topic: '__consumer_offsets' }]]) {
        const clash = await callJson(url, 'POST', '/v1/topics', { topics })
        expect(errorOf(clash, 409).code).toBe('TOPIC_ALREADY_EXISTS')
      }
      expect(await names()).toEqual(['t1', 't2'])
      expect(server.transport.broker.describeTopic('t1').partitions).toBe(2)

      type Described = { name: string, partitions: number, config: { retentionMs?: number },
        partitionStates: Array<{ partition: number, logEndOffset: number }> }
      const described = json<Described[]>(await callJson(url, 'POST', '/v1/topics/describe',
        { topics: ['t1', 't2'] }))
      expect(described.map(d => [d.name, d.partitionStates.length])).toEqual([['t1', 2],
        ['t2', 1]])
      expect(described[0]!.config.retentionMs).toBe(60_000)
      const one = await call(url, 'GET', '/v1/topics/t1')
      expect(one.status).toBe(200)
      expect(json<Described>(one)).toEqual(described[0])
      const grown = await callJson(url, 'POST', '/v1/topics/t1/partitions', { count: 3 })
      expect(json<{ partitions: number }>(grown).partitions).toBe(3)
      expect(errorOf(await callJson(url, 'POST', '/v1/topics/t1/partitions', { count: 2 }), 400)
        .code).toBe('INVALID_PARTITIONS')

      // Deleting several checks them all first: one unknown name deletes none.
      const partly = await callJson(url, 'POST', '/v1/topics/delete', { topics: ['t2', 'nope'] })
      expect(errorOf(partly, 404).code).toBe('UNKNOWN_TOPIC')
      expect(await names()).toEqual(['t1', 't2'])
      const deleted = await call(url, 'DELETE', '/v1/topics/t2')
      expect(deleted.status).toBe(204)
      expect(deleted.body.length).toBe(0)
      for (const answer of [await call(url, 'GET', '/v1/topics/t2'),
        await call(url, 'DELETE', '/v1/topics/t2'),
        await callJson(url, 'POST', '/v1/topics/describe', { topics: ['t2'] }),
        await callJson(url, 'POST', '/v1/topics/t2/partitions', { count: 5 }),
        await callJson(url, 'POST', '/v1/topics/delete', { topics: ['t2'] })]) {
        expect(errorOf(answer, 404).code).toBe('UNKNOWN_TOPIC')
      }
      expect((await callJson(url, 'POST', '/v1/topics/delete', { topics: ['t1'] })).status)
        .toBe(204)
      expect(await names()).toEqual([])
      expect(await names('?internal=true')).toEqual(['__consumer_offsets', '__transaction_state'])
      expect(errorOf(await call(url, 'DELETE', '/v1/topics/__consumer_offsets'), 400).code)
        .toBe('INVALID_TOPIC_EXCEPTION')
    })
  })
})
