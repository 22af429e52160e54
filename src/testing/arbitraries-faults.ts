/**
 * fast-check arbitraries of faults and fault schedules (the public test kit, `weir/testing`):
 * what a simulation injects and when, in model.ts's shapes (`Fault`, `ScheduledFault`).
 *
 * Shrinking goes toward fewer and simpler faults: a schedule is a fast-check array (it drops
 * faults first), each fault's kind shrinks toward the simplest allowed kind (`FAULT_KINDS`
 * order), its parameters toward the first step, first API, `loseState: false` and the
 * shortest delay, and its `afterRecords` toward 0. A property that fails whenever a crash
 * happens thus shrinks to one crash, after 0 records, at the first step, keeping its state.
 *
 * Deliberately not here: whether a schedule makes sense for a given topology (a rebalance with
 * one partition, a zombie under at-least-once): the simulation decides what each fault means.
 */
import * as fc from 'fast-check'
import type { Fault, FaultApi, FaultKind, ProcessingStep, ScheduledFault } from './model.ts'
import { requireInteger } from './arbitraries.ts'

// Tables keyed by each union, so adding a kind, step or API to model.ts fails to compile here
// until it is listed (`satisfies` rejects a missing key).
const kindOrder = {
  'crash': 0, 'broker-restart': 1, 'rebalance': 2, 'delay-request': 3, 'duplicate-request': 4,
  'power-loss': 5, 'zombie': 6,
} satisfies Record<FaultKind, number>
const stepOrder = {
  'after-process': 0, 'after-outputs': 1, 'after-changelog': 2, 'before-commit': 3,
  'after-commit': 4, 'after-checkpoint': 5,
} satisfies Record<ProcessingStep, number>
const apiOrder = {
  produce: 0, fetch: 1, commitOffsets: 2, txnOffsetCommit: 3, endTxn: 4, addPartitionsToTxn: 5,
  heartbeat: 6,
} satisfies Record<FaultApi, number>

/**
 * Every fault kind, simplest first (roughly by how much of the system it disturbs): the order
 * shrinking moves toward.
 */
export const FAULT_KINDS: readonly FaultKind[] = keysInOrder(kindOrder)

/** Every step where a `crash` fault can kill an instance, in the order a commit runs them. */
export const PROCESSING_STEPS: readonly ProcessingStep[] = keysInOrder(stepOrder)

/** Every client request a `delay-request` or `duplicate-request` fault can hit. */
export const FAULT_APIS: readonly FaultApi[] = keysInOrder(apiOrder)

export interface FaultOptions {
  /** The kinds allowed; shrinking prefers the simplest (see `FAULT_KINDS`). */
  readonly kinds: readonly FaultKind[]
  /** The steps a crash may happen at (default: all of `PROCESSING_STEPS`). */
  readonly steps?: readonly ProcessingStep[]
  /** The requests a delay or duplicate may hit (default: all of `FAULT_APIS`). */
  readonly apis?: readonly FaultApi[]
  /** The longest a `delay-request` holds a request back, in ms (default 5000; at least 1). */
  readonly maxDelayMs?: number
}

/**
 * One fault of an allowed kind, with its parameters: a crash at any allowed step, losing its
 * state directory or not; a delay of 1..maxDelayMs ms or a duplicate of an allowed request.
 *
 * @example
 * fc.sample(faults({ kinds: ['crash', 'zombie'] }), 3)
 * // e.g. [{ kind: 'zombie' }, { kind: 'crash', step: 'before-commit', loseState: true }, ...]
 * @throws RangeError when `kinds` is empty, a kind, step or API is unknown, a kind needs steps
 *   or APIs and none are allowed, or `maxDelayMs` is not an integer ≥ 1.
 * @see faultSchedules
 */
export function faults(options: FaultOptions): fc.Arbitrary<Fault> {
  const kinds = known('faults', 'kinds', options.kinds, kindOrder)
  if (kinds.length === 0) throw new RangeError('faults: kinds must name at least one kind')
  const steps = known('faults', 'steps', options.steps ?? PROCESSING_STEPS, stepOrder)
  const apis = known('faults', 'apis', options.apis ?? FAULT_APIS, apiOrder)
  const maxDelayMs = options.maxDelayMs ?? 5000
  requireInteger('faults', 'maxDelayMs', maxDelayMs, 1)
  const needsApi = kinds.includes('delay-request') || kinds.includes('duplicate-request')
  if (kinds.includes('crash') && steps.length === 0) {
    throw new RangeError('faults: crash faults need at least one step')
  }
  if (needsApi && apis.length === 0) {
    throw new RangeError('faults: delay-request and duplicate-request faults need an api')
  }
  const byKind = (kind: FaultKind): fc.Arbitrary<Fault> => {
    switch (kind) {
      case 'crash': return fc.record({ step: fc.constantFrom(...steps), loseState: fc.boolean() })
        .map(({ step, loseState }): Fault => ({ kind, step, loseState }))
      case 'delay-request': return fc.record({ api: fc.constantFrom(...apis),
        delayMs: fc.integer({ min: 1, max: maxDelayMs }) })
        .map(({ api, delayMs }): Fault => ({ kind, api, delayMs }))
      case 'duplicate-request': return fc.constantFrom(...apis)
        .map((api): Fault => ({ kind, api }))
      default: return fc.constant<Fault>({ kind })
    }
  }
  // withCrossShrink lets a fault shrink to the simplest allowed kind, as well as within its own.
  return fc.oneof({ withCrossShrink: true }, ...kinds.map(byKind))
}

export interface FaultScheduleOptions extends FaultOptions {
  /** The most faults in a schedule (an integer ≥ 0). */
  readonly maxFaults: number
  /**
   * How many input records the run produces: faults happen after 0..inputs − 1 of them, so each
   * meets work still to do (a crash armed after the last record would find no step to die at).
   */
  readonly inputs: number
}

/**
 * Fault schedules: up to `maxFaults` faults of the allowed kinds (see `faults`), each after
 * 0..inputs − 1 input records, sorted by `afterRecords` (faults at the same point keep their
 * generated order, which the simulation applies in turn). No kinds: only the empty schedule.
 *
 * @example
 * const schedules = faultSchedules({ kinds: ['crash', 'broker-restart'], maxFaults: 3,
 *   inputs: 20 })
 * fc.assert(fc.asyncProperty(records(fc.nat(), { maxLength: 20 }), schedules, runSimulation))
 * @throws RangeError when `maxFaults` or `inputs` is not an integer ≥ 0, or as `faults` does.
 * @see faults
 */
export function faultSchedules(options: FaultScheduleOptions):
fc.Arbitrary<ScheduledFault[]> {
  const { maxFaults, inputs } = options
  requireInteger('faultSchedules', 'maxFaults', maxFaults, 0)
  requireInteger('faultSchedules', 'inputs', inputs, 0)
  if (options.kinds.length === 0 || maxFaults === 0) return fc.constant([])
  const last = Math.max(0, inputs - 1)
  const scheduled = fc.record({ afterRecords: fc.integer({ min: 0, max: last }),
    fault: faults(options) })
  // Sorted in `map`, so fast-check still shrinks the generated array (dropping and simplifying
  // faults) and sorts each candidate again.
  return fc.array(scheduled, { maxLength: maxFaults })
    .map(schedule => [...schedule].sort((a, b) => a.afterRecords - b.afterRecords))
}

/** `order`'s keys sorted by their rank. */
function keysInOrder<T extends string>(order: Record<T, number>): T[] {
  // Object.keys types keys as string; `order` is a Record<T, number>, so they are T.
  return (Object.keys(order) as T[]).sort((a, b) => order[a] - order[b])
}

/** `values` without repeats, in `order`'s order; throws on one `order` doesn't know. */
function known<T extends string>(caller: string, name: string, values: readonly T[],
  order: Record<T, number>): T[] {
  for (const value of values) {
    if (!Object.hasOwn(order, value)) {
      throw new RangeError(`${caller}: unknown ${name} entry ${JSON.stringify(value)}; known: `
        + keysInOrder(order).join(', '))
    }
  }
  return [...new Set(values)].sort((a, b) => order[a] - order[b])
}
