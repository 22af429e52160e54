/**
 * What the event-sourcing kit writes to its topics (docs/event-sourcing.md): requests to an
 * aggregate type's single writer, its replies, and the stored events, all JSON.
 */
import type { ExpectedVersion } from './aggregate.ts'

export const eventsTopic = (type: string): string => `${type}-events`
export const requestsTopic = (type: string): string => `${type}-requests`
export const repliesTopic = (type: string): string => `${type}-replies`
export const snapshotsTopic = (type: string): string => `${type}-snapshots`
/** The app (consumer group) of the aggregate type's single writer. */
export const aggregateAppId = (type: string): string => `${type}-aggregate`

/** A request, keyed by aggregate id on `<type>-requests`. */
export interface Request<C, E> {
  /** Unique per request: a repeated id gets the first outcome again (idempotent retries). */
  readonly requestId: string
  /** The client the reply is keyed by (`<type>-replies`); none: no reply (a saga's command). */
  readonly replyTo?: string
  readonly expectedVersion: ExpectedVersion
  readonly body:
    | { readonly kind: 'append', readonly events: readonly E[] }
    | { readonly kind: 'command', readonly command: C }
    | { readonly kind: 'load' }
}

/** How a request ended. */
export type Outcome<S, R> =
  | { readonly kind: 'appended', readonly firstVersion: number, readonly lastVersion: number }
  | { readonly kind: 'loaded', readonly version: number, readonly state: S }
  | { readonly kind: 'wrong-expected-version', readonly actualVersion: number }
  | { readonly kind: 'rejected', readonly rejection: R }
  /** The request was malformed (written by hand or by another program); nothing was done. */
  | { readonly kind: 'invalid', readonly reason: string }

/** A reply, keyed by the request's `replyTo` on `<type>-replies`. */
export interface Reply<S, R> {
  readonly requestId: string
  readonly aggregateId: string
  readonly outcome: Outcome<S, R>
}

/** An event as stored on `<type>-events`, keyed by aggregate id. */
export interface StoredEvent<E> {
  /** 1 for the aggregate's first event. */
  readonly version: number
  readonly event: E
  /** The request that appended it. */
  readonly requestId: string
}
