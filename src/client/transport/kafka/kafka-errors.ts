/**
 * Kafka's numeric error codes → WeirErrors, for answers from a Kafka cluster. The table is the
 * inverse of errors.ts's `kafkaErrorCode`, with the choices where several Weir codes share one
 * Kafka code made here; a code Weir has no name for is UNKNOWN_SERVER_ERROR with its number.
 */
import { type ErrorCode, errorCodeInfo, WeirError } from '../../../errors.ts'

const chosen: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [3, 'UNKNOWN_TOPIC_OR_PARTITION'],
  // INVALID_PRODUCER_EPOCH: how brokers before KIP-588 (and classic Produce) say "fenced".
  [47, 'PRODUCER_FENCED'],
  [56, 'WEIR_ERR_LOG_OFFLINE'],
])

/** What some codes mean for the caller, in Weir's words for the same conditions. */
const hints: ReadonlyMap<ErrorCode, string> = new Map<ErrorCode, string>([
  ['PRODUCER_FENCED', 'this producer was fenced by a newer one with the same transactional id'],
  ['ILLEGAL_GENERATION', 'the member is of an older generation of the group; rejoin'],
  ['UNKNOWN_MEMBER_ID', 'the group does not know this member (its session expired); rejoin'],
  ['REBALANCE_IN_PROGRESS', 'the group is rebalancing; rejoin'],
  ['OUT_OF_ORDER_SEQUENCE', 'a batch skipped sequence numbers'],
])

const byKafkaCode = new Map<number, ErrorCode>()
for (const [code, info] of Object.entries(errorCodeInfo) as Array<[ErrorCode, typeof
  errorCodeInfo[ErrorCode]]>) {
  if (info.kafkaErrorCode !== undefined && !byKafkaCode.has(info.kafkaErrorCode)) {
    byKafkaCode.set(info.kafkaErrorCode, code)
  }
}
for (const [kafkaCode, code] of chosen) byKafkaCode.set(kafkaCode, code)

/** The WeirError for Kafka error `kafkaCode` met doing `what`; undefined for 0 (no error). */
export function kafkaError(kafkaCode: number, what: string): WeirError | undefined {
  if (kafkaCode === 0) return undefined
  const code = byKafkaCode.get(kafkaCode)
  if (code === undefined) {
    return new WeirError('UNKNOWN_SERVER_ERROR', `The Kafka cluster answered ${what} with error `
      + `code ${kafkaCode}, which Weir does not know.`)
  }
  const hint = hints.get(code)
  return new WeirError(code, `The Kafka cluster answered ${what} with ${code} (${kafkaCode})`
    + `${hint === undefined ? '' : `: ${hint}`}.`)
}

/** Throws the WeirError for a non-zero Kafka error code. */
export function throwIfError(kafkaCode: number, what: string): void {
  const error = kafkaError(kafkaCode, what)
  if (error !== undefined) throw error
}
