/**
 * runThroughCrashes (streams-fixtures.ts) for several apps that feed each other, like a saga and
 * the aggregate writer it sends commands to: each app has its own schedule of crash points
 * (`onStep` throws at the `calls`-th call of a processing step once chunk `chunk` is produced),
 * its own state directory (removed at a crash that loses state) and a fixed instanceId, so a
 * restarted instance fences the dead one's transaction. Input chunks are produced one by one;
 * after each, every app is waited for until caught up; after the last, rounds go on until
 * `finished()` says the outcome is complete. A dead instance is restarted at once (supervised),
 * not when it is next waited for: its open transaction holds back what the other apps may read
 * (the last stable offset) until its successor fences it.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { StartOptions, StreamsApp, Topology, Weir } from '../../src/index.ts'
import { CAUGHT_UP_TIMEOUT_MS, type CrashPoint, quickStart } from './streams-fixtures.ts'

/** The error our `onStep` throws; the runtime wraps it (its `cause`). */
class PlannedCrash extends Error {}

function isPlanned(error: unknown): boolean {
  return error instanceof Error && error.cause instanceof PlannedCrash
}

/** Which chunk is being produced or processed (crash points wait for theirs). */
interface Progress {
  produced: number
  readonly last: number
}

/** One instance: whether its hook threw (it is dead or dying). */
interface Instance {
  threw: boolean
}

/** One app and its successive instances. */
class CrashingApp {
  readonly crashes: CrashPoint[] = []
  private next = 0
  private armed: CrashPoint | undefined
  app!: StreamsApp
  /**
   * The instance `app` is, assigned with it. Per instance, not per app: while a successor
   * starts, `app` is still the dead one, whose crash must stay visible to `catchUp`.
   */
  private instance: Instance = { threw: false }
  /** Settles once the current instance has died and its successor started (or failed). */
  private restarting: Promise<void> = Promise.resolve()
  /** What stopped an instance other than a planned crash. */
  private failure: unknown

  constructor(private readonly topology: Topology, private readonly points: readonly CrashPoint[],
    private readonly start: Omit<StartOptions, 'onStep'>, private readonly progress: Progress) {}

  async run(): Promise<void> {
    const point = this.points[this.next++]
    this.armed = point
    const instance: Instance = { threw: false }
    let calls = 0
    const app = await this.topology.start({ ...this.start, onStep: step => {
      if (point === undefined || this.armed !== point || step !== point.step) return
      if (this.progress.produced < Math.min(point.chunk, this.progress.last)) return
      if (++calls !== point.calls) return
      instance.threw = true
      throw new PlannedCrash(`${step} #${calls}`)
    } })
    this.app = app
    this.instance = instance
    this.restarting = app.done.then(() => undefined, async (error: unknown) => {
      if (!isPlanned(error) || !instance.threw) {
        this.failure = error
        return
      }
      this.crashes.push(this.armed!)
      if (this.armed!.loseState) await rm(this.start.stateDir, { recursive: true, force: true })
      await this.run()
    }).catch((error: unknown) => {
      this.failure = error
    })
  }

  /** Waits until the app caught up, across its restarts. Whether it crashed meanwhile. */
  async catchUp(): Promise<boolean> {
    const crashesBefore = this.crashes.length
    for (;;) {
      const { app, instance } = this
      try {
        await app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
      } catch (error) {
        if (!isPlanned(error)) throw error
      }
      // caughtUp may resolve while the instance is still dying of a crash in the commit it
      // forced (the transaction committed, so the lag is 0): the hook is what knows. A dead
      // instance is waited for until its successor has started; asking it again instead would
      // spin on its immediate failure in microtasks only, starving the event loop — and with
      // it the successor's start — when every app is restarting at once.
      if (instance.threw || this.app !== app) {
        while (this.app === app && this.failure === undefined) await this.restarting
      }
      if (this.failure !== undefined) throw this.failure
      if (this.app === app) return this.crashes.length > crashesBefore
    }
  }

  disarm(): void {
    this.armed = undefined
  }
}

export interface AppsRun {
  /** The apps that caught up last, still running (close them), in the order given. */
  readonly apps: StreamsApp[]
  /** The crashes that happened to each app, in order. */
  readonly crashes: CrashPoint[][]
}

export async function runAppsThroughCrashes<T>(options: {
  readonly weir: Weir
  readonly dir: string
  readonly apps: ReadonlyArray<{ readonly topology: Topology,
    readonly crashPoints: readonly CrashPoint[] }>
  readonly chunks: readonly T[][]
  readonly produce: (chunk: readonly T[]) => Promise<void>
  /** Whether everything the last chunk causes is visible. */
  readonly finished: () => Promise<boolean>
  /** What to say when the rounds time out (what is missing). */
  readonly diagnose?: () => Promise<string>
  readonly start?: Partial<StartOptions>
  /** How long the rounds after the last chunk may take; default 30 s. */
  readonly timeoutMs?: number
}): Promise<AppsRun> {
  const progress: Progress = { produced: -1, last: options.chunks.length - 1 }
  const all: CrashingApp[] = []
  for (const [index, spec] of options.apps.entries()) {
    const app = new CrashingApp(spec.topology, spec.crashPoints, { weir: options.weir,
      stateDir: join(options.dir, `state-${index}`), instanceId: 'only', ...quickStart,
      ...options.start }, progress)
    await app.run()
    all.push(app)
  }
  const round = async (): Promise<boolean> => {
    let crashed = false
    for (const app of all) crashed = await app.catchUp() || crashed
    return crashed
  }
  for (const chunk of options.chunks) {
    progress.produced++
    await options.produce(chunk)
    await round()
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  for (;;) {
    const crashed = await round()
    if (!crashed && await options.finished()) break
    if (Date.now() > deadline) {
      throw new Error(`the apps did not finish the last chunk in time; crashes: ${JSON.stringify(
        all.map(app => app.crashes))}; ${await options.diagnose?.() ?? ''}`)
    }
  }
  for (const app of all) app.disarm()
  return { apps: all.map(app => app.app), crashes: all.map(app => app.crashes) }
}
