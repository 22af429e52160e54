/**
 * Every error Weir reports on purpose is a `WeirError` with a stable `code`. Codes named by Kafka
 * keep Kafka's name (and carry Kafka's numeric code for the wire protocol); Weir's own are
 * `WEIR_ERR_<AREA>_<WHAT>`. Codes are never renamed or reused; docs/errors.md documents each one
 * and test/errors.test.ts checks the two lists against each other.
 *
 * `retriable` says whether the same request may succeed if sent again unchanged.
 */

export const errorCodes = [
  'OFFSET_OUT_OF_RANGE',
  'CORRUPT_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'INVALID_CONFIG',
  'WEIR_ERR_LOG_CORRUPT',
  'WEIR_ERR_LOG_CLOSED',
  'WEIR_ERR_LOG_OFFLINE',
  'WEIR_ERR_LOG_COMPACTION_MAP_FULL',
  'UNKNOWN_TOPIC',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'TOPIC_ALREADY_EXISTS',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_PARTITIONS',
  'OUT_OF_ORDER_SEQUENCE',
  'PRODUCER_FENCED',
  'UNKNOWN_PRODUCER_ID',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'INVALID_SESSION_TIMEOUT',
  'INCONSISTENT_GROUP_PROTOCOL',
  'INVALID_GROUP_ID',
  'GROUP_ID_NOT_FOUND',
  'NON_EMPTY_GROUP',
  'FENCED_INSTANCE_ID',
  'GROUP_MAX_SIZE_REACHED',
  'REQUEST_TIMED_OUT',
  'INVALID_REQUEST',
  'WEIR_ERR_CLIENT_CLOSED',
  'WEIR_ERR_CLIENT_STATE',
  'WEIR_ERR_PRODUCER_BUFFER_FULL',
  'INVALID_TXN_STATE',
  'TRANSACTION_TIMED_OUT',
  'CONCURRENT_TRANSACTIONS',
  'INVALID_TRANSACTION_TIMEOUT',
  'INVALID_PRODUCER_ID_MAPPING',
  'TRANSACTIONAL_ID_NOT_FOUND',
  'UNSTABLE_OFFSET_COMMIT',
  'WEIR_ERR_TRANSACTION_ABORTABLE',
  'WEIR_ERR_STORE_IO',
  'WEIR_ERR_SERDE_FAILED',
  'WEIR_ERR_STREAMS_TOPOLOGY',
  'WEIR_ERR_STREAMS_COPARTITION',
  'WEIR_ERR_STREAMS_ASYNC_EMIT',
  'WEIR_ERR_STREAMS_TIMESTAMP',
  'WEIR_ERR_STREAMS_PROCESSING',
  'WEIR_ERR_STREAMS_STATE',
  'NETWORK_EXCEPTION',
  'WEIR_ERR_SERVER_UNAUTHORIZED',
  'WEIR_ERR_SERVER_BODY_MALFORMED',
  'WEIR_ERR_SERVER_BODY_TOO_LARGE',
  'WEIR_ERR_SERVER_NOT_FOUND',
  'WEIR_ERR_SERVER_BUSY',
  'WEIR_ERR_SERVER_SHUTTING_DOWN',
  'WEIR_ERR_SERVER_INTERNAL',
  'WRONG_EXPECTED_VERSION',
  'WEIR_ERR_ES_DEFINITION',
  'WEIR_ERR_ES_REQUEST',
  'WEIR_ERR_ES_REJECTED',
  'WEIR_ERR_KAFKA_MALFORMED',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'UNSUPPORTED_VERSION',
  'UNKNOWN_SERVER_ERROR',
] as const

export type ErrorCode = (typeof errorCodes)[number]

interface ErrorCodeInfo {
  readonly retriable: boolean
  /** Kafka's numeric error code for the same condition, when Kafka has one. */
  readonly kafkaErrorCode?: number
}

export const errorCodeInfo: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  OFFSET_OUT_OF_RANGE: { retriable: false, kafkaErrorCode: 1 },
  CORRUPT_MESSAGE: { retriable: true, kafkaErrorCode: 2 },
  MESSAGE_TOO_LARGE: { retriable: false, kafkaErrorCode: 10 },
  RECORD_LIST_TOO_LARGE: { retriable: false, kafkaErrorCode: 18 },
  INVALID_RECORD: { retriable: false, kafkaErrorCode: 87 },
  UNSUPPORTED_COMPRESSION_TYPE: { retriable: false, kafkaErrorCode: 76 },
  INVALID_CONFIG: { retriable: false, kafkaErrorCode: 40 },
  WEIR_ERR_LOG_CORRUPT: { retriable: false, kafkaErrorCode: 56 },
  WEIR_ERR_LOG_CLOSED: { retriable: false },
  WEIR_ERR_LOG_OFFLINE: { retriable: false, kafkaErrorCode: 56 },
  WEIR_ERR_LOG_COMPACTION_MAP_FULL: { retriable: false },
  UNKNOWN_TOPIC: { retriable: false, kafkaErrorCode: 3 },
  UNKNOWN_TOPIC_OR_PARTITION: { retriable: false, kafkaErrorCode: 3 },
  TOPIC_ALREADY_EXISTS: { retriable: false, kafkaErrorCode: 36 },
  INVALID_TOPIC_EXCEPTION: { retriable: false, kafkaErrorCode: 17 },
  INVALID_PARTITIONS: { retriable: false, kafkaErrorCode: 37 },
  OUT_OF_ORDER_SEQUENCE: { retriable: false, kafkaErrorCode: 45 },
  PRODUCER_FENCED: { retriable: false, kafkaErrorCode: 90 },
  UNKNOWN_PRODUCER_ID: { retriable: false, kafkaErrorCode: 59 },
  UNKNOWN_MEMBER_ID: { retriable: false, kafkaErrorCode: 25 },
  ILLEGAL_GENERATION: { retriable: false, kafkaErrorCode: 22 },
  REBALANCE_IN_PROGRESS: { retriable: true, kafkaErrorCode: 27 },
  INVALID_SESSION_TIMEOUT: { retriable: false, kafkaErrorCode: 26 },
  INCONSISTENT_GROUP_PROTOCOL: { retriable: false, kafkaErrorCode: 23 },
  INVALID_GROUP_ID: { retriable: false, kafkaErrorCode: 24 },
  GROUP_ID_NOT_FOUND: { retriable: false, kafkaErrorCode: 69 },
  NON_EMPTY_GROUP: { retriable: false, kafkaErrorCode: 68 },
  FENCED_INSTANCE_ID: { retriable: false, kafkaErrorCode: 82 },
  GROUP_MAX_SIZE_REACHED: { retriable: false, kafkaErrorCode: 81 },
  REQUEST_TIMED_OUT: { retriable: true, kafkaErrorCode: 7 },
  INVALID_REQUEST: { retriable: false, kafkaErrorCode: 42 },
  WEIR_ERR_CLIENT_CLOSED: { retriable: false },
  WEIR_ERR_CLIENT_STATE: { retriable: false },
  WEIR_ERR_PRODUCER_BUFFER_FULL: { retriable: true },
  INVALID_TXN_STATE: { retriable: false, kafkaErrorCode: 48 },
  TRANSACTION_TIMED_OUT: { retriable: false, kafkaErrorCode: 92 },
  CONCURRENT_TRANSACTIONS: { retriable: true, kafkaErrorCode: 51 },
  INVALID_TRANSACTION_TIMEOUT: { retriable: false, kafkaErrorCode: 50 },
  INVALID_PRODUCER_ID_MAPPING: { retriable: false, kafkaErrorCode: 49 },
  TRANSACTIONAL_ID_NOT_FOUND: { retriable: false, kafkaErrorCode: 105 },
  UNSTABLE_OFFSET_COMMIT: { retriable: true, kafkaErrorCode: 88 },
  WEIR_ERR_TRANSACTION_ABORTABLE: { retriable: false },
  WEIR_ERR_STORE_IO: { retriable: false },
  WEIR_ERR_SERDE_FAILED: { retriable: false },
  WEIR_ERR_STREAMS_TOPOLOGY: { retriable: false },
  WEIR_ERR_STREAMS_COPARTITION: { retriable: false },
  WEIR_ERR_STREAMS_ASYNC_EMIT: { retriable: false },
  WEIR_ERR_STREAMS_TIMESTAMP: { retriable: false },
  WEIR_ERR_STREAMS_PROCESSING: { retriable: false },
  WEIR_ERR_STREAMS_STATE: { retriable: false },
  NETWORK_EXCEPTION: { retriable: true, kafkaErrorCode: 13 },
  WEIR_ERR_SERVER_UNAUTHORIZED: { retriable: false },
  WEIR_ERR_SERVER_BODY_MALFORMED: { retriable: false },
  WEIR_ERR_SERVER_BODY_TOO_LARGE: { retriable: false },
  WEIR_ERR_SERVER_NOT_FOUND: { retriable: false },
  WEIR_ERR_SERVER_BUSY: { retriable: true },
  WEIR_ERR_SERVER_SHUTTING_DOWN: { retriable: true },
  WEIR_ERR_SERVER_INTERNAL: { retriable: false },
  WRONG_EXPECTED_VERSION: { retriable: false },
  WEIR_ERR_ES_DEFINITION: { retriable: false },
  WEIR_ERR_ES_REQUEST: { retriable: false },
  WEIR_ERR_ES_REJECTED: { retriable: false },
  WEIR_ERR_KAFKA_MALFORMED: { retriable: false },
  // Kafka cluster conditions, met only through the Kafka transport (Weir.kafka).
  LEADER_NOT_AVAILABLE: { retriable: true, kafkaErrorCode: 5 },
  NOT_LEADER_OR_FOLLOWER: { retriable: true, kafkaErrorCode: 6 },
  COORDINATOR_LOAD_IN_PROGRESS: { retriable: true, kafkaErrorCode: 14 },
  COORDINATOR_NOT_AVAILABLE: { retriable: true, kafkaErrorCode: 15 },
  NOT_COORDINATOR: { retriable: true, kafkaErrorCode: 16 },
  UNSUPPORTED_VERSION: { retriable: false, kafkaErrorCode: 35 },
  UNKNOWN_SERVER_ERROR: { retriable: false, kafkaErrorCode: -1 },
}

const weirErrorBrand = Symbol.for('weir.error')

export class WeirError extends Error {
  override readonly name = 'WeirError'
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly kafkaErrorCode: number | undefined
  readonly [weirErrorBrand] = true

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.retriable = errorCodeInfo[code].retriable
    this.kafkaErrorCode = errorCodeInfo[code].kafkaErrorCode
  }

  /** Recognises a WeirError even across copies of the module (brand, not `instanceof`). */
  static is(error: unknown, code?: ErrorCode): error is WeirError {
    if (typeof error !== 'object' || error === null) return false
    if ((error as { [weirErrorBrand]?: unknown })[weirErrorBrand] !== true) return false
    return code === undefined || (error as WeirError).code === code
  }
}
