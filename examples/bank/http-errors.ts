/**
 * How the bank answers an error: a status and the body `{ code, message, rejection? }`. Clients
 * read the code; the status is for humans and curl. Weir's codes keep their meaning
 * (docs/errors.md): a rejection by the account aggregate is `WEIR_ERR_ES_REJECTED` (422, with
 * the aggregate's `rejection`), a body or path that fails its route's schema is
 * `WEIR_ERR_SERVER_BODY_MALFORMED` (400), an unknown endpoint `WEIR_ERR_SERVER_NOT_FOUND` (404).
 * The bank adds two codes of its own for ids its read models do not hold.
 */
import type { FastifyError, FastifyInstance } from 'fastify'
import { CommandRejectedError, type ErrorCode, WeirError } from '../../src/index.ts'

export type BankErrorCode = ErrorCode | 'BANK_ERR_ACCOUNT_NOT_FOUND'
  | 'BANK_ERR_TRANSFER_NOT_FOUND'

export interface ErrorBody {
  readonly code: BankErrorCode
  readonly message: string
  /** The aggregate's reason, for WEIR_ERR_ES_REJECTED. */
  readonly rejection?: string
}

/** The schema of every error body (fastify serializes responses by schema). */
export const errorBodySchema = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' },
    rejection: { type: 'string' } },
  required: ['code', 'message'],
} as const

const statusByCode: Partial<Record<BankErrorCode, number>> = {
  WEIR_ERR_SERVER_BODY_MALFORMED: 400,
  WEIR_ERR_SERVER_NOT_FOUND: 404,
  BANK_ERR_ACCOUNT_NOT_FOUND: 404,
  BANK_ERR_TRANSFER_NOT_FOUND: 404,
  WEIR_ERR_SERVER_BODY_TOO_LARGE: 413,
  WRONG_EXPECTED_VERSION: 409,
  WEIR_ERR_ES_REJECTED: 422,
  WEIR_ERR_SERVER_INTERNAL: 500,
  WEIR_ERR_CLIENT_CLOSED: 503,
}

/** A 404 for an id a read model does not hold (yet: read models lag the writer). */
export function notFound(code: 'BANK_ERR_ACCOUNT_NOT_FOUND' | 'BANK_ERR_TRANSFER_NOT_FOUND',
  message: string): { status: number, body: ErrorBody } {
  return { status: 404, body: { code, message } }
}

/** Any error a route threw, as a status and body. */
export function errorResponse(error: unknown): { status: number, body: ErrorBody } {
  if (error instanceof CommandRejectedError) {
    return { status: 422, body: { code: error.code, message: error.message,
      rejection: String(error.rejection) } }
  }
  if (WeirError.is(error)) {
    const status = statusByCode[error.code] ?? (error.retriable ? 503 : 500)
    return { status, body: { code: error.code, message: error.message } }
  }
  const fastifyError = error as Partial<FastifyError>
  const message = typeof fastifyError.message === 'string' ? fastifyError.message : String(error)
  if (fastifyError.validation !== undefined) {
    return { status: 400, body: { code: 'WEIR_ERR_SERVER_BODY_MALFORMED', message: `The request `
      + `does not match the endpoint's schema: ${message}. See examples/bank/routes.ts.` } }
  }
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { code: status === 413 ? 'WEIR_ERR_SERVER_BODY_TOO_LARGE'
      : 'WEIR_ERR_SERVER_BODY_MALFORMED', message: `${message} (${String(fastifyError.code)}).` } }
  }
  return { status: 500, body: { code: 'WEIR_ERR_SERVER_INTERNAL',
    message: `The bank failed: ${message}` } }
}

/** Installs the error and not-found handlers; `internal` hears of every 500 (a log). */
export function installErrorHandlers(app: FastifyInstance, internal: (error: unknown) => void):
void {
  app.setErrorHandler(async (error, _request, reply) => {
    const { status, body } = errorResponse(error)
    if (status === 500) internal(error)
    return reply.code(status).send(body)
  })
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send({
    code: 'WEIR_ERR_SERVER_NOT_FOUND', message: `No endpoint ${request.method} `
      + `${request.url.split('?')[0]}; see examples/bank/routes.ts.` } satisfies ErrorBody))
}
