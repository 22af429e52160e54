/**
 * The shapes the public test kit (`weir/testing`) speaks in: records as a test sees them
 * (decoded keys and values, where they landed), and the faults a simulation may inject. The
 * checkers, the arbitraries, the test driver and the simulation all share these, so a user's
 * test moves a record or a fault schedule between them without converting.
 */
import type { ProcessingStep } from '../streams/runtime/stream-thread.ts'

export type { ProcessingStep }

/** A record given to a topology (input), before it has an offset. */
export interface TestRecord<K = string, V = unknown> {
  readonly key: K
  /** null is a tombstone: no value on the wire, a delete for a table. */
  readonly value: V
  /** Event time, ms since the epoch; the driver's current time when left out. */
  readonly timestamp?: number
  /** The partition to write to; the key's partition (murmur2) when left out. */
  readonly partition?: number
}

/** A record read back from a topic: where it is and what it holds. */
export interface ReadRecord<K = string, V = unknown> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: K
  readonly value: V
}

/**
 * One fault a simulation may inject, at the moment its schedule says.
 * - `crash`: the instance dies at its next `step` (as a killed process would), optionally
 *   losing its local state directory; it is restarted with the same instance id.
 * - `broker-restart`: the broker closes and reopens on its directory.
 * - `power-loss`: the broker loses every write it did not fsync, then reopens.
 * - `rebalance`: a second instance joins the group (tasks move) and later leaves.
 * - `delay-request` / `duplicate-request`: one client request of that API is held back for
 *   `delayMs`, or delivered twice.
 * - `zombie`: an old instance keeps running after its successor started, and must be fenced.
 */
export type Fault =
  | { readonly kind: 'crash', readonly step: ProcessingStep, readonly loseState: boolean }
  | { readonly kind: 'broker-restart' }
  | { readonly kind: 'power-loss' }
  | { readonly kind: 'rebalance' }
  | { readonly kind: 'delay-request', readonly api: FaultApi, readonly delayMs: number }
  | { readonly kind: 'duplicate-request', readonly api: FaultApi }
  | { readonly kind: 'zombie' }

export type FaultKind = Fault['kind']

/** The client requests a delay or duplicate fault can hit. */
export type FaultApi = 'produce' | 'fetch' | 'commitOffsets' | 'txnOffsetCommit' | 'endTxn'
  | 'addPartitionsToTxn' | 'heartbeat'

/** A fault and when it happens: after `afterRecords` input records were produced. */
export interface ScheduledFault {
  readonly afterRecords: number
  readonly fault: Fault
}
