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
  | { readonly kind: 'stateful', readonly name: string, readonly stores: readonly StoreSpec[] }
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
