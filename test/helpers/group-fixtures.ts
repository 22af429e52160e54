/**
 * Fixtures shared by the group tests: the partitions of `__consumer_offsets` as real compacted
 * logs in a temp directory, the commands the offset-store properties share, error-code
 * expectations, and a way to let held requests settle.
 */
import { join } from 'node:path'
import { fc } from '@fast-check/vitest'
import { expect } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import type { TopicPartition } from '../../src/group/assignor.ts'
import { OffsetStore } from '../../src/group/offset-store.ts'
import type { LogConfig } from '../../src/log/log-config.ts'
import { PartitionLog } from '../../src/log/partition-log.ts'
import type { Clock, ManualClock } from '../../src/util/clock.ts'
import { noTimers } from './log-fixtures.ts'

/** How the broker creates `__consumer_offsets` partitions. */
export const offsetLogConfig: Partial<LogConfig> = { cleanupPolicy: 'compact', flush: 'always' }

/** Opens (or reopens) `count` offsets partitions under `directory`. */
export async function openOffsetLogs(directory: string, count: number, clock: Clock,
  config: Partial<LogConfig> = offsetLogConfig): Promise<PartitionLog[]> {
  const logs: PartitionLog[] = []
  for (let partition = 0; partition < count; partition++) {
    const path = join(directory, `__consumer_offsets-${partition}`)
    logs.push(await PartitionLog.open({ directory: path, config, clock, scheduler: noTimers }))
  }
  return logs
}

export async function closeLogs(logs: readonly PartitionLog[]): Promise<void> {
  for (const log of logs) await log.close()
}

/** Commands of the offset-store properties that do the same in each: only `delete` has a model. */
export type SharedOffsetCommand =
  | { kind: 'delete', groupId: string, partitions: TopicPartition[] | undefined }
  | { kind: 'advance', ms: number }
  | { kind: 'compact' }
  | { kind: 'reopen' }

/** `advance`, `compact` and `reopen` (weight 1 each), for a property's `fc.oneof`. */
export const advanceCompactReopenArbitraries: Array<fc.WeightedArbitrary<SharedOffsetCommand>> = [
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const),
    ms: fc.constantFrom(10, 2000) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
]

/** The store under a property and its logs, both replaced by a `reopen`. */
export interface OffsetStoreState {
  store: OffsetStore
  logs: PartitionLog[]
}

/**
 * Runs a shared command against the store: deletes offsets (then `modelDelete` updates the
 * caller's model), advances the clock, rolls and compacts every log, or drains the store and
 * reopens it on logs from `openLogs`.
 */
export async function runSharedOffsetCommand(command: SharedOffsetCommand,
  state: OffsetStoreState, clock: ManualClock, hooks: {
    readonly openLogs: () => Promise<PartitionLog[]>
    readonly modelDelete: (groupId: string, partitions?: readonly TopicPartition[]) => void
  }): Promise<void> {
  switch (command.kind) {
    case 'delete':
      await state.store.delete(command.groupId, clock.nowMs(), command.partitions)
      hooks.modelDelete(command.groupId, command.partitions)
      break
    case 'advance':
      clock.advance(command.ms)
      break
    case 'compact':
      for (const log of state.logs) {
        await log.roll()
        await log.compact()
      }
      break
    case 'reopen':
      await state.store.drain()
      await closeLogs(state.logs)
      state.logs = await hooks.openLogs()
      state.store = await OffsetStore.open(state.logs)
      break
  }
}

/** Expects `promise` to reject with a WeirError of `code`, and returns it. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<WeirError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e)
  expect(WeirError.is(error), `expected ${code}, got ${String(error)}`).toBe(true)
  expect((error as WeirError).code).toBe(code)
  return error as WeirError
}

/**
 * Lets every queued microtask and promise reaction run (a join barrier completes at the end of
 * the turn in which its last member joined). Not a sleep: no time passes on any clock.
 */
export function flushMicrotasks(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}
