/**
 * Fixtures shared by the group tests: the partitions of `__consumer_offsets` as real compacted
 * logs in a temp directory, error-code expectations, and a way to let held requests settle.
 */
import { join } from 'node:path'
import { expect } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import type { LogConfig } from '../../src/log/log-config.ts'
import { PartitionLog } from '../../src/log/partition-log.ts'
import type { Clock } from '../../src/util/clock.ts'
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
