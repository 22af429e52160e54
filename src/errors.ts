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
