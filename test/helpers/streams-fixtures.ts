/**
 * For streams property tests: a fresh embedded Weir per run, keyed input produced in chunks,
 * outputs read back per key with read_committed, pure per-key folds (the models), and a driver
 * that runs an app through a schedule of simulated crashes (`onStep` throws), optionally losing
 * its state directory at each, restarting it with the same instanceId until it catches up.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fc } from '@fast-check/vitest'
import {
  type ProcessingStep, type StartOptions, type StreamsApp, type Topology, Weir,
} from '../../src/index.ts'
import { numRuns } from './num-runs.ts'
import { readCommitted } from './txn-fixtures.ts'
import { openWeirUnderTest } from './remote-fixtures.ts'

export const PARTITIONS = 3

/** Quick commits and rebalances, so a run with several restarts takes well under a second. */
export const quickStart = {
  commitIntervalMs: 10,
  consumer: { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 3000,
    maxWaitMs: 20 },
} satisfies Partial<StartOptions>

export const CAUGHT_UP_TIMEOUT_MS = 20_000

/** A property's test timeout: generous per run (a loaded machine), as runs can be soaked. */
export function propertyTimeoutMs(parameters: fc.Parameters<unknown>): number {
  return 30_000 + (parameters.numRuns ?? 100) * 20_000
}

/**
 * fast-check parameters: `numRuns` from WEIR_NUM_RUNS, and WEIR_SEED / WEIR_PATH (printed by a
 * failing run) to replay a counterexample.
 */
export function propertyParameters(defaultRuns: number): fc.Parameters<unknown> {
  const seed = process.env.WEIR_SEED
  const path = process.env.WEIR_PATH
  return {
    numRuns: numRuns(defaultRuns),
    ...(seed === undefined || seed === '' ? {} : { seed: Number(seed) }),
    ...(path === undefined || path === '' ? {} : { path }),
  }
}

export interface Input {
  readonly k: string
  readonly v: number
}

/** Keys with skew: one hot key, a few warm ones, and non-ASCII keys among the cold ones. */
export const keyArbitrary: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant('hot'), weight: 4 },
  { arbitrary: fc.constantFrom('w0', 'w1', 'w2'), weight: 3 },
  { arbitrary: fc.constantFrom('c0', 'c1', 'c2', 'c3', 'c4', 'ü', 'ключ', 'a b', '🙂'),
    weight: 2 },
)

export const inputArbitrary: fc.Arbitrary<Input> = fc.record({
  k: keyArbitrary, v: fc.integer({ min: -1000, max: 1000 }) })

/** `records` cut into consecutive chunks at the given fractions of their length. */
export function chunked<T>(records: readonly T[], cuts: readonly number[]): T[][] {
  const positions = [...new Set(cuts.map(cut => Math.floor(cut * records.length)))]
    .filter(position => position > 0 && position < records.length).sort((a, b) => a - b)
  const chunks: T[][] = []
  let from = 0
  for (const position of [...positions, records.length]) {
    chunks.push(records.slice(from, position))
    from = position
  }
  return chunks
}

/** The running fold of each key's values, in input order: what an aggregate emits. */
export function runningFold<A>(records: readonly Input[], initial: (first: number) => A,
  add: (aggregate: A, value: number) => A): Map<string, A[]> {
  const outputs = new Map<string, A[]>()
  for (const { k, v } of records) {
    const previous = outputs.get(k)
    const next = previous === undefined ? initial(v) : add(previous.at(-1)!, v)
    if (previous === undefined) outputs.set(k, [next])
    else previous.push(next)
  }
  return outputs
}

/** The last value of each key's sequence, sorted by key bytes as a store scan returns them. */
export function finalTable<A>(outputs: ReadonlyMap<string, readonly A[]>):
Array<{ key: string, value: A }> {
  return [...outputs].map(([key, values]) => ({ key, value: values.at(-1)! }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
}

/** A run's broker in a fresh directory; `stateDir` is for the app. */
export interface World {
  readonly weir: Weir
  readonly stateDir: string
}

export async function withWorld<T>(topics: readonly string[], run: (world: World) => Promise<T>):
Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-streams-eos-'))
  const weir = await openWeirUnderTest({ dir: join(dir, 'data'), offsetsTopicPartitions: 1,
    transactionStateTopicPartitions: 1 })
  try {
    await weir.admin().createTopics(topics.map(topic => ({ topic, partitions: PARTITIONS })))
    return await run({ weir, stateDir: join(dir, 'state') })
  } finally {
    await weir.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Produces the records keyed by `k` (so each key stays in one partition, in order). */
export async function produce(weir: Weir, topic: string, records: readonly Input[]):
Promise<void> {
  if (records.length === 0) return
  const producer = weir.producer()
  try {
    await producer.send({ topic, messages: records.map(record => ({ key: record.k,
      value: JSON.stringify(record) })) })
  } finally {
    await producer.close()
  }
}

/** What a read_committed reader sees in `topic`, as key → values in partition order. */
export async function readByKey(weir: Weir, topic: string): Promise<Map<string, unknown[]>> {
  const byKey = new Map<string, unknown[]>()
  const partitionOf = new Map<string, number>()
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (const record of await readCommitted(weir.transport, topic, partition)) {
      const key = record.key?.toString('utf8') ?? '<null>'
      if ((partitionOf.get(key) ?? partition) !== partition) {
        throw new Error(`key ${key} of ${topic} is in partitions ${partitionOf.get(key)} and `
          + `${partition}`)
      }
      partitionOf.set(key, partition)
      const value: unknown = record.value === null ? null : JSON.parse(record.value.toString())
      const values = byKey.get(key)
      if (values === undefined) byKey.set(key, [value])
      else values.push(value)
    }
  }
  return byKey
}

export const PROCESSING_STEPS: readonly ProcessingStep[] = ['after-process', 'after-outputs',
  'after-changelog', 'before-commit', 'after-commit', 'after-checkpoint']

/**
 * Where an instance dies: at the `calls`-th call of `step` once input chunk `chunk` (or the last
 * one) has been produced — so crashes also land late in a run, when the stores have
 * checkpoints — and whether its state directory is lost with it.
 */
export interface CrashPoint {
  readonly chunk: number
  readonly step: ProcessingStep
  readonly calls: number
  readonly loseState: boolean
}

export const crashPointArbitrary: fc.Arbitrary<CrashPoint> = fc.record({
  chunk: fc.integer({ min: 0, max: 5 }),
  step: fc.constantFrom(...PROCESSING_STEPS),
  calls: fc.integer({ min: 1, max: 3 }),
  loseState: fc.boolean(),
})

/** The error our `onStep` throws; the runtime wraps it (its `cause`). */
class PlannedCrash extends Error {}

export function isPlannedCrash(error: unknown): boolean {
  return error instanceof Error && error.cause instanceof PlannedCrash
}

export interface CrashRun {
  /** The app that caught up last, still running (close it). */
  readonly app: StreamsApp
  /** The crashes that happened, in order. */
  readonly crashes: CrashPoint[]
}

/**
 * Starts `t`, then for each chunk produces it and waits until the app has caught up; an instance
 * armed with the next crash point dies there, its state directory is removed when the point
 * says so, and a new instance (same instanceId: it fences the dead one's transaction) takes
 * over. Instances after the last crash point run unarmed.
 */
export async function runThroughCrashes(t: Topology, world: World, options: {
  readonly input: string
  readonly chunks: readonly Input[][]
  readonly crashPoints: readonly CrashPoint[]
  readonly start: Partial<StartOptions>
}): Promise<CrashRun> {
  const crashes: CrashPoint[] = []
  let next = 0
  let armed: CrashPoint | undefined
  /** Whether the current instance's hook threw: it is dead or dying. */
  let threw = false
  /** The chunk being produced or processed. */
  let produced = -1
  const last = options.chunks.length - 1
  const startInstance = (): Promise<StreamsApp> => {
    const point = options.crashPoints[next++]
    armed = point
    threw = false
    let calls = 0
    return t.start({ weir: world.weir, stateDir: world.stateDir, instanceId: 'only',
      ...quickStart, ...options.start,
      onStep: step => {
        if (point === undefined || armed !== point || step !== point.step) return
        if (produced < Math.min(point.chunk, last)) return
        if (++calls !== point.calls) return
        threw = true
        throw new PlannedCrash(`${step} #${calls}`)
      } })
  }
  let app = await startInstance()
  for (const chunk of options.chunks) {
    produced++
    await produce(world.weir, options.input, chunk)
    for (;;) {
      try {
        await app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
      } catch (error) {
        if (!isPlannedCrash(error)) throw error
      }
      // caughtUp may resolve while the instance is still dying of a crash in the commit it
      // forced (the transaction committed, so the lag is 0): the hook is what knows.
      if (!threw) break
      await app.done.then(() => {
        throw new Error('the app closed instead of crashing')
      }, (error: unknown) => {
        if (!isPlannedCrash(error)) throw error
      })
      crashes.push(armed!)
      if (armed!.loseState) await rm(world.stateDir, { recursive: true, force: true })
      app = await startInstance()
    }
  }
  armed = undefined
  return { app, crashes }
}
