/**
 * What the group handlers share: the decoded request as its schema's shape, Kafka's error code
 * for a failure, and the conversions between wire values and the coordinator's requests.
 *
 * Only WeirErrors become error codes: they are the coordinator's answers (UNKNOWN_MEMBER_ID,
 * ILLEGAL_GENERATION, INVALID_REQUEST for a bad field…). Anything else is a bug in Weir; it is
 * rethrown, and the connection closes it (kafka-connection.ts) instead of the listener hiding
 * it behind UNKNOWN_SERVER_ERROR.
 */
import { WeirError } from '../../errors.ts'
import { kafkaErrorCode } from './kafka-context.ts'

export const NO_ERROR = 0
/** Kafka's UNKNOWN_SERVER_ERROR, for a WeirError without a Kafka code (e.g. a closed broker). */
export const UNKNOWN_SERVER_ERROR = -1

/** The decoded body as the shape its schema guarantees (schema.ts reads exactly those fields). */
export function wire<T>(request: Record<string, unknown>): T {
  return request as unknown as T
}

/** Kafka's code for a coordinator error; other errors are bugs and propagate. */
export function groupErrorCode(error: unknown): number {
  if (!WeirError.is(error)) throw error
  return kafkaErrorCode(error)
}

/**
 * Runs a coordinator call and answers its result, or the error's code. Keeps every handler's
 * try/catch in one place.
 */
export async function settle<T>(call: () => Promise<T>):
Promise<{ errorCode: number, value?: T }> {
  try {
    return { errorCode: NO_ERROR, value: await call() }
  } catch (error) {
    return { errorCode: groupErrorCode(error) }
  }
}

/** A nullable wire string as an optional field (null: absent, as the coordinator takes it). */
export function optional(value: string | null | undefined): string | undefined {
  return value === null ? undefined : value
}

/**
 * A copy of bytes read from a request frame: the reader hands out views into the frame, and the
 * coordinator keeps metadata and assignments for the group's lifetime.
 */
export function copyBytes(bytes: Buffer): Buffer {
  return Buffer.from(bytes)
}
