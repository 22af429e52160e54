/**
 * Goal: WebSocket /v1/rpc, the remote client's data channel, keeps the promises of
 * src/server/routes/rpc-route.ts and proto/weir.proto beyond single frames (rpc-fuzz.test.ts):
 * answers come back by id as each call is ready (a produce overtakes a long poll, which a later
 * produce wakes); a call behind a frame that closed the connection with 1008 never runs; with a
 * token the upgrade is a 401 without it, and a client with a wrong token fails its sends with
 * WEIR_ERR_SERVER_UNAUTHORIZED; `close()` lets a call in flight finish and answers new calls
 * WEIR_ERR_SERVER_SHUTTING_DOWN before closing the connection with 1001; at most
 * `rpcInFlightMax` calls of one connection run at once, without deadlock. The client's side
 * (both data channels, a restart) is rpc-client.test.ts.
 *
 * Method: real servers on 127.0.0.1:0 over temp dirs, reached with a raw `ws` connection
 * (RpcConnection below: sends RpcRequest frames, logs answers by id in arrival order) and with
 * `Weir.connect`. Where a test needs to know a call is inside the server, or how many run at once,
 * it wraps the server's transport, the seam every route calls; waits are for conditions or
 * answers, never for time.
 */
import type http from 'node:http'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Weir } from '../../src/client/weir.ts'
import { WeirError } from '../../src/errors.ts'
import { decodeRecords, encodeBatch, forEachBatch } from '../../src/log/record-batch.ts'
import {
  decodeRpcResponse, encodeRpcRequest, type RpcCall, type RpcResult,
} from '../../src/protocol/weir-rpc.ts'
import { WeirServer } from '../../src/server/weir-server.ts'
import { until } from '../helpers/client-fixtures.ts'
import { parsePrometheus, sampled } from './prometheus-text.ts'
import { call, countCalls, withServer } from './server-fixtures.ts'

const TIMESTAMP = 1_700_000_000_000
const TOKEN = 'rpc token'

interface Closed {
  readonly code: number
  readonly reason: string
}

/** A raw /v1/rpc connection: sends calls by id; answers are kept by id and logged in order. */
class RpcConnection {
  /** Ids in the order their answers arrived; 'close' when the connection closed. */
  readonly log: Array<number | 'close'> = []
  private readonly answers = new Map<number, RpcResult>()
  private readonly waiting = new Map<number, () => void>()
  readonly closed: Promise<Closed>

  private constructor(readonly socket: WebSocket) {
    socket.binaryType = 'nodebuffer'
    socket.on('message', (data: Buffer) => {
      const { id, result } = decodeRpcResponse(data)
      expect(this.answers.has(id), `a second answer to ${id}`).toBe(false)
      this.answers.set(id, result)
      this.log.push(id)
      this.waiting.get(id)?.()
    })
    this.closed = new Promise(resolve => socket.once('close', (code, reason) => {
      this.log.push('close')
      for (const wake of this.waiting.values()) wake()
      resolve({ code, reason: reason.toString('utf8') })
    }))
  }

  static async open(server: WeirServer, token?: string): Promise<RpcConnection> {
    const socket = new WebSocket(rpcUrl(server),
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
    return new RpcConnection(socket)
  }

  send(id: number, call: RpcCall): void {
    this.socket.send(encodeRpcRequest(id, call))
  }

  /** The answer to `id`; fails if the connection closes first. */
  async answer(id: number): Promise<RpcResult> {
    if (!this.answers.has(id) && !this.log.includes('close')) {
      await new Promise<void>(resolve => this.waiting.set(id, resolve))
    }
    const result = this.answers.get(id)
    if (result === undefined) throw new Error(`the connection closed before answering ${id}`)
    return result
  }

  close(): void {
    this.socket.terminate()
  }
}

const rpcUrl = (server: WeirServer): string => `${server.url.replace(/^http/, 'ws')}/v1/rpc`

const produceCall = (topic: string, partition: number, values: readonly string[]): RpcCall =>
  ({ kind: 'produce', request: { acks: 'all', partitions: [{ topic, partition,
    batch: encodeBatch(values.map(value => ({ value: Buffer.from(value) })),
      { timestamp: TIMESTAMP }) }] } })

const fetchCall = (topic: string, partition: number, maxWaitMs: number): RpcCall =>
  ({ kind: 'fetch', request: { partitions: [{ topic, partition, offset: 0 }], maxWaitMs,
    minBytes: 1 } })

/** The values of a fetch answer's records. */
function fetchedValues(result: RpcResult): string[] {
  expect(result.kind).toBe('fetch')
  const values: string[] = []
  for (const r of (result as Extract<RpcResult, { kind: 'fetch' }>).results) {
    expect(r.error).toBeUndefined()
    forEachBatch(r.bytes, position => {
      for (const record of decodeRecords(r.bytes, position)) values.push(String(record.value))
    })
  }
  return values
}

function expectProduced(result: RpcResult, baseOffset: number): void {
  expect(result).toMatchObject({ kind: 'produce', results: [{ result: { baseOffset } }] })
}

describe('answers by id', () => {
  it('answers each call when ready: a produce overtakes a long poll sent before it, and a '
    + 'produce to the polled partition wakes the poll', async () => {
    await withServer({}, async server => {
      await server.transport.createTopics([{ topic: 'o', partitions: 2 }])
      const rpc = await RpcConnection.open(server)
      try {
        rpc.send(41, fetchCall('o', 0, 2000))
        rpc.send(42, produceCall('o', 1, ['elsewhere']))
        expectProduced(await rpc.answer(42), 0)
        expect(rpc.log).toEqual([42])
        rpc.send(43, produceCall('o', 0, ['wake']))
        expect(fetchedValues(await rpc.answer(41))).toEqual(['wake'])
        expectProduced(await rpc.answer(43), 0)
      } finally {
        rpc.close()
      }
    })
  })
})

describe('frames after a refusal', () => {
  it('runs no call that arrives behind a frame that closed the connection with 1008',
    async () => {
      await withServer({}, async server => {
        await server.transport.createTopics([{ topic: 'z' }])
        const rpc = await RpcConnection.open(server)
        try {
          // Both reach the server before the client answers its close, and ws emits both.
          rpc.socket.send(Uint8Array.of(0x08))
          rpc.send(1, produceCall('z', 0, ['behind']))
          expect(await rpc.closed).toEqual({ code: 1008,
            reason: 'WEIR_ERR_SERVER_BODY_MALFORMED' })
          // The server read both frames before the close completed; a round trip more for a
          // produce that ran to reach the log.
          await call(server.url, 'GET', '/health')
          expect(server.transport.broker.describeTopic('z').partitionStates[0]!.logEndOffset)
            .toBe(0)
          expect(rpc.log).toEqual(['close'])
        } finally {
          rpc.close()
        }
      })
    })
})

describe('token', () => {
  it('refuses the upgrade without the token (401) and takes it with the token', async () => {
    await withServer({ token: TOKEN }, async server => {
      await server.transport.createTopics([{ topic: 't' }])
      for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
        const socket = new WebSocket(rpcUrl(server), { headers })
        try {
          const refused = await new Promise<http.IncomingMessage | 'open'>(resolve => {
            socket.once('open', () => resolve('open'))
            socket.once('unexpected-response', (_request, response) => resolve(response))
          })
          if (refused === 'open') throw new Error('the rpc socket opened without the token')
          expect(refused.statusCode).toBe(401)
          // The server ends the refused upgrade's connection (else close() would never end).
          await new Promise(resolve => refused.socket.once('close', resolve))
        } finally {
          socket.on('error', () => undefined) // terminate() mid-handshake reports one
          socket.terminate()
        }
      }
      const rpc = await RpcConnection.open(server, TOKEN)
      try {
        rpc.send(1, produceCall('t', 0, ['x']))
        expectProduced(await rpc.answer(1), 0)
      } finally {
        rpc.close()
      }
    })
  })

  it('fails a client\'s sends and fetches with WEIR_ERR_SERVER_UNAUTHORIZED for a wrong token',
    async () => {
      await withServer({ token: TOKEN }, async server => {
        await server.transport.createTopics([{ topic: 't' }])
        const weir = await Weir.connect(server.url, { token: 'wrong', reconnectTimeoutMs: 0 })
        try {
          const unauthorized = (error: unknown): boolean =>
            WeirError.is(error, 'WEIR_ERR_SERVER_UNAUTHORIZED')
          // The default producer asks for a producer id over HTTP first; one that is not
          // idempotent sends its first batch at once, over /v1/rpc.
          for (const producer of [weir.producer(), weir.producer({ idempotent: false })]) {
            await expect(producer.send({ topic: 't', messages: [{ partition: 0, value: 'x' }] }))
              .rejects.toSatisfy(unauthorized)
          }
          await expect(weir.transport.fetch({ partitions: [{ topic: 't', partition: 0,
            offset: 0 }] })).rejects.toSatisfy(unauthorized)
          expect(server.transport.broker.describeTopic('t').partitionStates[0]!.logEndOffset)
            .toBe(0)
        } finally {
          await weir.close()
        }
      })
    })
})

describe('graceful close', () => {
  it('lets a long poll in flight answer, answers new calls WEIR_ERR_SERVER_SHUTTING_DOWN, then '
    + 'closes the connection with 1001', async () => {
    await withServer({}, async server => {
      await server.transport.createTopics([{ topic: 'g' }])
      const counts = countCalls(server)
      const rpc = await RpcConnection.open(server)
      try {
        rpc.send(1, fetchCall('g', 0, 1500))
        await until(() => counts.fetches === 1)
        const closing = server.close()
        // Once the close has begun (a turn or two after the call), a new call is refused.
        let id = 2
        let refusal: RpcResult
        for (;;) {
          rpc.send(id, fetchCall('g', 0, 0))
          refusal = await rpc.answer(id)
          if (refusal.kind === 'error') break
          id++
        }
        expect(refusal.kind === 'error' && refusal.error).toMatchObject(
          { code: 'WEIR_ERR_SERVER_SHUTTING_DOWN', retriable: true })
        expect(rpc.log).not.toContain(1)
        // The long poll waits out its time (the partition stays empty), then the close goes on.
        expect(fetchedValues(await rpc.answer(1))).toEqual([])
        expect(await rpc.closed).toEqual({ code: 1001, reason: '' })
        expect(rpc.log.slice(-2)).toEqual([1, 'close'])
        await closing
        const samples = parsePrometheus(server.metrics.registry.render())
        expect(sampled(samples, 'weir_rpc_calls_total', { call: 'fetch', status: '503' }))
          .toEqual([1])
      } finally {
        rpc.close()
      }
    })
  })
})

describe('rpcInFlightMax', () => {
  it('runs at most rpcInFlightMax calls of a connection at once and answers them all',
    async () => {
      await withServer({ limits: { rpcInFlightMax: 2 } }, async server => {
        await server.transport.createTopics([{ topic: 'l', partitions: 2 }])
        const counts = countCalls(server)
        const rpc = await RpcConnection.open(server)
        try {
          for (let id = 1; id <= 5; id++) rpc.send(id, fetchCall('l', 0, 1000))
          rpc.send(6, produceCall('l', 1, ['after']))
          expectProduced(await rpc.answer(6), 0)
          for (let id = 1; id <= 5; id++) expect(fetchedValues(await rpc.answer(id))).toEqual([])
          expect(counts.most).toBe(2)
          // Read in order, two at a time: the produce ran once four fetches had ended.
          expect(rpc.log.indexOf(6)).toBeGreaterThanOrEqual(4)
        } finally {
          rpc.close()
        }
      })
    })
})
