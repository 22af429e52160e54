/**
 * The app instances of a simulation (simulate.ts): the primary instance, which crashes where a
 * fault arms it and is restarted under the same instance id; a guest that joins for one chunk
 * (a rebalance); an old primary left running beside its successor (a zombie, to be fenced).
 */
import type { StreamsApp } from '../streams/streams-app.ts'
import type { Topology } from '../streams/topology.ts'
import type { Fault, ProcessingStep } from './model.ts'
import type { SimulationOptions } from './simulate.ts'
import type { SimulationWorld } from './simulation-world.ts'

const CAUGHT_UP_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000
/** How long a rebalance fault waits for the guest to hold tasks before the run goes on. */
const TOGETHER_TIMEOUT_MS = 10_000
/** Quick commits and rebalances, so a run with several restarts stays short. */
const QUICK = {
  commitIntervalMs: 10,
  consumer: { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 200, rebalanceTimeoutMs: 3_000,
    maxWaitMs: 20 },
}

/** What the armed instance throws at its step; the runtime wraps it (its `cause`). */
class PlannedCrash extends Error {}

const isPlannedCrash = (error: unknown): boolean =>
  error instanceof Error && error.cause instanceof PlannedCrash

/** Closes an instance that may be dead already, without waiting forever or failing. */
async function stop(app: StreamsApp | undefined): Promise<void> {
  if (app === undefined) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([app.close().catch(() => undefined),
    new Promise(resolve => { timer = setTimeout(resolve, STOP_TIMEOUT_MS) })])
  clearTimeout(timer)
}

export class AppRun {
  private armed: { step: ProcessingStep, loseState: boolean } | undefined
  private threw = false
  private guest: StreamsApp | undefined
  private zombie: StreamsApp | undefined
  private generation = 0
  private stateName = 'primary'
  app!: StreamsApp

  constructor(
    private readonly world: SimulationWorld,
    private readonly topology: Topology,
    private readonly options: SimulationOptions,
    private readonly trace: string[],
  ) {}

  private startOptions(stateName: string) {
    return { ...QUICK, ...this.options.start, weir: this.world.weir,
      stateDir: this.world.stateDir(stateName),
      processing: this.options.processing ?? 'exactly-once' }
  }

  /** Starts a primary instance (instance id 'primary': it fences the one before). */
  async startPrimary(): Promise<void> {
    const generation = ++this.generation
    this.threw = false
    this.app = await this.topology.start({ ...this.startOptions(this.stateName),
      instanceId: 'primary',
      onStep: step => {
        const armed = this.armed
        if (armed === undefined || step !== armed.step || generation !== this.generation) return
        this.threw = true
        throw new PlannedCrash(`crash at ${step}`)
      } })
  }

  async apply(fault: Fault, seed: number): Promise<AppRun> {
    switch (fault.kind) {
      case 'crash':
        this.armed = { step: fault.step, loseState: fault.loseState }
        this.trace.push(`arm crash at ${fault.step}${fault.loseState ? ', losing state' : ''}`)
        break
      case 'broker-restart':
      case 'power-loss':
        this.trace.push(fault.kind === 'power-loss' ? 'power loss' : 'broker restart')
        await this.world.restartBroker(fault.kind === 'power-loss' ? 'power-loss' : 'kill', seed)
        await Promise.all([stop(this.app), stop(this.guest), stop(this.zombie)])
        this.guest = this.zombie = undefined
        await this.startPrimary()
        break
      case 'rebalance':
        this.trace.push('guest instance joins')
        this.guest = await this.topology.start({ ...this.startOptions('guest'),
          instanceId: 'guest' })
        await this.together(this.guest)
        break
      case 'delay-request':
      case 'duplicate-request':
        this.trace.push(`${fault.kind === 'delay-request' ? 'delay' : 'duplicate'} next `
          + fault.api)
        this.world.faults.arm(fault.api, fault.kind === 'delay-request'
          ? { kind: 'delay', delayMs: fault.delayMs } : { kind: 'duplicate' })
        break
      case 'zombie':
        this.trace.push('successor starts beside the running instance')
        await stop(this.zombie)
        this.zombie = this.app
        this.stateName = `primary-${this.generation + 1}`
        await this.startPrimary()
        break
    }
    return this
  }

  /**
   * After a chunk is processed: the guest leaves, a zombie is stopped if it still runs, and the
   * primary takes back every task before the run goes on.
   */
  async settle(): Promise<AppRun> {
    const others = [this.guest, this.zombie].filter(app => app !== undefined)
    if (this.guest !== undefined) this.trace.push('guest instance leaves')
    await Promise.all(others.map(stop))
    this.guest = this.zombie = undefined
    if (others.length > 0) await this.alone()
    return this
  }

  /**
   * Waits until the group is stable with the guest holding tasks (or there is one task only),
   * so the next chunk is processed by both instances. Without it the chunk could be done before
   * the guest's join completes, and the guest would leave, unknown to the group, without ever
   * taking a task (the group then waits out its session). Other faults may keep the group from
   * settling (the primary crashing in its revocation, a zombie still a member): after
   * `TOGETHER_TIMEOUT_MS` the run goes on, and the trace says the guest holds no task.
   */
  private async together(guest: StreamsApp): Promise<void> {
    const deadline = Date.now() + TOGETHER_TIMEOUT_MS
    const admin = this.world.weir.admin()
    for (;;) {
      const group = await admin.describeGroup(this.topology.appId)
      const held = guest.tasks().length
      const settled = held > 0 || held + this.app.tasks().length <= 1
      if (group.state === 'Stable' && settled) break
      if (Date.now() > deadline) break
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    this.trace.push(`guest holds ${guest.tasks().length} task(s)`)
  }

  /** Waits until the primary is the group's only member, in a stable group, and caught up. */
  private async alone(): Promise<void> {
    const deadline = Date.now() + CAUGHT_UP_TIMEOUT_MS
    const admin = this.world.weir.admin()
    for (;;) {
      const group = await admin.describeGroup(this.topology.appId)
      if (group.state === 'Stable' && group.members.length === 1) break
      if (Date.now() > deadline) {
        throw new Error(`the group of ${this.topology.appId} did not settle to one member`)
      }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    await this.caughtUp()
  }

  /** Waits until the primary has processed everything, restarting it after planned crashes. */
  async caughtUp(): Promise<void> {
    for (;;) {
      try {
        await this.app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
      } catch (error) {
        if (!isPlannedCrash(error)) throw error
      }
      // caughtUp may resolve while the instance still dies in the commit it forced.
      if (!this.threw) return
      await this.app.done.then(() => {
        throw new Error('the app closed instead of crashing')
      }, (error: unknown) => {
        if (!isPlannedCrash(error)) throw error
      })
      const { step, loseState } = this.armed!
      this.armed = undefined
      this.trace.push(`crashed at ${step}; restart`)
      if (loseState) await this.world.loseState(this.stateName)
      await this.startPrimary()
    }
  }

  /** The step of a crash armed that found no step to die at before the run ended. */
  unfiredCrash(): ProcessingStep | undefined {
    return this.armed?.step
  }

  async close(): Promise<void> {
    await Promise.all([stop(this.app), stop(this.guest), stop(this.zombie)])
  }
}

export async function startInstance(world: SimulationWorld, topology: Topology,
  options: SimulationOptions, trace: string[]): Promise<AppRun> {
  const run = new AppRun(world, topology, options, trace)
  await run.startPrimary()
  return run
}

export async function untilCaughtUp(run: AppRun): Promise<AppRun> {
  await run.caughtUp()
  return run
}
