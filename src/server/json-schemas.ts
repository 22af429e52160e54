/**
 * JSON schemas of the server's JSON request bodies. fastify validates every body against its
 * route's schema before the handler runs, so a malformed body is a 400
 * (WEIR_ERR_SERVER_BODY_MALFORMED) naming the bad field and never reaches the broker. Arrays are
 * bounded so a body cannot ask for unbounded work; `additionalProperties: false` rejects typos;
 * values are never coerced to the schema's type (a "1" is not an integer, ["a"] not a string).
 */

type Schema = Record<string, unknown>

const ARRAY_ITEMS_MAX = 10_000

const object = (properties: Record<string, Schema>, required: readonly string[] = []): Schema =>
  ({ type: 'object', properties, required, additionalProperties: false })
const array = (items: Schema, maxItems = ARRAY_ITEMS_MAX): Schema =>
  ({ type: 'array', items, maxItems })
const string = (maxLength = 1_024): Schema => ({ type: 'string', maxLength })
const nonEmptyString = (maxLength = 1_024): Schema => ({ type: 'string', minLength: 1, maxLength })
const integer = (minimum = 0, maximum = Number.MAX_SAFE_INTEGER): Schema =>
  ({ type: 'integer', minimum, maximum })
const base64 = (maxLength = 1_048_576): Schema =>
  ({ type: 'string', maxLength, pattern: '^[A-Za-z0-9+/]*={0,2}$' })
const boolean: Schema = { type: 'boolean' }

export const topicNameSchema: Schema = { type: 'string', minLength: 1, maxLength: 249,
  pattern: '^[a-zA-Z0-9._-]+$' }
const partition = integer(0, 1_000_000)
const topicPartition = object({ topic: topicNameSchema, partition }, ['topic', 'partition'])
const groupId = nonEmptyString(255)
const transactionalId = nonEmptyString(255)
const generationId = integer(-1, 2 ** 31 - 1)
const producerId = integer(0)
const producerEpoch = integer(0, 32_767)
const isolationLevel: Schema = { type: 'string', enum: ['read_committed', 'read_uncommitted'] }

const topicConfig = object({
  retentionMs: integer(-1), retentionBytes: integer(-1),
  cleanupPolicy: { type: 'string', enum: ['delete', 'compact'] },
  flush: { anyOf: [{ type: 'string', enum: ['always', 'never'] },
    object({ intervalMs: integer(1) }, ['intervalMs'])] },
  recordBytesMax: integer(1), batchBytesMax: integer(1), segmentBytesMax: integer(1),
  segmentMs: integer(1), deleteRetentionMs: integer(0),
})

export const createTopicsBody = object({
  topics: array(object({ topic: topicNameSchema, partitions: integer(1, 1_000_000),
    config: topicConfig }, ['topic']), 1_000),
}, ['topics'])

export const topicsBody = object({ topics: array(topicNameSchema, 1_000) }, ['topics'])

export const createPartitionsBody = object({ count: integer(1, 1_000_000) }, ['count'])

export const listOffsetsBody = object({
  requests: array(object({ topic: topicNameSchema, partition,
    spec: { anyOf: [{ type: 'string', enum: ['earliest', 'latest'] },
      object({ timestamp: integer(-1) }, ['timestamp'])] },
    isolationLevel }, ['topic', 'partition', 'spec'])),
}, ['requests'])

export const initProducerIdBody = object({ transactionalId,
  transactionTimeoutMs: integer(1, 2 ** 31 - 1) })

const transactional = { transactionalId, producerId, producerEpoch }
const transactionalRequired = ['transactionalId', 'producerId', 'producerEpoch']

export const addPartitionsToTxnBody = object({ ...transactional,
  partitions: array(topicPartition) }, [...transactionalRequired, 'partitions'])

export const addOffsetsToTxnBody = object({ ...transactional, groupId },
  [...transactionalRequired, 'groupId'])

export const endTxnBody = object({ ...transactional, commit: boolean, keepEpoch: boolean },
  [...transactionalRequired, 'commit'])

export const transactionalIdsBody = object({ transactionalIds: array(transactionalId, 1_000) },
  ['transactionalIds'])

const offsetCommitEntry = object({ topic: topicNameSchema, partition, offset: integer(0),
  metadata: string(4_096) }, ['topic', 'partition', 'offset'])

const member = { groupId, generationId, memberId: string(255),
  groupInstanceId: nonEmptyString(255) }

export const txnOffsetCommitBody = object({ ...transactional, ...member,
  offsets: array(offsetCommitEntry) },
[...transactionalRequired, 'groupId', 'generationId', 'memberId', 'offsets'])

export const joinGroupBody = object({ groupId, memberId: string(255),
  groupInstanceId: nonEmptyString(255), clientId: string(255),
  sessionTimeoutMs: integer(1, 2 ** 31 - 1), rebalanceTimeoutMs: integer(1, 2 ** 31 - 1),
  protocolType: nonEmptyString(255),
  protocols: array(object({ name: nonEmptyString(255), metadata: base64() },
    ['name', 'metadata']), 100),
}, ['groupId', 'memberId', 'clientId', 'sessionTimeoutMs', 'rebalanceTimeoutMs', 'protocolType',
  'protocols'])

export const syncGroupBody = object({ ...member,
  assignments: array(object({ memberId: string(255), assignment: base64() },
    ['memberId', 'assignment']), 10_000),
}, ['groupId', 'generationId', 'memberId', 'assignments'])

export const heartbeatBody = object(member, ['groupId', 'generationId', 'memberId'])

export const leaveGroupBody = object({ groupId,
  members: array(object({ memberId: string(255), groupInstanceId: nonEmptyString(255) }), 10_000),
}, ['groupId', 'members'])

export const commitOffsetsBody = object({ ...member, offsets: array(offsetCommitEntry) },
  ['groupId', 'generationId', 'memberId', 'offsets'])

export const fetchOffsetsBody = object({ groupId, partitions: array(topicPartition),
  requireStable: boolean }, ['groupId'])

export const resetOffsetsBody = object({
  offsets: array(object({ topic: topicNameSchema, partition, offset: integer(0) },
    ['topic', 'partition', 'offset'])),
}, ['offsets'])

export const groupIdsBody = object({ groupIds: array(groupId, 1_000) }, ['groupIds'])

export const groupParams = object({ groupId }, ['groupId'])
export const topicParams = object({ topic: topicNameSchema }, ['topic'])

export const lagQuery = object({ isolationLevel, topics: string(16_384) })
/** Query values are strings (values are never coerced: see weir-server.ts). */
export const listTopicsQuery = object({ internal: { type: 'string', enum: ['true', 'false'] } })
