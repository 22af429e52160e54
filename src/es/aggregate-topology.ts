/**
 * The single writer of an aggregate type (docs/event-sourcing.md): a topology that reads
 * `<type>-requests` (keyed by aggregate id) and, per request, in one exactly-once transaction
 * with the request's input offset, checks the expected version, appends the events to
 * `<type>-events`, updates the aggregate's store entry and replies on `<type>-replies`. One
 * task owns a partition, so requests to one aggregate are applied one at a time, in order, and
 * of two appends expecting the same version only the first succeeds.
 *
 * The store entry of an aggregate (store `<type>-aggregates`): its version, its last snapshot
 * (state at a version, taken every `snapshotEvery` events and also sent to the compacted
 * `<type>-snapshots`), the events since that snapshot, and the outcomes of its last
 * `RECENT_REQUESTS` requests. Loading is replay: the state is `evolve` folded over the events
 * since the snapshot, from the snapshot's state (or `initial()`). A request whose id is among
 * the recent ones gets its recorded outcome again and writes nothing: a client that retries
 * after a lost reply does not append twice.
 */
import { map } from 'rxjs'
import type { CreateTopicRequest } from '../broker/broker.ts'
import { process } from '../streams/operators/process.ts'
import { topology, type Topology } from '../streams/topology.ts'
import {
  type Aggregate, type Decision, fold, isRejection, versionMatches,
} from './aggregate.ts'
import {
  aggregateAppId, eventsTopic, type Outcome, type Reply, repliesTopic, type Request,
  requestsTopic, snapshotsTopic, type StoredEvent,
} from './envelopes.ts'

/** Outcomes kept per aggregate for repeated request ids. */
export const RECENT_REQUESTS = 32

export interface AggregateEntry<S, E> {
  readonly version: number
  readonly snapshot: { readonly version: number, readonly state: S } | null
  /** The events after the snapshot (all of them without one), oldest first. */
  readonly tail: readonly E[]
  readonly recent: ReadonlyArray<{ readonly requestId: string, readonly outcome: unknown }>
}

export const aggregateStore = (type: string): string => `${type}-aggregates`

/**
 * The topics of an aggregate type, to create before starting its writer: events kept forever
 * (they are the truth; retention would lose them), requests and replies for a day, snapshots
 * compacted. Events and requests have the same partition count, so an aggregate's events sit
 * in the partition number its requests do.
 */
export function aggregateTopics(type: string, partitions: number): CreateTopicRequest[] {
  const day = 24 * 60 * 60 * 1000
  return [
    { topic: eventsTopic(type), partitions, config: { retentionMs: -1 } },
    { topic: requestsTopic(type), partitions, config: { retentionMs: day } },
    { topic: repliesTopic(type), partitions, config: { retentionMs: day } },
    { topic: snapshotsTopic(type), partitions, config: { cleanupPolicy: 'compact' } },
  ]
}

/** What the processor sends, and where. */
type Output =
  | { readonly to: 'events', readonly value: StoredEvent<unknown> }
  | { readonly to: 'replies', readonly key: string, readonly value: Reply<unknown, unknown> }
  | { readonly to: 'snapshots', readonly value: { version: number, state: unknown } }

/**
 * What is wrong with a request read from the topic, if anything: anyone can write to it, and a
 * malformed request must be answered, not stop the writer.
 */
export function requestProblem(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return 'a request is a JSON object'
  const { requestId, expectedVersion, body } = request as Partial<Request<unknown, unknown>>
  if (typeof requestId !== 'string' || requestId.length === 0) return 'requestId is missing'
  const versionOk = expectedVersion === 'any' || expectedVersion === 'no-stream'
    || (typeof expectedVersion === 'number' && Number.isSafeInteger(expectedVersion)
      && expectedVersion >= 0)
  if (!versionOk) return `expectedVersion ${JSON.stringify(expectedVersion)} is not 'any', `
    + "'no-stream' or an integer ≥ 0"
  if (typeof body !== 'object' || body === null) return 'body is missing'
  const { kind, events, command } = body as { kind?: unknown, events?: unknown,
    command?: unknown }
  if (kind === 'append') return Array.isArray(events) ? undefined : 'an append needs events'
  if (kind === 'command') return command === undefined ? 'a command is missing' : undefined
  return kind === 'load' ? undefined : `body.kind ${JSON.stringify(kind)} is unknown`
}

/** The aggregate's state at its version. */
export function stateOf<S, C, E, R>(aggregate: Aggregate<S, C, E, R>,
  entry: AggregateEntry<S, E> | undefined): S {
  if (entry === undefined) return aggregate.initial()
  return fold(aggregate, entry.snapshot?.state ?? aggregate.initial(), entry.tail)
}

/** Applies one request to an entry: the outcome, the events appended and the next entry. */
export function applyRequest<S, C, E, R>(aggregate: Aggregate<S, C, E, R>,
  entry: AggregateEntry<S, E> | undefined, request: Request<C, E>):
  { outcome: Outcome<S, R>, events: E[], next: AggregateEntry<S, E> } {
  const current: AggregateEntry<S, E> = entry ?? { version: 0, snapshot: null, tail: [],
    recent: [] }
  const state = stateOf(aggregate, current)
  const { body } = request
  if (body.kind === 'load') {
    return { outcome: { kind: 'loaded', version: current.version, state }, events: [],
      next: current }
  }
  if (!versionMatches(request.expectedVersion, current.version)) {
    return { outcome: { kind: 'wrong-expected-version', actualVersion: current.version },
      events: [], next: current }
  }
  const decision: Decision<E, R> = body.kind === 'append' ? body.events
    : aggregate.decide(state, body.command)
  if (isRejection(decision)) {
    return { outcome: { kind: 'rejected', rejection: decision.rejected }, events: [],
      next: current }
  }
  const events = [...decision]
  const version = current.version + events.length
  const tail = [...current.tail, ...events]
  const snapshotDue = tail.length >= aggregate.snapshotEvery
  const next: AggregateEntry<S, E> = { version, recent: current.recent,
    snapshot: snapshotDue ? { version, state: fold(aggregate, state, events) } : current.snapshot,
    tail: snapshotDue ? [] : tail }
  const outcome: Outcome<S, R> = events.length === 0
    ? { kind: 'appended', firstVersion: version + 1, lastVersion: version }
    : { kind: 'appended', firstVersion: current.version + 1, lastVersion: version }
  return { outcome, events, next }
}

/** The topology of an aggregate type's single writer (app id `<type>-aggregate`). */
export function aggregateTopology<S, C, E, R>(aggregate: Aggregate<S, C, E, R>): Topology {
  const { type } = aggregate
  const store = aggregateStore(type)
  const t = topology(aggregateAppId(type))
  const outputs = t.stream<Request<C, E>>(requestsTopic(type)).pipe(process<Request<C, E>,
    Output>({
    process(request, context) {
      const id = context.record.key as string
      const entries = context.store<string, AggregateEntry<S, E>>(store)
      const entry = entries.get(id)
      const seen = entry?.recent.find(recent => recent.requestId === request.requestId)
      const reply = (outcome: unknown): void => {
        if (request.replyTo === undefined) return
        context.forward({ to: 'replies', key: request.replyTo, value: { requestId:
          request.requestId, aggregateId: id, outcome: outcome as Outcome<unknown, unknown> } },
        { key: request.replyTo })
      }
      if (seen !== undefined) {
        reply(seen.outcome)
        return
      }
      const invalid = requestProblem(request)
      if (invalid !== undefined) {
        reply({ kind: 'invalid', reason: invalid })
        return
      }
      const { outcome, events, next } = applyRequest(aggregate, entry, request)
      events.forEach((event, index) => context.forward({ to: 'events', value: {
        version: (entry?.version ?? 0) + index + 1, event, requestId: request.requestId } }))
      if (next.snapshot !== null && next.snapshot !== entry?.snapshot && events.length > 0) {
        context.forward({ to: 'snapshots', value: next.snapshot })
      }
      if (outcome.kind !== 'loaded') {
        entries.put(id, { ...next, recent: [...next.recent, { requestId: request.requestId,
          outcome }].slice(-RECENT_REQUESTS) })
      }
      reply(outcome)
    },
  }, { stores: [{ store }] }))
  const [events, replies, snapshots] = outputs.branch(o => o.to === 'events',
    o => o.to === 'replies')
  events!.pipe(map(o => o.value)).to(eventsTopic(type))
  replies!.pipe(map(o => o.value)).to(repliesTopic(type))
  snapshots!.pipe(map(o => o.value)).to(snapshotsTopic(type))
  return t
}
