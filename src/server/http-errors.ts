/**
 * How the server answers an error: an HTTP status chosen from the error's code, and the body
 * `{ "error": { "code", "message", "retriable" } }` that the remote client turns back into the same
 * `WeirError`. The client reads the code, not the status; the status is for humans, proxies and
 * curl: 400 the request is wrong, 401 no or bad token, 404 no such thing, 409 the request conflicts
 * with the broker's state, 413 too large, 503 try again, 500 a bug of the server.
 */
import { type ErrorCode, WeirError } from '../errors.ts'

const statusByCode: Partial<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  WEIR_ERR_SERVER_BODY_MALFORMED: 400,
  INVALID_TOPIC_EXCEPTION: 400,
  INVALID_PARTITIONS: 400,
  INVALID_CONFIG: 400,
  INVALID_SESSION_TIMEOUT: 400,
  INVALID_GROUP_ID: 400,
  INVALID_TRANSACTION_TIMEOUT: 400,
  INVALID_RECORD: 400,
  CORRUPT_MESSAGE: 400,
  UNSUPPORTED_COMPRESSION_TYPE: 400,
  WEIR_ERR_SERVER_UNAUTHORIZED: 401,
  UNKNOWN_TOPIC: 404,
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  GROUP_ID_NOT_FOUND: 404,
  TRANSACTIONAL_ID_NOT_FOUND: 404,
  WEIR_ERR_SERVER_NOT_FOUND: 404,
  MESSAGE_TOO_LARGE: 413,
  RECORD_LIST_TOO_LARGE: 413,
  WEIR_ERR_SERVER_BODY_TOO_LARGE: 413,
  WEIR_ERR_SERVER_INTERNAL: 500,
  WEIR_ERR_LOG_CORRUPT: 500,
  WEIR_ERR_LOG_OFFLINE: 500,
  WEIR_ERR_LOG_CLOSED: 503,
  WEIR_ERR_CLIENT_CLOSED: 503,
}

export function httpStatusOf(error: WeirError): number {
  return statusByCode[error.code] ?? (error.retriable ? 503 : 409)
}

export interface ErrorBody {
  readonly error: { readonly code: string, readonly message: string, readonly retriable: boolean }
}

export function errorBody(error: WeirError): ErrorBody {
  return { error: { code: error.code, message: error.message, retriable: error.retriable } }
}

/** fastify's own errors (body parsing, validation, limits) and anything else, as WeirErrors. */
export function asWeirError(error: unknown): WeirError {
  if (WeirError.is(error)) return error
  const fastifyError = error as { code?: unknown, statusCode?: unknown, validation?: unknown,
    message?: unknown }
  const message = typeof fastifyError.message === 'string' ? fastifyError.message : String(error)
  if (fastifyError.validation !== undefined) {
    return new WeirError('WEIR_ERR_SERVER_BODY_MALFORMED', `The request does not match the `
      + `endpoint's schema: ${message}. See the README's server API.`)
  }
  if (fastifyError.statusCode === 413) {
    return new WeirError('WEIR_ERR_SERVER_BODY_TOO_LARGE', `${message}: send a smaller request `
      + 'or raise the server\'s requestBytesMax (weir serve --max-request-bytes).')
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400
    && fastifyError.statusCode < 500) {
    return new WeirError('WEIR_ERR_SERVER_BODY_MALFORMED',
      `${message} (${String(fastifyError.code)}).`)
  }
  return new WeirError('WEIR_ERR_SERVER_INTERNAL', `The server failed: ${message}`,
    { cause: error })
}
