/**
 * Goal: no request body, however malformed, makes the server answer 5xx, crash, or write part of
 * a produce request (issue 6: "random and mutated request bodies to every endpoint: no 5xx from a
 * malformed body, no crash, no partial write; oversized bodies get 413"). Every refusal is a 4xx
 * with the JSON error body the remote client reads (a code from src/errors.ts); a produce request
 * that fails the server's pre-check (a damaged batch, too many records, an unknown topic or
 * partition, a partition named twice, too many partitions) writes nothing at all, and a batch the
 * broker refuses afterwards writes nothing for its partition; a body over `requestBytesMax` is a
 * 413 WEIR_ERR_SERVER_BODY_TOO_LARGE; a malformed WebSocket stream frame closes the stream with
 * 1008. After every request the server still answers /health.
 *
 * Method: one real server on 127.0.0.1:0 over a temp dir with small limits, requests with the
 * global fetch and `ws`. Seeds are valid bodies for every POST/PUT endpoint (body-seeds.ts;
 * produce bodies built with the real encoders); fast-check sends random bytes, random JSON values
 * and mutations of the seeds (body-mutations.ts), and produce requests with one planted defect
 * (produce-defects.ts). A mutation may leave a body valid, so a 2xx is allowed — except for
 * mutations that can never be valid (a JSON value of the wrong type, an extra field, a cut) — and
 * then a produce must be written whole: each partition's log end moves by exactly its batch's
 * record count and the stored records equal the sent ones. Log end offsets are read from the
 * server's own broker before and after each request; the server's 500 hook must stay silent.
 */
import { readFileSync } from 'node:fs'
import { fc, test } from '@fast-check/vitest'
import protobufjs from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { errorCodes } from '../../src/errors.ts'
import {
  batchDefect, decodeRecords, encodeBatch, forEachBatch, LOG_OVERHEAD_BYTES, type LogRecord,
  readBatchHeader,
} from '../../src/log/record-batch.ts'
import {
  decodeFetchResponse, decodeProduceRequest, decodeProduceResponse, decodeStreamFetchRequest,
  encodeProduceRequest,
} from '../../src/protocol/weir-proto.ts'
import { until } from '../helpers/client-fixtures.ts'
import { plain } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'
import {
  encodeWire, jsonMutationArb, mutateJson, mutateProto, protoMutationArb,
} from './body-mutations.ts'
import {
  A0_FROM_START, type Endpoint, ENDPOINTS, FETCH, FETCH_SEED, GROW, GROW_FROM_START, JSON_SEEDS,
  type JsonSeed, NESTED, PRODUCE, PRODUCE_SEED,
} from './body-seeds.ts'
import {
  BATCH_RECORDS_MAX, batchOf, defectArb, defective, entriesArb, expectedCode, lateDefect,
  type LateDefect, PARTITIONS, PRODUCE_PARTITIONS_MAX, TIMESTAMP, TOPICS,
} from './produce-defects.ts'
import {
  type Answer, call, errorOf, expectHealthy, JSON_TYPE, logEndOffsets, PROTOBUF,
  startTempServer, type TempServer,
} from './server-fixtures.ts'

const KiB = 1024
const LIMITS = { requestBytesMax: 64 * KiB, batchRecordsMax: BATCH_RECORDS_MAX,
  producePartitionsMax: PRODUCE_PARTITIONS_MAX }

let fixture: TempServer
const url = (): string => fixture.server.url

beforeAll(async () => {
  fixture = await startTempServer({ limits: LIMITS,
    // Long polls of mutated fetches end within 100 ms.
    broker: { limits: { fetchWaitMsMax: 100 } } })
  const transport = fixture.server.transport
  await transport.createTopics([...TOPICS, GROW])
  await transport.produce({ topic: 'a', partition: 0, acks: 'all',
    batch: encodeBatch([{ value: Buffer.from('first') }, { value: Buffer.from('second') }],
      { timestamp: TIMESTAMP }) })
  // A stable group with one member of protocol type 'consumer' (its session outlives the file).
  const join = await transport.joinGroup({ groupId: 'fz-stable', memberId: '', clientId: 'fz',
    sessionTimeoutMs: 120_000, rebalanceTimeoutMs: 120_000, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] })
  await transport.syncGroup({ groupId: 'fz-stable', generationId: join.generationId,
    memberId: join.memberId, assignments: [{ memberId: join.memberId,
      assignment: Buffer.alloc(0) }] })
})

afterAll(async () => {
  await fixture.dispose()
})

const key = (topic: string, partition: number): string => `${topic}/${partition}`

/** A record as compared between what was sent and what is stored (offsets differ). */
function content(record: LogRecord): Omit<ReturnType<typeof plain>, 'offset'> {
  const { offset: _offset, ...rest } = plain(record)
  return rest
}

/**
 * The `count` records stored in a partition from `offset`, once readable: under acks 0 and 1 the
 * answer may come before the batch is durable and below the high watermark.
 */
async function storedRecords(topic: string, partition: number, offset: number, count: number):
Promise<LogRecord[]> {
  const broker = fixture.server.transport.broker
  await until(() => broker.partition(topic, partition).log.highWatermark >= offset + count)
  const [result] = await fixture.server.transport.fetch({ partitions: [{ topic, partition, offset,
    maxBytes: 1024 * KiB }] })
  expect(result?.error).toBeUndefined()
  const records: LogRecord[] = []
  forEachBatch(result!.bytes, position => {
    for (const record of decodeRecords(result!.bytes, position)) {
      if (record.offset >= offset && record.offset < offset + count) records.push(record)
    }
  })
  return records
}

/**
 * After a 2xx produce: the request passed the pre-check (every batch one whole batch with a good
 * CRC and at most batchRecordsMax records: a damaged one must have been refused whole), every
 * batch the response accepted was appended whole at the old log end (exactly its records, in
 * order), every batch it refused wrote nothing, and no other partition moved.
 */
async function expectWholeWrites(body: Uint8Array, answer: Answer, before: Map<string, number>):
Promise<void> {
  const request = decodeProduceRequest(Buffer.from(body))
  for (const { batch } of request.partitions) {
    expect(batchDefect(batch, 0), 'a damaged batch passed the pre-check').toBeUndefined()
    expect(batch.length, 'bytes after the batch passed the pre-check')
      .toBe(LOG_OVERHEAD_BYTES + batch.readInt32BE(8))
    expect(readBatchHeader(batch).recordCount).toBeLessThanOrEqual(LIMITS.batchRecordsMax)
  }
  const results = decodeProduceResponse(answer.body)
  expect(results.map(r => key(r.topic, r.partition)))
    .toEqual(request.partitions.map(p => key(p.topic, p.partition)))
  const expected = new Map(before)
  for (const [i, result] of results.entries()) {
    if ('error' in result) continue
    const sent = request.partitions[i]!
    const records = decodeRecords(sent.batch)
    const end = before.get(key(sent.topic, sent.partition))!
    expect(result.result).toEqual({ baseOffset: end, lastOffset: end + records.length - 1,
      duplicate: false })
    expected.set(key(sent.topic, sent.partition), end + records.length)
    const stored = await storedRecords(sent.topic, sent.partition, end, records.length)
    expect(stored.map(content)).toEqual(records.map(content))
  }
  expect(logEndOffsets(fixture.server)).toEqual(expected)
}

/** The errors the server answered with 500 since `since` (a count of them). */
const internalErrorsSince = (since: number): unknown[] => fixture.internalErrors.slice(since)

/** Partitions that existed keep their end offsets; topics a valid mutation created are empty. */
function expectNothingWritten(before: Map<string, number>): void {
  for (const [name, end] of logEndOffsets(fixture.server)) {
    expect(end, `log end of ${name}`).toBe(before.get(name) ?? 0)
  }
}

/**
 * The answer to one fuzzed request: never 5xx; a refusal carries a stable code and wrote nothing;
 * a 2xx produce was written whole; the server answers /health afterwards.
 */
async function checkAnswer(endpoint: Endpoint, body: Uint8Array, answer: Answer,
  before: Map<string, number>): Promise<void> {
  const text = answer.body.toString('utf8').slice(0, 300)
  expect(answer.status, `${endpoint.method} ${endpoint.path} answered ${text}`).toBeLessThan(500)
  if (answer.status >= 300) {
    errorOf(answer)
    expectNothingWritten(before)
  } else if (endpoint === PRODUCE) {
    await expectWholeWrites(body, answer, before)
  } else {
    expectNothingWritten(before)
    if (endpoint === FETCH) decodeFetchResponse(answer.body)
  }
  await expectHealthy(url())
}

async function send(endpoint: Endpoint, body: Uint8Array | string, contentType?: string):
Promise<Answer> {
  const before = logEndOffsets(fixture.server)
  const internalErrors = fixture.internalErrors.length
  const answer = await call(url(), endpoint.method, endpoint.path, { body,
    ...contentType === undefined ? {} : { contentType } })
  expect(internalErrorsSince(internalErrors)).toEqual([])
  await checkAnswer(endpoint, typeof body === 'string' ? Buffer.from(body) : body, answer, before)
  return answer
}

describe('fuzzed request bodies', () => {
  const endpointArb = fc.constantFrom(...ENDPOINTS)
  const contentTypeArb = fc.constantFrom(JSON_TYPE, PROTOBUF, 'text/plain',
    'application/octet-stream', undefined)

  test.prop([endpointArb, fc.uint8Array({ maxLength: 256 }), contentTypeArb],
    { numRuns: numRuns(150) })(
    'random bytes to any POST/PUT endpoint get a 4xx with a stable code, never a 5xx',
    async (endpoint, bytes, contentType) => {
      await send(endpoint, bytes, contentType)
    })

  test.prop([endpointArb, fc.jsonValue({ maxDepth: 3 })], { numRuns: numRuns(150) })(
    'random JSON values to any POST/PUT endpoint get a 4xx with a stable code, never a 5xx',
    async (endpoint, value) => {
      await send(endpoint, JSON.stringify(value), JSON_TYPE)
    })

  test.prop([fc.constantFrom(...JSON_SEEDS), jsonMutationArb], { numRuns: numRuns(300) })(
    'a mutated valid JSON body (a field dropped, a wrong type, a boundary value, an extra '
    + 'field, truncated, bits flipped) gets a 4xx with a stable code or, still valid, a 2xx; '
    + 'never a 5xx; a wrong type, an extra field or a truncation is always a 400',
    async (seed, mutation) => {
      const answer = await send(seed, mutateJson(seed.body, mutation), JSON_TYPE)
      // Never valid: every field is typed (and never coerced), every object closed, and a
      // proper prefix of a JSON object is not JSON.
      if (mutation.kind === 'wrongType' || mutation.kind === 'extra'
        || mutation.kind === 'truncate') {
        expect(errorOf(answer, 400).code).toBe('WEIR_ERR_SERVER_BODY_MALFORMED')
      }
    })

  it('refuses a value of the wrong type rather than coercing it to the schema\'s type',
    async () => {
      for (const [path, body] of [
        ['/v1/topics/delete', { topics: [['a']] }],
        ['/v1/topics/grow/partitions', { count: '3' }],
        ['/v1/groups/offsets/commit', { groupId: 'fz-commit', generationId: -1, memberId: '',
          offsets: [{ topic: 'a', partition: null, offset: true }] }],
        ['/v1/offsets/list', { requests: { topic: 'a', partition: 0, spec: 'latest' } }],
      ] as const) {
        const answer = await send({ method: 'POST', path }, JSON.stringify(body), JSON_TYPE)
        expect(errorOf(answer, 400).code, path).toBe('WEIR_ERR_SERVER_BODY_MALFORMED')
      }
      expect(fixture.server.transport.broker.describeTopic('a').partitions).toBe(3)
    })

  test.prop([fc.constantFrom('produce' as const, 'fetch' as const), protoMutationArb],
    { numRuns: numRuns(300) })(
    'a mutated valid protobuf produce or fetch body gets a 4xx with a stable code or, still '
    + 'valid, a 2xx that wrote every accepted batch whole; never a 5xx',
    async (which, mutation) => {
      const body = which === 'produce' ? mutateProto(PRODUCE_SEED, NESTED.produce, mutation)
        : mutateProto(FETCH_SEED, NESTED.fetch, mutation)
      await send(which === 'produce' ? PRODUCE : FETCH, body, PROTOBUF)
    })
})

describe('a produce partition without a batch', () => {
  it('is refused 400 CORRUPT_MESSAGE, not 500: proto3 encoders leave an empty batch out',
    async () => {
      // ProduceRequest { acks: -1, partitions: [{ topic: 'a', partition: 0 }] }, no field 3.
      const body = encodeWire([{ field: 1, wireType: 0, payload: Uint8Array.of(1) },
        { field: 2, wireType: 2, payload: encodeWire([
          { field: 1, wireType: 2, payload: Buffer.from('a') },
          { field: 2, wireType: 0, payload: Uint8Array.of(0) }]) }])
      const before = logEndOffsets(fixture.server)
      const internalErrors = fixture.internalErrors.length
      const answer = await call(url(), 'POST', '/v1/produce', { body, contentType: PROTOBUF })
      expect(internalErrorsSince(internalErrors)).toEqual([])
      expect(errorOf(answer, 400).code).toBe('CORRUPT_MESSAGE')
      expect(logEndOffsets(fixture.server)).toEqual(before)
    })
})

describe('no partial write', () => {
  const acksArb = fc.constantFrom('all' as const, 1 as const, 0 as const)

  test.prop([entriesArb(1), defectArb, acksArb], { numRuns: numRuns(200) })(
    'a produce request with one bad batch among good ones is refused whole: no log end moves',
    async (entries, defect, acks) => {
      const body = encodeProduceRequest({ acks, partitions: defective(entries, defect) })
      const before = logEndOffsets(fixture.server)
      const internalErrors = fixture.internalErrors.length
      const answer = await call(url(), 'POST', '/v1/produce', { body, contentType: PROTOBUF })
      expect(internalErrorsSince(internalErrors)).toEqual([])
      expect(errorOf(answer).code).toBe(expectedCode[defect.kind])
      expect(logEndOffsets(fixture.server)).toEqual(before)
      await expectHealthy(url())
    })

  test.prop([entriesArb(2), fc.nat(), fc.constantFrom<LateDefect>('control', 'compression',
    'lastOffsetDelta', 'maxTimestamp'), fc.integer({ min: 2, max: 7 })],
  { numRuns: numRuns(100) })(
    'a batch the broker refuses after the pre-check writes nothing; the request\'s other '
    + 'batches are written whole',
    async (entries, target, defect, amount) => {
      const partitions = entries.map(({ partition, records }, i) => {
        const batch = batchOf(records)
        return { ...PARTITIONS[partition]!, batch: i === target % entries.length
          ? lateDefect(batch, defect, amount) : batch }
      })
      const body = encodeProduceRequest({ acks: 'all', partitions })
      const before = logEndOffsets(fixture.server)
      const internalErrors = fixture.internalErrors.length
      const answer = await call(url(), 'POST', '/v1/produce', { body, contentType: PROTOBUF })
      expect(internalErrorsSince(internalErrors)).toEqual([])
      expect(answer.status).toBe(200)
      const results = decodeProduceResponse(answer.body)
      expect(results.map(r => 'error' in r)).toEqual(entries.map((_, i) =>
        i === target % entries.length))
      await expectWholeWrites(body, answer, before)
    })
})

/** A body `over` bytes past the limit that would be valid but for its size. */
function oversized(endpoint: Endpoint, over: number): Buffer {
  const size = LIMITS.requestBytesMax + over
  if (endpoint === PRODUCE) {
    const body = (length: number): Uint8Array => encodeProduceRequest({ acks: 'all',
      partitions: [{ topic: 'c', partition: 1, batch: encodeBatch([{ value:
        Buffer.alloc(length, 7) }], { timestamp: TIMESTAMP }) }] })
    return Buffer.from(body(size))
  }
  if (endpoint === FETCH) {
    // An unknown field (number 15) carrying padding: protobuf skips it, so only size is wrong.
    const padding = protobufjs.Writer.create().uint32((15 << 3) | 2).bytes(Buffer.alloc(size))
      .finish()
    return Buffer.concat([FETCH_SEED, padding])
  }
  const seed = JSON.stringify((endpoint as JsonSeed).body)
  return Buffer.from(seed + ' '.repeat(Math.max(0, size - seed.length)))
}

/** `bytes` as a stream of 16 KiB chunks: sent chunked, without a content length. */
function chunked(bytes: Buffer): ReadableStream<Uint8Array> {
  let at = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close()
        return
      }
      controller.enqueue(bytes.subarray(at, at + 16 * KiB))
      at += 16 * KiB
    },
  })
}

describe('oversized bodies', () => {
  test.prop([fc.constantFrom(...ENDPOINTS), fc.integer({ min: 1, max: 64 * KiB }), fc.boolean()],
    { numRuns: numRuns(60) })(
    'a body over requestBytesMax gets 413 WEIR_ERR_SERVER_BODY_TOO_LARGE on every POST/PUT '
    + 'endpoint, with or without a content length, and writes nothing',
    async (endpoint, over, streamed) => {
      const bytes = oversized(endpoint, over)
      expect(bytes.length).toBeGreaterThan(LIMITS.requestBytesMax)
      const before = logEndOffsets(fixture.server)
      const answer = await call(url(), endpoint.method, endpoint.path, {
        body: streamed ? chunked(bytes) : bytes,
        contentType: endpoint === PRODUCE || endpoint === FETCH ? PROTOBUF : JSON_TYPE })
      expect(errorOf(answer, 413).code).toBe('WEIR_ERR_SERVER_BODY_TOO_LARGE')
      expect(logEndOffsets(fixture.server)).toEqual(before)
      await expectHealthy(url())
    })

  it('takes a produce body of exactly requestBytesMax and refuses one a byte longer', async () => {
    const body = (length: number): Uint8Array => encodeProduceRequest({ acks: 'all',
      partitions: [{ topic: 'c', partition: 0, batch: encodeBatch([{ value:
        Buffer.alloc(length, 1) }], { timestamp: TIMESTAMP }) }] })
    let length = LIMITS.requestBytesMax - 256
    while (body(length + 1).length <= LIMITS.requestBytesMax) length++
    const largest = body(length)
    expect(largest.length).toBeLessThanOrEqual(LIMITS.requestBytesMax)
    expect(largest.length).toBeGreaterThan(LIMITS.requestBytesMax - 2)
    const before = logEndOffsets(fixture.server)
    const accepted = await call(url(), 'POST', '/v1/produce', { body: largest,
      contentType: PROTOBUF })
    expect(accepted.status).toBe(200)
    await expectWholeWrites(largest, accepted, before)
    const refused = await call(url(), 'POST', '/v1/produce', { body: body(length + 1),
      contentType: PROTOBUF })
    expect(errorOf(refused, 413).code).toBe('WEIR_ERR_SERVER_BODY_TOO_LARGE')
    expect(logEndOffsets(fixture.server).get('c/0')).toBe(before.get('c/0')! + 1)
  })
})

const schema = protobufjs.parse(readFileSync(new URL('../../proto/weir.proto', import.meta.url),
  'utf8')).root.lookupType('weir.v1.StreamFetchRequest')

/** Frames that are valid protobuf with a value out of range. */
const OUT_OF_RANGE: readonly Uint8Array[] = [
  { partitions: [{ topic: '', partition: 0, offset: 0 }] },
  { partitions: [{ topic: 'a', partition: -1, offset: 0 }] },
  { partitions: [{ topic: 'a', partition: 0, offset: -5 }] },
  { partitions: [{ topic: 'a', partition: 0, offset: 2 ** 60 }] },
  { partitions: [{ topic: 'a', partition: 0, offset: 0 }], isolationLevel: 2 },
  { partitions: [], isolationLevel: -1 },
].map(message => schema.encode(message).finish())

interface Frame {
  readonly bytes: Uint8Array | string
}

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.string({ maxLength: 64 }).map(text => ({ bytes: text })),
  fc.uint8Array({ maxLength: 64 }).map(bytes => ({ bytes })),
  protoMutationArb.map(mutation => ({ bytes: mutateProto(A0_FROM_START, NESTED.fetch, mutation) })),
  fc.constantFrom(...OUT_OF_RANGE).map(bytes => ({ bytes })),
)

/** Whether the server's decoder refuses the frame (it decodes a Buffer, as `ws` delivers it). */
function malformed(frame: Frame): boolean {
  if (typeof frame.bytes === 'string') return true
  try {
    decodeStreamFetchRequest(Buffer.from(frame.bytes))
    return false
  } catch {
    return true
  }
}

interface StreamEnd {
  readonly code: number
  readonly reason: string
}

describe('streaming fetch frames', () => {
  test.prop([frameArb, fc.boolean()], { numRuns: numRuns(60) })(
    'a malformed stream frame closes the stream with 1008 WEIR_ERR_SERVER_BODY_MALFORMED; '
    + 'any other subscription streams or closes with a Weir error code; the server stays up',
    async (frame, subscribedFirst) => {
      const internalErrors = fixture.internalErrors.length
      const socket = new WebSocket(`${url().replace(/^http/, 'ws')}/v1/fetch/stream`)
      try {
        socket.binaryType = 'nodebuffer'
        const undecodable: unknown[] = []
        const ended = new Promise<StreamEnd>(resolve => socket.once('close',
          (code, reason) => resolve({ code, reason: reason.toString('utf8') })))
        const streamed = new Promise<'streamed'>(resolve => socket.on('message', (data: Buffer) => {
          try {
            const results = decodeFetchResponse(data)
            if (results.some(r => r.topic === 'a' && r.partition === 0 && r.bytes.length > 0)) {
              resolve('streamed')
            }
          } catch (error) {
            undecodable.push(error)
          }
        }))
        await new Promise((resolve, reject) => {
          socket.once('open', resolve)
          socket.once('error', reject)
        })
        // A stream already following a partition (one that stays empty: no frames) or a new one.
        if (subscribedFirst) socket.send(GROW_FROM_START)
        socket.send(frame.bytes, { binary: typeof frame.bytes !== 'string' })
        // Then a valid subscription to a/0, which holds records: a stream still open streams them.
        socket.send(A0_FROM_START)
        const outcome = await Promise.race([ended, streamed])
        if (malformed(frame)) {
          expect(outcome).toEqual({ code: 1008, reason: 'WEIR_ERR_SERVER_BODY_MALFORMED' })
        } else if (outcome !== 'streamed') {
          expect([1008, 1011]).toContain(outcome.code)
          expect(errorCodes).toContain(outcome.reason)
        }
        expect(undecodable).toEqual([])
        expect(internalErrorsSince(internalErrors)).toEqual([])
        await expectHealthy(url())
      } finally {
        socket.terminate()
      }
    })
})
