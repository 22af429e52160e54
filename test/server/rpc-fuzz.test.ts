/**
 * Goal: no frame on WebSocket /v1/rpc, however malformed, makes the server answer a 5xx-class
 * error, crash, or write part of a produce call (proto/weir.proto, src/server/routes/rpc-route.ts).
 * A frame that is not an RpcRequest (random bytes, a text frame, a cut envelope) closes the
 * connection with 1008 WEIR_ERR_SERVER_BODY_MALFORMED; any other frame is answered with a
 * response carrying its id: an error frame with a stable code below 500 for a malformed or
 * refused call (the connection stays open), or the call's result. A produce call is written whole
 * or not at all: each accepted partition's log end moves by exactly its batch's record count, every
 * other partition stays put; a produce with one defect the server's pre-check finds is answered
 * with that defect's code and writes nothing.
 *
 * Method: one real server on 127.0.0.1:0 over a temp dir with the small limits of fuzz.test.ts,
 * one `ws` connection reused across cases (reopened after a 1008). fast-check sends random bytes
 * and text, valid produce and fetch calls (batches built as in produce-defects.ts), mutations of
 * valid RpcRequest frames (body-mutations.ts: of the envelope, and of the call inside a good
 * envelope, from the seeds of body-seeds.ts), and produce calls with one planted defect
 * (produce-defects.ts). The expected outcome comes from decoding the frame as the server does
 * (decodeRpcRequest); log end offsets are read from the server's own broker before and after
 * each frame; the server's 500 hook must stay silent and /health must answer after every case.
 */
import { fc, test } from '@fast-check/vitest'
import protobufjs from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { errorCodes, type WeirError } from '../../src/errors.ts'
import { batchDefect, encodeBatch, readBatchHeader } from '../../src/log/record-batch.ts'
import {
  decodeFetchRequest, decodeProduceRequest, type ProducePartitionResult,
  type ProduceRequestMessage,
} from '../../src/protocol/weir-proto.ts'
import {
  decodeRpcRequest, decodeRpcResponse, encodeRpcRequest, RPC_ID_MAX, type RpcRequestFrame,
  type RpcResult,
} from '../../src/protocol/weir-rpc.ts'
import { httpStatusOf } from '../../src/server/http-errors.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { encodeWire, mutateProto, protoMutationArb } from './body-mutations.ts'
import { FETCH_SEED, NESTED, PRODUCE_SEED } from './body-seeds.ts'
import {
  BATCH_RECORDS_MAX, batchOf, defectArb, defective, entriesArb, expectedCode, PARTITIONS,
  PRODUCE_PARTITIONS_MAX, TIMESTAMP, TOPICS,
} from './produce-defects.ts'
import {
  expectHealthy, logEndOffsets, startTempServer, type TempServer,
} from './server-fixtures.ts'

const LIMITS = { requestBytesMax: 64 * 1024, batchRecordsMax: BATCH_RECORDS_MAX,
  producePartitionsMax: PRODUCE_PARTITIONS_MAX }
const MALFORMED = 'WEIR_ERR_SERVER_BODY_MALFORMED'

let fixture: TempServer

type Event = { kind: 'frame', data: Buffer } | { kind: 'close', code: number, reason: string }

/** One /v1/rpc connection whose frames and close are taken one at a time, in order. */
class Connection {
  private readonly events: Event[] = []
  private waiting: ((event: Event) => void) | undefined

  private constructor(readonly socket: WebSocket) {
    socket.binaryType = 'nodebuffer'
    socket.on('message', (data: Buffer) => this.push({ kind: 'frame', data }))
    socket.once('close', (code, reason) =>
      this.push({ kind: 'close', code, reason: reason.toString('utf8') }))
  }

  static async open(): Promise<Connection> {
    const socket = new WebSocket(`${fixture.server.url.replace(/^http/, 'ws')}/v1/rpc`)
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
    return new Connection(socket)
  }

  private push(event: Event): void {
    const waiting = this.waiting
    this.waiting = undefined
    if (waiting === undefined) this.events.push(event)
    else waiting(event)
  }

  get closed(): boolean {
    return this.socket.readyState !== WebSocket.OPEN
  }

  /** Sends `bytes` (a string as a text frame) and returns the next event. */
  exchange(bytes: Uint8Array | string): Promise<Event> {
    this.socket.send(bytes, { binary: typeof bytes !== 'string' })
    const event = this.events.shift()
    if (event !== undefined) return Promise.resolve(event)
    return new Promise(resolve => { this.waiting = resolve })
  }
}

let connection: Connection | undefined

/** The shared connection, reopened when the last case closed it. */
async function rpc(): Promise<Connection> {
  if (connection === undefined || connection.closed) connection = await Connection.open()
  return connection
}

beforeAll(async () => {
  fixture = await startTempServer({ limits: LIMITS,
    // Long polls of mutated fetches end within 100 ms.
    broker: { limits: { fetchWaitMsMax: 100 } } })
  await fixture.server.transport.createTopics(TOPICS)
  await fixture.server.transport.produce({ topic: 'a', partition: 0, acks: 'all',
    batch: encodeBatch([{ value: Buffer.from('first') }, { value: Buffer.from('second') }],
      { timestamp: TIMESTAMP }) })
})

afterAll(async () => {
  connection?.socket.terminate()
  await fixture.dispose()
})

const key = (p: { topic: string, partition: number }): string => `${p.topic}/${p.partition}`

/** A refusal the client can read: a known code, never a server fault (HTTP 5xx-class 500). */
function expectRefusal(error: WeirError, context: string): void {
  expect(errorCodes, context).toContain(error.code)
  expect(error.code, `${context}: ${error.message}`).not.toBe('WEIR_ERR_SERVER_INTERNAL')
  expect(httpStatusOf(error), `${context}: ${error.code} ${error.message}`).toBeLessThan(500)
}

/** Every partition keeps its end; a topic that appeared since `before` is empty. */
function expectEnds(before: Map<string, number>): void {
  for (const [name, end] of logEndOffsets(fixture.server)) {
    expect(end, `log end of ${name}`).toBe(before.get(name) ?? 0)
  }
}

/**
 * After a produce result: every batch passed the pre-check rightly (one whole batch, good CRC, at
 * most batchRecordsMax records), each accepted one was appended whole at the old log end, each
 * refused one wrote nothing, and no other partition moved.
 */
function expectWholeWrites(request: ProduceRequestMessage,
  results: readonly ProducePartitionResult[], before: Map<string, number>): void {
  expect(results.map(key)).toEqual(request.partitions.map(key))
  const expected = new Map(before)
  for (const [i, result] of results.entries()) {
    const { batch } = request.partitions[i]!
    expect(batchDefect(batch, 0), 'a damaged batch passed the pre-check').toBeUndefined()
    expect(batch.length, 'bytes after the batch passed the pre-check')
      .toBe(12 + batch.readInt32BE(8))
    const { recordCount } = readBatchHeader(batch, 0)
    expect(recordCount).toBeLessThanOrEqual(LIMITS.batchRecordsMax)
    if ('error' in result) {
      expectRefusal(result.error, `produce to ${key(result)}`)
      continue
    }
    const end = before.get(key(result)) ?? 0
    expect(result.result).toEqual({ baseOffset: end, lastOffset: end + recordCount - 1,
      duplicate: false })
    expected.set(key(result), end + recordCount)
  }
  expectEnds(expected)
}

/** Checks the answer to a frame that decoded (`frame`, as the server decodes it). */
function checkResult(frame: RpcRequestFrame, result: RpcResult, before: Map<string, number>):
void {
  if ('error' in frame) {
    expect(result.kind === 'error' && result.error.code).toBe(frame.error.code)
  }
  if (result.kind === 'error') {
    expectRefusal(result.error, 'error frame')
    expectEnds(before)
  } else if ('call' in frame) {
    expect(result.kind).toBe(frame.call.kind)
    if (result.kind === 'produce') {
      expectWholeWrites(frame.call.request as ProduceRequestMessage, result.results, before)
    } else {
      for (const r of result.results) {
        if (r.error !== undefined) expectRefusal(r.error, `fetch of ${key(r)}`)
      }
      expectEnds(before)
    }
  }
}

/** How the server must take `bytes`: closing with 1008, or answering the decoded frame. */
function expectation(bytes: Uint8Array | string): RpcRequestFrame | 'close' {
  if (typeof bytes === 'string') return 'close'
  try {
    return decodeRpcRequest(Buffer.from(bytes))
  } catch {
    return 'close'
  }
}

/** Sends one frame on the shared connection and checks everything the goal promises. */
async function sendFrame(bytes: Uint8Array | string): Promise<RpcResult | undefined> {
  const before = logEndOffsets(fixture.server)
  const internalErrors = fixture.internalErrors.length
  const expected = expectation(bytes)
  const event = await (await rpc()).exchange(bytes)
  expect(fixture.internalErrors.slice(internalErrors)).toEqual([])
  let result: RpcResult | undefined
  if (expected === 'close') {
    expect(event).toEqual({ kind: 'close', code: 1008, reason: MALFORMED })
    expectEnds(before)
  } else {
    expect(event.kind, JSON.stringify(event)).toBe('frame')
    const response = decodeRpcResponse((event as { data: Buffer }).data)
    expect(response.id).toBe(expected.id)
    result = response.result
    checkResult(expected, result, before)
  }
  await expectHealthy(fixture.server.url)
  return result
}

const idArb = fc.integer({ min: 0, max: RPC_ID_MAX })
const varint = (value: number): Uint8Array => protobufjs.Writer.create().uint32(value).finish()

/** An RpcRequest with `id` around call bytes as they are (field 2 produce, 3 fetch). */
const envelope = (id: number, which: 'produce' | 'fetch', call: Uint8Array): Uint8Array =>
  encodeWire([{ field: 1, wireType: 0, payload: varint(id) },
    { field: which === 'produce' ? 2 : 3, wireType: 2, payload: call }])

const RPC_SEEDS = [
  encodeRpcRequest(7, { kind: 'produce', request: decodeProduceRequest(PRODUCE_SEED) }),
  encodeRpcRequest(RPC_ID_MAX, { kind: 'fetch', request: decodeFetchRequest(FETCH_SEED) }),
]

const acksArb = fc.constantFrom('all' as const, 1 as const, 0 as const)

const frameArb: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 256 }),
  fc.tuple(idArb, entriesArb(1), acksArb).map(([id, entries, acks]) => encodeRpcRequest(id,
    { kind: 'produce', request: { acks, partitions: entries.map(({ partition, records }) =>
      ({ ...PARTITIONS[partition]!, batch: batchOf(records) })) } })),
  fc.tuple(idArb, fc.nat(PARTITIONS.length - 1), fc.nat(3)).map(([id, partition, offset]) =>
    encodeRpcRequest(id, { kind: 'fetch', request: { partitions: [
      { ...PARTITIONS[partition]!, offset }], maxWaitMs: 5 } })),
  // The envelope mutated, one level into its call.
  fc.tuple(fc.constantFrom(...RPC_SEEDS), protoMutationArb).map(([seed, mutation]) =>
    mutateProto(seed, new Set([2, 3]), mutation)),
  // A good envelope around a mutated call.
  fc.tuple(idArb, fc.constantFrom('produce' as const, 'fetch' as const), protoMutationArb)
    .map(([id, which, mutation]) => envelope(id, which, which === 'produce'
      ? mutateProto(PRODUCE_SEED, NESTED.produce, mutation)
      : mutateProto(FETCH_SEED, NESTED.fetch, mutation))),
)

describe('fuzzed rpc frames', () => {
  test.prop([frameArb], { numRuns: numRuns(1000) })(
    'every frame (random bytes or text, valid calls, mutated RpcRequests) either closes the '
    + 'connection with 1008 or is answered with its id; an error frame never has a 5xx-class '
    + 'code; a produce writes all of its accepted partitions whole or nothing',
    async bytes => {
      await sendFrame(bytes)
    })

  test.prop([entriesArb(1), defectArb, acksArb, idArb], { numRuns: numRuns(300) })(
    'a produce call with one planted defect gets an error frame with that defect\'s code and '
    + 'writes nothing; the connection stays open and answers the next call',
    async (entries, defect, acks, id) => {
      const refused = await sendFrame(encodeRpcRequest(id,
        { kind: 'produce', request: { acks, partitions: defective(entries, defect) } }))
      expect(refused?.kind === 'error' && refused.error.code).toBe(expectedCode[defect.kind])
      const next = (id + 1) % (RPC_ID_MAX + 1)
      const fetched = await sendFrame(encodeRpcRequest(next, { kind: 'fetch',
        request: { partitions: [{ topic: 'a', partition: 0, offset: 0 }] } }))
      expect(fetched?.kind).toBe('fetch')
    })
})

/** RpcRequest bytes from a plain object (protobufjs' field names), values unchecked. */
const rpcRequest = protobufjs.parse(`syntax = "proto3";
  message P { string topic = 1; int32 partition = 2; bytes batch = 3; }
  message PR { sint32 acks = 1; repeated P partitions = 2; }
  message F { string topic = 1; int32 partition = 2; int64 offset = 3; }
  message FR { repeated F partitions = 1; int32 isolation_level = 2; int32 max_wait_ms = 3;
    int32 min_bytes = 4; }
  message R { uint32 id = 1; oneof call { PR produce = 2; FR fetch = 3; } }`)
  .root.lookupType('R')
const raw = (message: object): Uint8Array => rpcRequest.encode(message).finish()

describe('malformed calls and frames', () => {
  const batch = batchOf([{ key: null, value: Uint8Array.of(1) }])
  const a0 = { topic: 'a', partition: 0 }

  it('answers a well-framed but malformed call with an error frame of its id and keeps the '
    + 'connection; closes it with 1008 for a text frame or bytes that are no RpcRequest',
  async () => {
    for (const [id, message] of [
      [1, {}],
      [2, { produce: { acks: 7, partitions: [{ ...a0, batch }] } }],
      [3, { produce: { acks: -1, partitions: [{ ...a0, partition: -1, batch }] } }],
      [4, { produce: { acks: -1, partitions: [{ ...a0, topic: '', batch }] } }],
      [5, { fetch: { partitions: [{ ...a0, offset: -5 }] } }],
      [6, { fetch: { partitions: [a0], isolationLevel: 2 } }],
      [7, { fetch: { partitions: [a0], maxWaitMs: -1 } }],
    ] as const) {
      const before = logEndOffsets(fixture.server)
      const result = await sendFrame(raw({ id, ...message }))
      expect(result?.kind === 'error' && result.error.code, JSON.stringify(message))
        .toBe(MALFORMED)
      expect(logEndOffsets(fixture.server)).toEqual(before)
    }
    const open = await rpc()
    expect((await sendFrame(raw({ id: 8, fetch: { partitions: [a0] } })))?.kind).toBe('fetch')
    expect(open.closed).toBe(false)
    for (const bytes of ['{"id":1}', '', Uint8Array.of(0x0a, 0xff), Uint8Array.of(0x08)]) {
      expect(expectation(bytes)).toBe('close')
      const connection = await rpc()
      await sendFrame(bytes)
      expect(connection.closed).toBe(true)
    }
  })
})
