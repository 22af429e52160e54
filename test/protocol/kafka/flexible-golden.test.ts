/**
 * Goal: Weir's schemas of OffsetFetch v5–v7, TxnOffsetCommit v2–v3, DescribeTransactions v0,
 * ListTransactions v0 and DeleteGroups v0–v1 — several of them flexible (KIP-482), which
 * KafkaJS 2.2.4 cannot encode — read what a real client writes and write what it reads, byte
 * for byte.
 * Method: @platformatic/kafka 2.12.1's own protocol modules are the oracle (platformatic-oracle
 * .ts). For each version, fast-check generates values (strings with non-ASCII and long ones,
 * so compact lengths take two varint bytes; null and non-null nullable strings and arrays;
 * int64 across ±2^53; empty and long arrays; error codes among those the client knows):
 * - request: the body Weir writes equals, byte for byte, the body platformatic's createRequest
 *   writes for the same values, and Weir reads platformatic's body back to the values with
 *   nothing left over;
 * - response: platformatic's parseResponse reads the body Weir writes (what the listener
 *   sends) to the same values (its int64 are bigints), to the last byte, throwing its
 *   ResponseError exactly when an error code is non-zero;
 * - headers: the request and response header tagged-field flags platformatic's `api` passes
 *   to its connection match the flexibility of Weir's schema (header v2 / v1 exactly then).
 * DeleteGroups is also checked against KafkaJS 2.2.4 (it has v0–v1), and two flexible bodies
 * are pinned as hex so a change both sides would follow is still caught.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { schemaFor } from '../../../src/protocol/kafka/apis/index.ts'
import { numRuns } from '../../helpers/num-runs.ts'
import { kafkaJsDecode, kafkaJsRequest, readKafkaJsBody } from './kafkajs-oracle.ts'
import {
  errorCodes, headerFlags, type ParseResponse, parseWithPlatformatic, platformatic,
  readWeirBody, weirBody, withNumbers,
} from './platformatic-oracle.ts'

const runs = { numRuns: numRuns(100) }

// ---- Arbitraries -------------------------------------------------------------------------

/** Short strings of any code point or grapheme, and now and then one of 120–300 characters. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 120, maxLength: 300 }) },
)
const nullableText = fc.option(text, { nil: null, freq: 3 })
const int16 = fc.integer({ min: -0x8000, max: 0x7fff })
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff })
const int64 = fc.oneof(fc.maxSafeInteger(),
  fc.constantFrom(-1, 0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 32))
/** Error codes platformatic knows (it throws on one it does not), none more often than 0. */
const errorCode = fc.oneof({ weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(3, 15, 16, 22, 25, 47, 48, 51, 68, 69, 88, 105) })
/** Arrays of a few structs. */
const few = <T>(item: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(item, { maxLength: 4 })
/** Arrays of scalars, now and then past 127 elements (a two-byte compact count). */
const many = <T>(item: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.oneof(
  { weight: 5, arbitrary: fc.array(item, { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.array(item, { minLength: 127, maxLength: 140 }) })

// ---- The oracle, per API version ----------------------------------------------------------

/** One API version: Weir-shaped request and response values, and platformatic's view. */
interface GoldenCase<Req extends object, Res extends object> {
  readonly name: string
  readonly apiKey: number
  readonly version: number
  readonly flexible: boolean
  readonly module: { readonly api: object, readonly parseResponse: ParseResponse }
  readonly request: fc.Arbitrary<Req>
  /** The body platformatic's createRequest writes for `value`. */
  readonly platformaticRequest: (value: Req) => Buffer
  readonly response: fc.Arbitrary<Res>
  /** What platformatic's parseResponse must return for `value`, int64 as numbers. */
  readonly parsed?: (value: Res) => object
}

function golden<Req extends object, Res extends object>(c: GoldenCase<Req, Res>): void {
  const title = `${c.name} v${c.version} (key ${c.apiKey}, `
    + `${c.flexible ? 'flexible' : 'classic'})`
  describe(title, () => {
    it('is served, with the expected encoding; platformatic\'s header flags agree', () => {
      const schema = schemaFor(c.apiKey, c.version)
      expect(schema, `${title}: no Weir schema`).toBeDefined()
      expect(schema!.request.flexible).toBe(c.flexible)
      expect(schema!.response.flexible).toBe(c.flexible)
      expect(headerFlags(c.module.api), `${title}: platformatic's header tagged-field flags`)
        .toEqual({ apiKey: c.apiKey, apiVersion: c.version,
          requestHeaderTaggedFields: c.flexible, responseHeaderTaggedFields: c.flexible })
    })

    test.prop([c.request], runs)('request: Weir writes platformatic\'s bytes and reads them '
      + 'back exactly', value => {
      const ours = weirBody(c.apiKey, c.version, 'request', value)
      const theirs = c.platformaticRequest(value)
      expect(ours.toString('hex'), `${title}: Weir's request body vs platformatic's`)
        .toBe(theirs.toString('hex'))
      const read = readWeirBody(c.apiKey, c.version, 'request', theirs)
      expect(read.value, `${title}: Weir reading platformatic's request`).toEqual(value)
      expect(read.remaining).toBe(0)
    })

    test.prop([c.response], runs)('response: platformatic reads what Weir writes, to the last '
      + 'byte', value => {
      const body = weirBody(c.apiKey, c.version, 'response', value)
      const parsed = parseWithPlatformatic(c.module.parseResponse, c.apiKey, c.version, body)
      expect(parsed.remaining, `${title}: bytes platformatic left unread`).toBe(0)
      expect(withNumbers(parsed.response), `${title}: platformatic reading Weir's response`)
        .toEqual(c.parsed === undefined ? value : c.parsed(value))
      expect(parsed.threw, `${title}: a ResponseError exactly for non-zero error codes`)
        .toBe(errorCodes(value).some(code => code !== 0))
      // And back: Weir reads its own response to the same values.
      expect(readWeirBody(c.apiKey, c.version, 'response', body))
        .toEqual({ value, remaining: 0 })
    })
  })
}

const big = (value: number): bigint => BigInt(value)

// ---- OffsetFetch v5–v7 (key 9) -----------------------------------------------------------

interface OffsetFetchRequest {
  groupId: string
  topics: Array<{ name: string, partitionIndexes: number[] }> | null
  requireStable?: boolean
}
const offsetFetchRequest = (version: number): fc.Arbitrary<OffsetFetchRequest> =>
  fc.record({ groupId: text,
    topics: fc.option(few(fc.record({ name: text, partitionIndexes: many(int32) })),
      { nil: null, freq: 4 }),
    requireStable: fc.boolean() }).map(({ requireStable, ...value }) =>
    version >= 7 ? { ...value, requireStable } : value)

const offsetFetchResponse = fc.record({ throttleTimeMs: int32,
  topics: few(fc.record({ name: text, partitions: few(fc.record({ partitionIndex: int32,
    committedOffset: int64, committedLeaderEpoch: int32, metadata: nullableText,
    errorCode })) })),
  errorCode })

for (const [version, module] of [[5, platformatic.offsetFetchV5],
  [6, platformatic.offsetFetchV6], [7, platformatic.offsetFetchV7]] as const) {
  golden({ name: 'OffsetFetch', apiKey: 9, version, flexible: version >= 6, module,
    request: offsetFetchRequest(version),
    platformaticRequest: value => module.createRequest(
      [{ groupId: value.groupId, topics: value.topics }], value.requireStable ?? false).buffer,
    response: offsetFetchResponse,
    // platformatic's OffsetFetch result also has the v8+ `groups`, empty before v8.
    parsed: value => ({ ...value, groups: [] }) })
}

// ---- TxnOffsetCommit v2–v3 (key 28) ------------------------------------------------------

const txnOffsetCommitFields = fc.record({ transactionalId: text, groupId: text,
  producerId: int64, producerEpoch: int16, generationId: int32, memberId: text,
  groupInstanceId: nullableText,
  topics: few(fc.record({ name: text, partitions: few(fc.record({ partitionIndex: int32,
    committedOffset: int64, committedLeaderEpoch: int32,
    committedMetadata: nullableText })) })) })
type TxnOffsetCommitFields = typeof txnOffsetCommitFields extends fc.Arbitrary<infer T> ? T
  : never

const txnOffsetCommitResponse = fc.record({ throttleTimeMs: int32,
  topics: few(fc.record({ name: text,
    partitions: few(fc.record({ partitionIndex: int32, errorCode })) })) })

for (const [version, module] of [[2, platformatic.txnOffsetCommitV2],
  [3, platformatic.txnOffsetCommitV3]] as const) {
  golden({ name: 'TxnOffsetCommit', apiKey: 28, version, flexible: version >= 3, module,
    // v2 has no generation, member or instance id: Weir's v2 value leaves them out, and
    // platformatic's v2 createRequest ignores them.
    request: txnOffsetCommitFields.map((value): Partial<TxnOffsetCommitFields> => {
      if (version >= 3) return value
      const { generationId: _g, memberId: _m, groupInstanceId: _i, ...v2 } = value
      return v2
    }),
    platformaticRequest: value => {
      const v = value as TxnOffsetCommitFields
      return module.createRequest(v.transactionalId, v.groupId, big(v.producerId),
        v.producerEpoch, v.generationId ?? -1, v.memberId ?? '', v.groupInstanceId ?? null,
        v.topics.map(topic => ({ name: topic.name, partitions: topic.partitions.map(p =>
          ({ ...p, committedOffset: big(p.committedOffset) })) }))).buffer
    },
    response: txnOffsetCommitResponse })
}

// ---- DescribeTransactions v0 (key 65) and ListTransactions v0 (key 66) -------------------

golden({ name: 'DescribeTransactions', apiKey: 65, version: 0, flexible: true,
  module: platformatic.describeTransactionsV0,
  request: fc.record({ transactionalIds: many(text) }),
  platformaticRequest: value =>
    platformatic.describeTransactionsV0.createRequest(value.transactionalIds).buffer,
  response: fc.record({ throttleTimeMs: int32,
    transactionStates: few(fc.record({ errorCode, transactionalId: text,
      transactionState: text, transactionTimeoutMs: int32, transactionStartTimeMs: int64,
      producerId: int64, producerEpoch: int16,
      topics: few(fc.record({ topic: text, partitions: many(int32) })) })) }) })

/** platformatic rewrites these client-side aliases of state names (normalizeState). */
const aliases = new Set(['EMPTY', 'ONGOING', 'PREPARE_ABORT', 'COMMITTING', 'ABORTING',
  'COMPLETE_COMMIT', 'COMPLETE_ABORT'])
type StateFilters = Parameters<typeof platformatic.listTransactionsV0.createRequest>[0]

golden({ name: 'ListTransactions', apiKey: 66, version: 0, flexible: true,
  module: platformatic.listTransactionsV0,
  request: fc.record({ stateFilters: many(text.filter(s => !aliases.has(s))),
    producerIdFilters: many(int64) }),
  platformaticRequest: value => platformatic.listTransactionsV0.createRequest(
    value.stateFilters as StateFilters, value.producerIdFilters.map(big), -1n, null).buffer,
  response: fc.record({ throttleTimeMs: int32, errorCode, unknownStateFilters: many(text),
    transactionStates: few(fc.record({ transactionalId: text, producerId: int64,
      transactionState: text })) }) })

// ---- DeleteGroups v0–v1 (key 42) ---------------------------------------------------------

const deleteGroupsRequest = fc.record({ groupsNames: many(text) })
const deleteGroupsResponse = fc.record({ throttleTimeMs: int32,
  results: few(fc.record({ groupId: text, errorCode })) })

for (const [version, module] of [[0, platformatic.deleteGroupsV0],
  [1, platformatic.deleteGroupsV1]] as const) {
  golden({ name: 'DeleteGroups', apiKey: 42, version, flexible: false, module,
    request: deleteGroupsRequest,
    platformaticRequest: value => module.createRequest(value.groupsNames).buffer,
    response: deleteGroupsResponse })
}

describe('DeleteGroups v0–v1 against KafkaJS 2.2.4 too', () => {
  test.prop([deleteGroupsRequest, deleteGroupsResponse, fc.constantFrom(0, 1)], runs)(
    'KafkaJS requests read exactly; KafkaJS decodes our responses',
    async (request, response, version) => {
      const kafkaJs = kafkaJsRequest('deleteGroups', version, request.groupsNames)
      expect(kafkaJs.apiKey).toBe(42)
      expect(await readKafkaJsBody(kafkaJs)).toEqual(request)
      const decoded = await kafkaJsDecode('deleteGroups', version,
        weirBody(42, version, 'response', response))
      expect(decoded).toMatchObject({ results: response.results.map(r =>
        ({ groupId: r.groupId, errorCode: r.errorCode })) })
      // (KafkaJS's v1 decoder means to move it to clientSideThrottleTime, but reads a
      // `throttleTime` v0 never sets: throttleTimeMs is where it stays at both versions.)
      expect(decoded.throttleTimeMs).toBe(response.throttleTimeMs)
    })
})

// ---- Pinned bytes ------------------------------------------------------------------------

describe('golden bytes of flexible bodies', () => {
  it('TxnOffsetCommit v3 request and DescribeTransactions v0 response', () => {
    const request = { transactionalId: 'tx', groupId: 'g', producerId: 5, producerEpoch: 1,
      generationId: 3, memberId: 'm', groupInstanceId: null, topics: [{ name: 'a',
        partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1,
          committedMetadata: null }] }] }
    // Compact strings are length + 1; null is 0; every struct ends with its tagged fields (00).
    const hex = '03' + '7478' + '02' + '67' + '0000000000000005' + '0001' + '00000003'
      + '02' + '6d' + '00' + '02' + ('02' + '61' + '02' + ('00000000' + '000000000000002a'
        + 'ffffffff' + '00' + '00') + '00') + '00'
    expect(weirBody(28, 3, 'request', request).toString('hex')).toBe(hex)
    expect(platformatic.txnOffsetCommitV3.createRequest('tx', 'g', 5n, 1, 3, 'm', null,
      [{ name: 'a', partitions: [{ partitionIndex: 0, committedOffset: 42n,
        committedLeaderEpoch: -1, committedMetadata: null }] }]).buffer.toString('hex'))
      .toBe(hex)
    const response = { throttleTimeMs: 0, transactionStates: [{ errorCode: 0,
      transactionalId: 'tx', transactionState: 'Ongoing', transactionTimeoutMs: 60000,
      transactionStartTimeMs: 1_700_000_000_000, producerId: 5, producerEpoch: 1,
      topics: [{ topic: 'a', partitions: [0, 2] }] }] }
    expect(weirBody(65, 0, 'response', response).toString('hex')).toBe('00000000' + '02'
      + ('0000' + '037478' + '084f6e676f696e67' + '0000ea60' + '0000018bcfe56800'
        + '0000000000000005' + '0001' + '02' + ('0261' + '03' + '00000000' + '00000002' + '00')
        + '00') + '00')
  })
})
