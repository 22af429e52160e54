/**
 * What the two-instance streams test (test/streams/two-instances.test.ts) and its child program
 * (test/streams/app-process.ts) share: the app's topics and names, the messages they exchange
 * over the IPC channel, and `ForkedApp`, the parent's handle on one child.
 *
 * The child is forked under tsx with `serialization: 'advanced'` and reaches the broker embedded
 * in the parent through `IpcTransport` (test/helpers/ipc-transport.ts), which `ForkedApp` serves.
 *
 * App messages (child → parent), each sent after the event happened:
 *   { type: 'app', event: 'started' }                       t.start resolved
 *   { type: 'app', event: 'status', commits, tasks }        after each commit and every 200 ms
 *   { type: 'app', event: 'query-result', entries }         answer to 'query': spend.all()
 *   { type: 'app', event: 'closed' }                        app.close() resolved; exits 0 next
 *   { type: 'app', event: 'failed', error }                 app.done rejected; exits 2 next
 * Commands (parent → child):
 *   { type: 'app', command: 'kill-at', step }   SIGKILL itself at the next `onStep(step)`
 *   { type: 'app', command: 'query' } / { type: 'app', command: 'close' }
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ProcessingGuarantee, ProcessingStep, Transport } from '../../src/index.ts'
import { serveTransportOverIpc } from './ipc-transport.ts'

export const APP_ID = 'spend-app'
export const ORDERS_TOPIC = 'orders'
export const SPEND_OUT_TOPIC = 'spend-out'
export const SPEND_STORE = 'spend'
export const APP_PARTITIONS = 4
/** The repartition topic groupBy(userId) → aggregate({ store: 'spend' }) writes and reads. */
export const REPARTITION_TOPIC = `${APP_ID}-${SPEND_STORE}-repartition`

export interface Order {
  readonly userId: string
  readonly total: number
}

export type AppEvent =
  | { readonly type: 'app', readonly event: 'started' }
  | { readonly type: 'app', readonly event: 'status', readonly commits: number,
    readonly tasks: readonly string[] }
  | { readonly type: 'app', readonly event: 'query-result',
    readonly entries: ReadonlyArray<{ key: string, value: number }> }
  | { readonly type: 'app', readonly event: 'closed' }
  | { readonly type: 'app', readonly event: 'failed', readonly error: string }

export type AppCommand =
  | { readonly type: 'app', readonly command: 'kill-at', readonly step: ProcessingStep }
  | { readonly type: 'app', readonly command: 'query' }
  | { readonly type: 'app', readonly command: 'close' }

export function isAppMessage(message: unknown): message is { type: 'app' } {
  return typeof message === 'object' && message !== null
    && (message as { type?: unknown }).type === 'app'
}

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const APP_PROCESS = fileURLToPath(new URL('../streams/app-process.ts', import.meta.url))
const STDERR_TAIL_CHARS = 16 * 1024

export interface ForkedAppOptions {
  readonly stateDir: string
  readonly instanceId: string
  readonly processing: ProcessingGuarantee
}

/** One app instance in a child process, served by the parent's transport. */
export class ForkedApp {
  readonly process: ChildProcess
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  readonly events: AppEvent[] = []
  commits = 0
  tasks: readonly string[] = []
  private stderr = ''
  private readonly waiters = new Set<() => void>()
  private readonly stopServing: () => void

  constructor(readonly name: string, transport: Transport, options: ForkedAppOptions) {
    this.process = fork(APP_PROCESS, [options.stateDir, '--instance-id', options.instanceId,
      '--processing', options.processing], { cwd: REPOSITORY_ROOT, execArgv: ['--import', 'tsx'],
      serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
    this.process.stderr!.setEncoding('utf8')
    this.process.stderr!.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_CHARS)
    })
    this.stopServing = serveTransportOverIpc(this.process, transport)
    this.process.on('message', message => {
      if (!isAppMessage(message)) return
      const event = message as AppEvent
      if (event.event === 'status') {
        this.commits = event.commits
        this.tasks = event.tasks
      }
      this.events.push(event)
      for (const waiter of [...this.waiters]) waiter()
    })
    this.exited = new Promise((resolve, reject) => {
      this.process.on('error', reject)
      this.process.on('exit', (code, signal) => {
        this.stopServing()
        resolve({ code, signal })
        for (const waiter of [...this.waiters]) waiter()
      })
    })
    this.exited.catch(() => undefined)
  }

  get stderrTail(): string {
    return this.stderr
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  send(command: AppCommand): void {
    this.process.send(command)
  }

  /**
   * Resolves with the first event from now on that satisfies `accept`; rejects if the child
   * exits or `timeoutMs` passes first.
   */
  waitFor<E extends AppEvent>(what: string, accept: (event: AppEvent) => event is E,
    timeoutMs: number): Promise<E>
  waitFor(what: string, accept: (event: AppEvent) => boolean, timeoutMs: number):
  Promise<AppEvent>
  waitFor(what: string, accept: (event: AppEvent) => boolean, timeoutMs: number):
  Promise<AppEvent> {
    let seen = this.events.length
    return new Promise((resolve, reject) => {
      const done = (settle: () => void): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        settle()
      }
      const check = (): void => {
        for (; seen < this.events.length; seen++) {
          const event = this.events[seen]!
          if (accept(event)) return done(() => resolve(event))
        }
        if (!this.alive) {
          done(() => reject(new Error(`${this.name} exited (${this.process.exitCode ?? ''}`
            + `${this.process.signalCode ?? ''}) while waiting for ${what}; stderr:\n`
            + this.stderr)))
        }
      }
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no ${what} `
        + `within ${timeoutMs} ms; last events ${JSON.stringify(this.events.slice(-3))}; `
        + `stderr:\n${this.stderr}`))), timeoutMs)
      this.waiters.add(check)
      check()
    })
  }

  /** Kills the child if it still runs and waits for it to exit. */
  async dispose(): Promise<void> {
    if (this.alive) this.process.kill('SIGKILL')
    await this.exited.catch(() => undefined)
  }
}
