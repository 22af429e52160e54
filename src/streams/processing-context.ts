/**
 * What operators see while a task pushes a record through its pipelines (Kafka Streams'
 * ProcessorContext): the task (its stores, sinks, punctuators) and the record being processed
 * (key, timestamp, origin). RxJS operators carry values only; the key and timestamp travel here.
 *
 * This works because a push is synchronous: `subject.next(value)` runs every synchronous operator
 * downstream before it returns, so the context set around it is the one every operator sees. An
 * operator that changes the key (`selectKey`) sets a new context around its own `next` and
 * restores the old one afterwards, so sibling branches keep the key they should see. A value that
 * arrives later (an asynchronous RxJS operator) finds no context and is refused with
 * WEIR_ERR_STREAMS_ASYNC_EMIT; `mapAsync` captures the context and restores it.
 */
import { WeirError } from '../errors.ts'
import type { TaskStore } from './runtime/task-store.ts'

/** The record being processed: its key (deserialized), time and where it came from. */
export interface RecordContext {
  readonly key: unknown
  /** Event time: the record's timestamp, ms since the epoch. */
  readonly timestamp: number
  readonly topic: string
  readonly partition: number
  /** -1 for values emitted by a punctuator. */
  readonly offset: number
  /** @internal The record's bytes as read, for a dead-letter topic. */
  readonly input?: { readonly key: Buffer | null, readonly value: Buffer | null }
}

export type PunctuationType = 'stream-time' | 'wall-clock'

export interface Punctuator {
  readonly type: PunctuationType
  readonly intervalMs: number
  /** Called with the stream time or wall-clock time that triggered it. */
  readonly callback: (timestampMs: number) => void
}

/** Where a sink sends: a topic and how its keys and values become bytes. */
export interface SinkTarget {
  readonly topic: string
  serializeKey(key: unknown): Buffer | null
  serializeValue(value: unknown): Buffer | null
}

/** The task an operator runs in (implemented by StreamTask). */
export interface OperatorHost {
  readonly taskId: string
  readonly partition: number
  /** Max event time the task has seen (Kafka's stream time); -1 before the first record. */
  readonly streamTimeMs: number
  store(name: string): TaskStore
  send(target: SinkTarget, key: unknown, value: unknown, timestamp: number): void
  schedule(punctuator: Punctuator): () => void
  /** Registers asynchronous work derived from the current record; commits wait for it. */
  track(work: Promise<unknown>): void
  /** Counts a record a windowed operator of `store` dropped as late (app.metrics()). */
  recordLate(store: string): void
}

let activeHost: OperatorHost | undefined
let activeRecord: RecordContext | undefined

/** Runs `work` with `host` as the task operators see (building pipelines, processing). */
export function withHost<T>(host: OperatorHost, work: () => T): T {
  const previous = activeHost
  activeHost = host
  try {
    return work()
  } finally {
    activeHost = previous
  }
}

/** Runs `work` with `record` as the current record; restores the previous one afterwards. */
export function withRecord<T>(record: RecordContext, work: () => T): T {
  const previous = activeRecord
  activeRecord = record
  try {
    return work()
  } finally {
    activeRecord = previous
  }
}

function asyncEmit(operator: string): WeirError {
  return new WeirError('WEIR_ERR_STREAMS_ASYNC_EMIT', `A value reached ${operator} outside the `
    + 'processing of a record: an asynchronous RxJS operator (delay, debounceTime, a mergeMap to '
    + 'a promise) is in the topology. Use mapAsync() for asynchronous steps and punctuators '
    + '(process()) for time.')
}

export function currentHost(operator: string): OperatorHost {
  if (activeHost === undefined) throw asyncEmit(operator)
  return activeHost
}

export function currentRecord(operator: string): RecordContext {
  if (activeRecord === undefined) throw asyncEmit(operator)
  return activeRecord
}

/** The current record, or undefined outside processing (for error reports). */
export function peekRecord(): RecordContext | undefined {
  return activeRecord
}
