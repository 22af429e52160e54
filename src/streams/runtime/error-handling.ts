/**
 * What happens when a record cannot be processed (Kafka Streams' deserialization and processing
 * exception handlers, KIP-1033): `'fail'` stops the app with the error (the default: nothing is
 * skipped unless asked); `'skip'` logs the error and the record's origin and goes on;
 * `{ deadLetterTopic }` sends the record's original key and value to that topic — in the same
 * transaction as the rest under exactly-once — with the error in headers (`weir.error.code`,
 * `weir.error.message`, `weir.error.topic`, `weir.error.partition`, `weir.error.offset`,
 * `weir.error.stage`) and goes on.
 */
import { WeirError } from '../../errors.ts'
import type { Message } from '../../client/producer.ts'

export type ErrorHandling = 'fail' | 'skip' | { readonly deadLetterTopic: string }

export type ErrorStage = 'deserialization' | 'processing'

/** The record that failed, as read from its topic. */
export interface FailedRecord {
  readonly topic: string
  readonly partition: number
  /** -1 for a punctuation. */
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
}

export interface ErrorLogEntry {
  readonly stage: ErrorStage
  readonly taskId: string
  readonly record: FailedRecord
  readonly error: unknown
}

export interface ErrorOutcome {
  /** A record for the dead-letter topic, when that is the handling. */
  readonly deadLetter?: { readonly topic: string, readonly message: Message }
}

/**
 * Applies `handling` to a failure.
 * @throws WEIR_ERR_STREAMS_PROCESSING or the serde's error (handling 'fail')
 */
export function handleRecordError(handling: ErrorHandling, entry: ErrorLogEntry,
  log: (entry: ErrorLogEntry) => void): ErrorOutcome {
  const { record, error, stage } = entry
  if (handling === 'fail') {
    if (stage === 'deserialization' && WeirError.is(error)) throw error
    throw new WeirError('WEIR_ERR_STREAMS_PROCESSING', `Task ${entry.taskId} failed to process `
      + `${record.topic}/${record.partition} offset ${record.offset}: ${messageOf(error)}. Fix `
      + "the topology, or set processingErrors to 'skip' or { deadLetterTopic }.", { cause: error })
  }
  log(entry)
  if (handling === 'skip') return {}
  const code = WeirError.is(error) ? error.code : 'WEIR_ERR_STREAMS_PROCESSING'
  return { deadLetter: { topic: handling.deadLetterTopic, message: {
    key: record.key, value: record.value, timestamp: record.timestamp,
    headers: {
      'weir.error.code': code,
      'weir.error.message': messageOf(error),
      'weir.error.stage': stage,
      'weir.error.topic': record.topic,
      'weir.error.partition': String(record.partition),
      'weir.error.offset': String(record.offset),
    },
  } } }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
