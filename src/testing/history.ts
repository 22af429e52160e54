/**
 * A Jepsen-style history recorder (reliability.md §1 "H-hist"): every client operation is an
 * `invoke` event, later completed by exactly one of
 * - `ok`: acknowledged (a send landed, a poll returned, a txn committed);
 * - `fail`: definitely not applied (a refused send, an aborted txn);
 * - `info`: unknown outcome (timeout, lost connection, ambiguous error): it may have applied.
 *
 * Operations of the queue/txn workload (jepsen.tests.kafka): `send` one value to a key, `poll`
 * (what was read, per key, as offset/value pairs), `txn` (send and poll micro-ops, committed by
 * `ok`, aborted by `fail`), and `assign` / `subscribe` markers that say a consumer's position
 * may jump. A "key" is the unit offsets belong to: normally one topic-partition
 * (e.g. `'orders/0'`), written with a record key that lands there.
 *
 * Invariants: events are appended in call order and numbered by `index`; a process has at most
 * one operation in flight (as in Jepsen: a process is one single-threaded client; after an `info`
 * a test should continue under a new process id, since that client's state is unknown); every
 * handle completes once. The history is plain data, so `JSON.stringify(history)` is stable and
 * deterministic for a deterministic test.
 *
 * Deliberately no clock: the order of events is the index, and realtime checks are not made.
 */
import { assert } from '../util/assert.ts'
import { WeirError } from '../errors.ts'

export type ProcessId = number | string

/** One record a poll returned for a key. */
export interface PolledRecord<V> {
  readonly offset: number
  readonly value: V
}

/** What a poll returned for one key, in the order returned. */
export interface PolledKey<K, V> {
  readonly key: K
  readonly records: readonly PolledRecord<V>[]
}

/** A send inside an operation; `offset` is filled in when the operation is `ok`. */
export interface SendMicroOp<K, V> {
  readonly f: 'send'
  readonly key: K
  readonly value: V
  readonly offset?: number
}

/** A poll inside an operation; `reads` is filled in when the operation is `ok`. */
export interface PollMicroOp<K, V> {
  readonly f: 'poll'
  readonly reads?: readonly PolledKey<K, V>[]
}

export type MicroOp<K, V> = SendMicroOp<K, V> | PollMicroOp<K, V>

/** What a test asks a process to do. */
export type Operation<K, V> =
  | { readonly f: 'send', readonly key: K, readonly value: V }
  | { readonly f: 'poll' }
  | { readonly f: 'txn', readonly ops: readonly MicroOpRequest<K, V>[] }
  | { readonly f: 'assign' | 'subscribe', readonly keys: readonly K[] }

export type MicroOpRequest<K, V> =
  | { readonly f: 'send', readonly key: K, readonly value: V }
  | { readonly f: 'poll' }

/** What `ok` takes for each operation. */
export type OperationResult<K, V, O extends Operation<K, V>> =
  O extends { f: 'send' } ? { readonly offset: number }
    : O extends { f: 'poll' } ? readonly PolledKey<K, V>[]
      : O extends { f: 'txn' } ? readonly TxnMicroResult<K, V>[]
        : void

/** Per micro-op of a committed txn, in order: a send's offset, or a poll's reads. */
export type TxnMicroResult<K, V> = { readonly offset: number } | readonly PolledKey<K, V>[]

export type EventType = 'invoke' | 'ok' | 'fail' | 'info'

/** An error as the history keeps it: its code when it is a WeirError, and its message. */
export interface RecordedError {
  readonly code?: string
  readonly message: string
}

/** One event of the history. Queue operations carry their micro-ops, markers their keys. */
export type HistoryEvent<K = string, V = unknown> = {
  readonly index: number
  readonly type: EventType
  readonly process: ProcessId
  readonly error?: RecordedError
} & (
  | { readonly f: 'send' | 'poll' | 'txn', readonly ops: readonly MicroOp<K, V>[] }
  | { readonly f: 'assign' | 'subscribe', readonly keys: readonly K[] }
)

export type History<K = string, V = unknown> = readonly HistoryEvent<K, V>[]

/** An operation in flight: complete it exactly once. */
export interface PendingOperation<R> {
  /** Acknowledged: a send's offset, a poll's reads, a committed txn's micro-op results. */
  ok(result: R): void
  /** Definitely not applied: refused, or (for a txn) aborted. */
  fail(error?: unknown): void
  /** Unknown outcome: may or may not have applied. */
  info(error?: unknown): void
  /** Records `fail` or `info` as `outcomeOfError` classifies `error`; returns which. */
  error(error: unknown): 'fail' | 'info'
}

/**
 * Whether an error leaves an operation definitely not applied (`fail`) or of unknown outcome
 * (`info`). The rule, conservative as Jepsen's client (KAFKA-13574: NotLeaderOrFollower was
 * returned for writes that had landed):
 * - a WeirError with `retriable: true` is `info`: the request may have been applied before the
 *   condition was seen (timeouts, network errors, coordinator moves, broker busy or stopping);
 * - a WeirError whose code is in `indefiniteCodes` is `info` although not retriable (the client
 *   closed or the server failed mid-request, so nobody knows);
 * - any other WeirError is `fail`: the broker refused the request (fenced, invalid state, too
 *   large, aborted transaction...), nothing of it was applied;
 * - anything that is not a WeirError (a timeout of the test's own, a crash) is `info`.
 */
export function outcomeOfError(error: unknown): 'fail' | 'info' {
  if (!WeirError.is(error)) return 'info'
  if (error.retriable) return 'info'
  return indefiniteCodes.has(error.code) ? 'info' : 'fail'
}

/** Non-retriable codes that still leave the outcome unknown. */
export const indefiniteCodes: ReadonlySet<string> = new Set([
  'WEIR_ERR_CLIENT_CLOSED', 'WEIR_ERR_SERVER_INTERNAL', 'UNKNOWN_SERVER_ERROR',
])

function recordError(error: unknown): RecordedError | undefined {
  if (error === undefined) return undefined
  if (WeirError.is(error)) return { code: error.code, message: error.message }
  if (error instanceof Error) return { message: `${error.name}: ${error.message}` }
  return { message: String(error) }
}

/**
 * Records a history as a test runs it.
 *
 * @example
 * const history = new HistoryRecorder()
 * const send = history.invoke(1, { f: 'send', key: 'orders/0', value: 7 })
 * try { send.ok({ offset: (await producer.send(...)).offset }) } catch (e) { send.error(e) }
 * const result = checkQueueHistory(history.events)
 * @see checkQueueHistory in queue-checker.ts
 */
export class HistoryRecorder<K = string, V = unknown> {
  readonly #events: HistoryEvent<K, V>[] = []
  readonly #inFlight = new Set<ProcessId>()

  /** The events so far, in order (a copy). */
  get events(): History<K, V> {
    return [...this.#events]
  }

  /** Starts `operation` on `process`; the process must have no other operation in flight. */
  invoke<O extends Operation<K, V>>(
    process: ProcessId, operation: O,
  ): PendingOperation<OperationResult<K, V, O>> {
    assert(!this.#inFlight.has(process), `process ${process} already has an operation in flight`)
    this.#inFlight.add(process)
    const invoke = invokeEvent(this.#events.length, process, operation)
    this.#events.push(invoke)
    let done = false
    const complete = (type: Exclude<EventType, 'invoke'>, result: unknown, error: unknown) => {
      assert(!done, `operation ${invoke.index} of process ${process} completed twice`)
      done = true
      this.#inFlight.delete(process)
      this.#events.push(completionEvent(this.#events.length, invoke, type, result, error))
    }
    return {
      ok: result => complete('ok', result, undefined),
      fail: error => complete('fail', undefined, error),
      info: error => complete('info', undefined, error),
      error: error => {
        const outcome = outcomeOfError(error)
        complete(outcome, undefined, error)
        return outcome
      },
    }
  }
}

function invokeEvent<K, V>(
  index: number, process: ProcessId, operation: Operation<K, V>,
): HistoryEvent<K, V> {
  switch (operation.f) {
    case 'assign':
    case 'subscribe':
      return { index, type: 'invoke', process, f: operation.f, keys: [...operation.keys] }
    case 'send':
      return { index, type: 'invoke', process, f: 'send',
        ops: [{ f: 'send', key: operation.key, value: operation.value }] }
    case 'poll':
      return { index, type: 'invoke', process, f: 'poll', ops: [{ f: 'poll' }] }
    case 'txn':
      return { index, type: 'invoke', process, f: 'txn', ops: operation.ops.map(op => ({ ...op })) }
  }
}

/** The completion event: the invoke's micro-ops, with results filled in when `ok`. */
function completionEvent<K, V>(
  index: number, invoke: HistoryEvent<K, V>, type: Exclude<EventType, 'invoke'>,
  result: unknown, error: unknown,
): HistoryEvent<K, V> {
  const recorded = recordError(error)
  const base = { index, type, process: invoke.process, ...(recorded && { error: recorded }) }
  if ('keys' in invoke) return { ...base, f: invoke.f, keys: invoke.keys }
  if (type !== 'ok') return { ...base, f: invoke.f, ops: invoke.ops }
  const results = invoke.f === 'txn' ? result as readonly unknown[] : [result]
  assert(Array.isArray(results) && results.length === invoke.ops.length,
    `operation ${invoke.index}: ok needs one result per micro-op`)
  const ops = invoke.ops.map((op, i): MicroOp<K, V> => {
    const micro = results[i]
    if (op.f === 'send') {
      const offset = (micro as { offset?: unknown }).offset
      assert(typeof offset === 'number', `operation ${invoke.index}: a send's result is { offset }`)
      return { ...op, offset }
    }
    assert(Array.isArray(micro), `operation ${invoke.index}: a poll's result is its reads`)
    return { f: 'poll', reads: copyReads(micro as PolledKey<K, V>[]) }
  })
  return { ...base, f: invoke.f, ops }
}

function copyReads<K, V>(reads: readonly PolledKey<K, V>[]): PolledKey<K, V>[] {
  return reads.map(({ key, records }) => ({
    key, records: records.map(({ offset, value }) => ({ offset, value })),
  }))
}
