/**
 * One instance of the spend app, run as a child process by test/streams/two-instances.test.ts:
 *
 *   node --import tsx test/streams/app-process.ts <stateDir> --instance-id <id>
 *     [--processing exactly-once|at-least-once]
 *
 * forked with an IPC channel (`serialization: 'advanced'`). Its Weir has no broker of its own:
 * every request goes to the parent's embedded broker through `IpcTransport`. The topology sums
 * each user's order totals: orders → groupBy(userId) → aggregate(sum, store 'spend') → spend-out.
 * The messages it sends and takes are listed in test/helpers/forked-app.ts.
 *
 * 'kill-at' makes the process SIGKILL itself at the next `onStep(step)` — a real kill, landing
 * at an exact point of the commit protocol (e.g. 'before-commit': outputs, changelog records
 * and offsets are in an open transaction that will never be ended by this producer).
 *
 * An unexpected error is printed to stderr and the process exits 2. It exits by itself when the
 * parent goes away.
 */
import { parseArgs } from 'node:util'
import {
  aggregate, groupBy, json, type ProcessingGuarantee, type ProcessingStep, type StreamsApp,
  topology, Weir,
} from '../../src/index.ts'
import {
  APP_ID, type AppCommand, type AppEvent, isAppMessage, type Order, ORDERS_TOPIC,
  SPEND_OUT_TOPIC, SPEND_STORE,
} from '../helpers/forked-app.ts'
import { IpcTransport } from '../helpers/ipc-transport.ts'

const STATUS_INTERVAL_MS = 200

/** Sends `event` to the parent; resolves once it is written (or the parent is gone). */
function emit(event: AppEvent): Promise<void> {
  return new Promise(resolve => {
    if (!process.connected) resolve()
    else process.send!(event, () => resolve())
  })
}


function readOptions(): { stateDir: string, instanceId: string,
  processing: ProcessingGuarantee } {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: {
    'instance-id': { type: 'string' },
    processing: { type: 'string', default: 'exactly-once' },
  } })
  const [stateDir] = positionals
  const instanceId = values['instance-id']
  const processing = values.processing
  if (stateDir === undefined || instanceId === undefined
    || (processing !== 'exactly-once' && processing !== 'at-least-once')) {
    throw new Error('usage: app-process.ts <stateDir> --instance-id <id> '
      + '[--processing exactly-once|at-least-once]')
  }
  return { stateDir, instanceId, processing }
}

async function main(): Promise<void> {
  const options = readOptions()
  process.on('disconnect', () => process.exit(0)) // the parent (and the broker) is gone
  const weir = new Weir(new IpcTransport())
  const t = topology(APP_ID)
  t.stream<Order>(ORDERS_TOPIC, { serde: json<Order>() })
    .pipe(groupBy(order => order.userId),
      aggregate(() => 0, (sum: number, order: Order) => sum + order.total, { store: SPEND_STORE }))
    .to(SPEND_OUT_TOPIC)

  let killAt: ProcessingStep | undefined
  let commits = 0
  let app: StreamsApp | undefined
  const status = (): void => {
    if (app === undefined) return
    void emit({ type: 'app', event: 'status', commits, tasks: app.tasks() })
  }
  app = await t.start({
    weir, stateDir: options.stateDir, instanceId: options.instanceId,
    processing: options.processing, commitIntervalMs: 100,
    consumer: { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 5000 },
    producer: { transactionTimeoutMs: 3000 },
    onStep: step => {
      if (step === killAt) process.kill(process.pid, 'SIGKILL')
      if (step === 'after-commit') {
        commits++
        status()
      }
    },
  })
  const started = app
  void emit({ type: 'app', event: 'started' })
  const timer = setInterval(status, STATUS_INTERVAL_MS)

  process.on('message', (message: unknown) => {
    if (!isAppMessage(message)) return
    const command = message as AppCommand
    if (command.command === 'kill-at') killAt = command.step
    if (command.command === 'query') {
      started.query<number>(SPEND_STORE).all().then(entries =>
        emit({ type: 'app', event: 'query-result', entries }), (error: unknown) => fail(error))
    }
    if (command.command === 'close') {
      clearInterval(timer)
      started.close().then(() => weir.close())
        .then(() => emit({ type: 'app', event: 'closed' }))
        .then(() => process.exit(0), (error: unknown) => fail(error))
    }
  })
  started.done.catch((error: unknown) => fail(error))
}

function fail(error: unknown): void {
  const text = error instanceof Error ? error.stack ?? error.message : String(error)
  process.stderr.write(`app-process: ${text}\n`)
  void emit({ type: 'app', event: 'failed', error: text }).then(() => process.exit(2))
}

main().catch(fail)
