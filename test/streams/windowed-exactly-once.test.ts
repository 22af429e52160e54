/**
 * Goal (issue 7): windowed results equal a model computed from the input — hopping overlaps,
 * grace and late drops included — under exactly-once with crashes injected as in the runtime
 * tests: a read_committed reader of the output sees each (key, window)'s running counts exactly
 * once, in order (no duplicate, no gap); the window store ends equal to the model's final
 * counts (of the windows still open: closed ones may be swept); and the suppressed output
 * (`suppress(untilWindowCloses)`) holds exactly one record per closed window, its final count;
 * and session counts of the same input (merges, removals, late drops) equal the session model
 * per key (window-models.ts).
 * Under at-least-once with crashes, no (key, window) update is lost.
 *
 * Method: the EOS crash machinery of test/helpers/streams-fixtures.ts (keyed input with skew,
 * cut into chunks produced while the app runs, a schedule of crashes, restarts with the same
 * instanceId). Each record's event time is carried in its value (`v`: its position in the input
 * plus a bounded disorder, so some records fall behind a window's end + grace) and taken from
 * there by the source's timestampExtractor, so event times do not depend on the wall clock.
 * The model reads the input back per partition (the producer's partitioner decides where a key
 * lands) and replays each partition in offset order with windowed-aggregate.ts's rule: stream
 * time is the task's (one task per input partition) largest event time so far, and a window is
 * closed to a record once its end + grace ≤ stream time. The properties count the crashes that
 * really happened over all runs and fail if there were none, so they cannot pass vacuously
 * (nor if no record was late in the models). The EOS property starts with a hand-picked run
 * (`restartExample`): a late record right after a restart.
 * Replay a failure with WEIR_SEED=<seed> WEIR_PATH=<path>; soak with WEIR_NUM_RUNS=<n>.
 */
import { fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  type ProcessingGuarantee, sessionCount, type SessionValue, SessionWindows, suppress,
  TimeWindows, topology, type Topology, untilWindowCloses, windowedCount, type WindowedValue,
} from '../../src/index.ts'
import {
  chunked, type CrashPoint, crashPointArbitrary, type Input, inputArbitrary, PARTITIONS,
  propertyParameters, propertyTimeoutMs, readByKey, runThroughCrashes, withWorld, type World,
} from '../helpers/streams-fixtures.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'
import { type SessionEvent, sessionModel } from '../helpers/window-models.ts'
import { fraction } from '../helpers/num-runs.ts'

/** Hopping windows: size 20, advance 10 (each record in two windows), grace 5. */
const WINDOWS = TimeWindows.hopping(20, 10, { graceMs: 5 })
/** Sessions: gap 6, grace 4 (records are 2 units apart per position: sessions merge). */
const SESSIONS = SessionWindows.withGap(6, { graceMs: 4 })
const TOPICS = ['in', 'out', 'final', 'sessions']

/** `key@start-end` → what the model or the app says about that window. */
type ByWindow<T> = Map<string, T>
const windowId = (key: string, start: number, end: number): string => `${key}@${start}-${end}`

function windowedTopology(): Topology {
  const t = topology('windowed-counts')
  const source = t.stream<Input>('in', { timestampExtractor: record => record.v })
  source.pipe(sessionCount(SESSIONS, { store: 'sc' })).to('sessions')
  const counted = source.pipe(windowedCount(WINDOWS, { store: 'wc' }))
  counted.to('out')
  counted.pipe(suppress(untilWindowCloses(WINDOWS), { store: 'wc-final' })).to('final')
  return t
}

/**
 * The input with event times as values: two time units per position, shifted back by up to 30
 * or forward by up to 10 (from the generated value), so a record can be up to 40 units behind
 * an earlier one: later than the grace period allows for one or both of its windows.
 */
function timed(generated: readonly Input[]): Input[] {
  return generated.map(({ k, v }, position) => ({ k,
    v: Math.max(0, 2 * position + (((v % 41) + 41) % 41) - 30) }))
}

interface Model {
  /** The running counts of each window. */
  readonly counts: ByWindow<number[]>
  /** How many times a record was not counted in one of its windows for being late. */
  readonly lateDrops: number
  /** Windows closed when their partition's last counted record came: suppress emitted them. */
  readonly closed: Set<string>
  /** Windows still open at their partition's final stream time: the store must hold them. */
  readonly open: Set<string>
  /** Session events (removals as null) per key, in order (window-models.ts). */
  readonly sessions: Map<string, SessionEvent[]>
}

/** The model, replaying each partition of `in` in offset order. */
async function model(world: World): Promise<Model> {
  const counts: ByWindow<number[]> = new Map()
  const closed = new Set<string>()
  const open = new Set<string>()
  const sessions = new Map<string, SessionEvent[]>()
  let lateDrops = 0
  for (let partition = 0; partition < PARTITIONS; partition++) {
    let streamTime = -1
    let lastCounted = -1
    const ends = new Map<string, number>()
    const timedRecords: Array<{ key: string, timestamp: number }> = []
    for (const record of await readCommitted(world.weir.transport, 'in', partition)) {
      const { k, v: time } = JSON.parse(record.value!.toString()) as Input
      timedRecords.push({ key: k, timestamp: time })
      streamTime = Math.max(streamTime, time)
      for (let start = 0; start <= time; start += WINDOWS.advanceMs) {
        const end = start + WINDOWS.sizeMs
        if (end <= time) continue
        if (end + WINDOWS.graceMs <= streamTime) {
          lateDrops++
          continue
        }
        const id = windowId(k, start, end)
        ends.set(id, end)
        lastCounted = streamTime
        const running = counts.get(id)
        if (running === undefined) counts.set(id, [1])
        else running.push(running.at(-1)! + 1)
      }
    }
    for (const [id, end] of ends) {
      if (end + WINDOWS.graceMs <= lastCounted) closed.add(id)
      if (WINDOWS.isOpen(end, streamTime)) open.add(id)
    }
    const sessionRun = sessionModel(timedRecords, SESSIONS.gapMs, SESSIONS.graceMs)
    lateDrops += sessionRun.late
    for (const event of sessionRun.events) {
      sessions.set(event.key, [...sessions.get(event.key) ?? [], event])
    }
  }
  return { counts, lateDrops, closed, open, sessions }
}

/** What a read_committed reader of `topic` sees, per window, in order. */
async function outputs(world: World, topic = 'out'): Promise<ByWindow<number[]>> {
  const byWindow: ByWindow<number[]> = new Map()
  for (const [key, values] of await readByKey(world.weir, topic)) {
    for (const { window, value } of values as Array<WindowedValue<number>>) {
      const id = windowId(key, window.start, window.end)
      byWindow.set(id, [...byWindow.get(id) ?? [], value])
    }
  }
  return byWindow
}

/** The session events a read_committed reader of `sessions` sees, per key. */
async function sessionEvents(world: World): Promise<Map<string, SessionEvent[]>> {
  const byKey = new Map<string, SessionEvent[]>()
  for (const [key, values] of await readByKey(world.weir, 'sessions')) {
    byKey.set(key, (values as Array<SessionValue<number>>).map(({ window, value }) =>
      ({ key, window, value })))
  }
  return byKey
}

/** Map → object with sorted keys, for readable diffs. */
const sorted = <T>(byWindow: ByWindow<T>): Record<string, T> =>
  Object.fromEntries([...byWindow].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

interface Outcome {
  readonly crashes: CrashPoint[]
  readonly model: Model
  readonly outputs: ByWindow<number[]>
  /** What a read_committed reader of `final` (suppressed) sees, per window. */
  readonly finals: ByWindow<number[]>
  /** What a read_committed reader of `sessions` sees, per key. */
  readonly sessions: Map<string, SessionEvent[]>
  /** The store's final counts, by window. */
  readonly store: ByWindow<number>
}

/** Runs the windowed topology through the crashes; returns what to compare. */
async function runWindowed(input: readonly Input[], cutsAt: readonly number[],
  crashPoints: readonly CrashPoint[], processing: ProcessingGuarantee): Promise<Outcome> {
  return withWorld(TOPICS, async world => {
    const { app, crashes } = await runThroughCrashes(windowedTopology(), world, { input: 'in',
      chunks: chunked(input, cutsAt), crashPoints, start: { processing } })
    const store: ByWindow<number> = new Map()
    try {
      const entries = await app.query<number, { key: string, start: number }>('wc').all()
      for (const { key: { key, start }, value } of entries) {
        store.set(windowId(key, start, start + WINDOWS.sizeMs), value)
      }
    } finally {
      await app.close()
    }
    return { crashes, model: await model(world), outputs: await outputs(world),
      finals: await outputs(world, 'final'), sessions: await sessionEvents(world), store }
  })
}

/**
 * Fails when no planned crash happened or no record was late in the model (the property would
 * have tested nothing); logs both.
 */
function expectNotVacuous(outcomes: readonly Outcome[], title: string): void {
  const crashes = outcomes.flatMap(outcome => outcome.crashes).length
  const lateDrops = outcomes.reduce((sum, outcome) => sum + outcome.model.lateDrops, 0)
  console.info(`${title}: ${crashes} crashes in `
    + `${outcomes.filter(outcome => outcome.crashes.length > 0).length} of ${outcomes.length} `
    + `runs; ${lateDrops} late drops in the models`)
  expect(crashes, 'no planned crash happened: the property tested nothing').toBeGreaterThan(0)
  expect(lateDrops, 'no record was late: grace was not tested').toBeGreaterThan(0)
}

const inputs = fc.array(inputArbitrary, { minLength: 20, maxLength: 150 }).map(timed)
const cuts = fc.array(fraction, { maxLength: 5 })
const crashSchedule = fc.array(crashPointArbitrary, { minLength: 2, maxLength: 6 })
/** 50 runs in `npm test` (about 35 s on 2 cores); `npm run test:crash` soaks 200. */
const eosRuns = propertyParameters(50)
const alosRuns = propertyParameters(20)

/**
 * A first run that restarts the app between a record at event time 46 and one at 8 of the same
 * key (one partition): [0, 20) closed at 20 + 5 ≤ 46, so 8 is late for it — across the restart
 * too (stream time is the task's, not the instance's).
 */
const restartExample: [Input[], number[], CrashPoint[]] = [[
  ...Array.from({ length: 18 }, (_, position) => ({ k: ['hot', 'c0', 'w0'][position % 3]!,
    v: position })),
  { k: 'c1', v: 46 }, { k: 'c1', v: 8 }], [0.95],
[{ chunk: 0, step: 'after-process', calls: 1, loseState: false },
  { chunk: 1, step: 'after-process', calls: 1, loseState: false }]]

describe('windowed counts under crashes', () => {
  it('exactly-once: hopping windowed counts (grace, late drops) equal the per-partition model; '
    + 'the read_committed output has each window\'s running counts once, in order; the store '
    + 'holds the final counts', async () => {
    const outcomes: Outcome[] = []
    await fc.assert(fc.asyncProperty(inputs, cuts, crashSchedule,
      async (input, cutsAt, crashPoints) => {
        const outcome = await runWindowed(input, cutsAt, crashPoints, 'exactly-once')
        outcomes.push(outcome)
        const { counts } = outcome.model
        expect(sorted(outcome.outputs), 'read_committed output').toEqual(sorted(counts))
        const finals = new Map([...counts].map(([id, running]) => [id, running.at(-1)!]))
        // Closed windows may have been swept from the store (retention); open ones are kept.
        const kept = new Map([...outcome.store].filter(([id]) => outcome.model.open.has(id)))
        expect(sorted(kept), 'store').toEqual(sorted(new Map([...finals]
          .filter(([id]) => outcome.model.open.has(id)))))
        for (const [id, count] of outcome.store) expect(count, id).toBe(finals.get(id))
        const suppressed = new Map([...finals].filter(([id]) => outcome.model.closed.has(id))
          .map(([id, count]) => [id, [count]]))
        expect(sorted(outcome.finals), 'suppressed output').toEqual(sorted(suppressed))
        expect(sorted(outcome.sessions), 'session events').toEqual(sorted(outcome.model.sessions))
      }), { ...eosRuns, examples: [restartExample] })
    expectNotVacuous(outcomes, 'exactly-once')
  }, propertyTimeoutMs(eosRuns))

  it('at-least-once: with crashes no window update of the model is lost', async () => {
    const outcomes: Outcome[] = []
    await fc.assert(fc.asyncProperty(inputs, cuts, crashSchedule,
      async (input, cutsAt, crashPoints) => {
        const outcome = await runWindowed(input, cutsAt, crashPoints, 'at-least-once')
        outcomes.push(outcome)
        // A repeated record counts again: a window's last count is at least the model's.
        for (const [id, counts] of outcome.model.counts) {
          const seen = outcome.outputs.get(id) ?? []
          expect(Math.max(0, ...seen), `last count of ${id}`)
            .toBeGreaterThanOrEqual(counts.at(-1)!)
        }
      }), alosRuns)
    expectNotVacuous(outcomes, 'at-least-once')
  }, propertyTimeoutMs(alosRuns))
})
