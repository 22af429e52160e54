/**
 * What the topology needs to know about a Weir operator at build time, attached to the operator
 * function itself: which stores it uses (describe(), changelog topics, per-task stores), whether
 * it changes the key (a later stateful step then needs a repartition) and which topics it sends
 * to. Plain RxJS operators carry nothing: they are stateless and keep the key.
 */
import type { OperatorFunction } from 'rxjs'
import type { Serde } from './serdes.ts'

export interface StoreSpec {
  readonly name: string
  readonly keySerde: Serde<unknown>
  readonly valueSerde: Serde<unknown>
  /** The task keeps the store's keys in memory, for `TaskStore.keys()` (suppress, joins). */
  readonly indexed?: boolean
  /** Entries no record can reach any more are deleted (and logged as such): window stores. */
  readonly expiry?: StoreExpiry
}

/** When a store's entries expire, in stream time (Kafka's window store retention). */
export interface StoreExpiry {
  /** The stream time from which the entry can be deleted. */
  readonly expiresAtMs: (key: unknown, value: unknown) => number
  /** How far stream time moves between two sweeps of the store (each reads all its keys). */
  readonly sweepIntervalMs: number
}

export type OperatorInfo =
  | { readonly kind: 'select-key', readonly name: string }
  | {
    readonly kind: 'group-by'
    /** Names the repartition topic `<appId>-<name>-repartition` when given. */
    readonly name: string | undefined
    readonly keySerde: Serde<unknown> | undefined
    readonly valueSerde: Serde<unknown> | undefined
  }
  | {
    readonly kind: 'stateful'
    readonly name: string
    readonly stores: readonly StoreSpec[]
    /** Names the repartition topic before it when the key changed (else its first store). */
    readonly repartitionName?: string
  }
  | { readonly kind: 'sink', readonly topic: string }
  | { readonly kind: 'stateless', readonly name: string }

const infoKey = Symbol('weir.operator')

type Tagged = { [infoKey]?: OperatorInfo }

export function tagOperator<A, B>(info: OperatorInfo, operator: OperatorFunction<A, B>):
OperatorFunction<A, B> {
  (operator as Tagged)[infoKey] = info
  return operator
}

export function operatorInfo(operator: OperatorFunction<never, unknown>):
OperatorInfo | undefined {
  return (operator as Tagged)[infoKey]
}
