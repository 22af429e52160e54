/**
 * An aggregate type (EventStoreDB's stream per entity, docs/event-sourcing.md): typed commands
 * and events, an initial state, `evolve(state, event)` — how an event changes the state — and
 * `decide(state, command)` — which events a command causes, or a typed rejection.
 *
 * Versions count an aggregate's events: an aggregate with no event is at version 0 (EventStoreDB
 * calls it "no stream"), its first event has version 1, and version n means n events.
 */
import { WeirError } from '../errors.ts'

/** A command refused by `decide`, with the reason the application gives. */
export interface Rejection<R> {
  readonly rejected: R
}

/** What `decide` returns: the events the command causes (maybe none), or a rejection. */
export type Decision<E, R> = readonly E[] | Rejection<R>

export interface AggregateDefinition<S, C, E, R = string> {
  /** Names the aggregate's topics `<type>-events`, `<type>-requests`, ... (a topic prefix). */
  readonly type: string
  readonly initial: () => S
  /** Must be pure: loading replays it over the aggregate's events. */
  readonly evolve: (state: S, event: E) => S
  /** Must be pure: the command handler may run it more than once (retries on conflict). */
  readonly decide: (state: S, command: C) => Decision<E, R>
  /** A snapshot every this many events (an optimisation only); default 100. */
  readonly snapshotEvery?: number
}

export type Aggregate<S, C, E, R = string> = Required<AggregateDefinition<S, C, E, R>>

/** The expected version of an append: any, none yet (version 0), or exactly n. */
export type ExpectedVersion = 'any' | 'no-stream' | number

const typeName = /^[a-zA-Z0-9._-]{1,200}$/

/** Checks a definition and fills in the defaults. @throws WEIR_ERR_ES_DEFINITION */
export function defineAggregate<S, C, E, R = string>(
  definition: AggregateDefinition<S, C, E, R>): Aggregate<S, C, E, R> {
  if (!typeName.test(definition.type)) {
    throw new WeirError('WEIR_ERR_ES_DEFINITION', `Aggregate type ${JSON.stringify(
      definition.type)} must be letters, digits, '.', '_' or '-': it prefixes topic names.`)
  }
  const snapshotEvery = definition.snapshotEvery ?? 100
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1) {
    throw new WeirError('WEIR_ERR_ES_DEFINITION', `snapshotEvery must be an integer ≥ 1, got `
      + `${snapshotEvery}.`)
  }
  return { ...definition, snapshotEvery }
}

/** Rejects a command with `reason` (what `decide` returns instead of events). */
export function reject<R>(reason: R): Rejection<R> {
  return { rejected: reason }
}

export function isRejection<E, R>(decision: Decision<E, R>): decision is Rejection<R> {
  return !Array.isArray(decision)
}

/** Whether an append expecting `expected` may go on at `actual`. */
export function versionMatches(expected: ExpectedVersion, actual: number): boolean {
  if (expected === 'any') return true
  if (expected === 'no-stream') return actual === 0
  return expected === actual
}

/**
 * Checks an expected version given by a caller.
 * @throws WEIR_ERR_ES_REQUEST for anything but 'any', 'no-stream' or an integer ≥ 0
 */
export function checkExpectedVersion(expected: unknown): ExpectedVersion {
  if (expected === 'any' || expected === 'no-stream') return expected
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) {
    return expected
  }
  throw new WeirError('WEIR_ERR_ES_REQUEST', `expectedVersion must be 'any', 'no-stream' or an `
    + `integer ≥ 0 (the version the aggregate must be at), got ${JSON.stringify(expected)}.`)
}

/** The state after `events`, from `state`. */
export function fold<S, E>(aggregate: { evolve: (state: S, event: E) => S }, state: S,
  events: readonly E[]): S {
  return events.reduce((current, event) => aggregate.evolve(current, event), state)
}
