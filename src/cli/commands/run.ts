/**
 * `weir run <topology-file>`: loads a topology module (the contract is in topology-module.ts),
 * creates the topics it declares if missing, starts the app against a server (`--url`) or an
 * embedded broker (`--dir`), prints its lag and tasks when they change, and stops cleanly on
 * SIGINT/SIGTERM (the app commits, leaves its group and closes its stores; exit 0), or once it
 * has caught up with `--exit-when-caught-up` (for batch jobs and scripts). An app that fails
 * stops the command with exit 1 and the error's code.
 *
 * Local state goes to `--state-dir` (default `<dir>/streams` with --dir, `./weir-state` with
 * --url; the app's stores are under `<state-dir>/<appId>/`). The instance id, which names the
 * transactional producer, defaults to one derived from the host and the state directory: stable
 * across restarts, so a restarted instance fences its killed predecessor's open transaction at
 * once; distinct for instances with their own state directories, as they must have.
 */
import { createHash } from 'node:crypto'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import type { Weir } from '../../client/weir.ts'
import type { StreamsApp } from '../../streams/streams-app.ts'
import type { Topology } from '../../streams/topology.ts'
import { systemScheduler } from '../../util/clock.ts'
import {
  type Command, EXIT_OK, firstSignal, type Parsed, UsageError, writeOut,
} from '../command.ts'
import { connectionHelp, connectionOptions, withConnection } from '../connection.ts'
import { loadTopologyModule, type TopologyModule } from '../topology-module.ts'

const RECONNECT_TIMEOUT_MS = 30_000

export const run: Command = {
  name: 'run',
  summary: 'run a topology module (streams app) until stopped',
  help: `usage: weir run <topology-file> [--state-dir S] [--processing GUARANTEE]
                   [--app-id ID] [--instance-id ID] [--partitions N]
                   [--exit-when-caught-up] [--progress-ms N] [connection]

Starts the streams app a module builds and runs it until Ctrl-C or SIGTERM (exit 0). The module
exports build(appId?) returning a Topology (optionally topics: CreateTopicRequest[] or a
function returning them), or a builder named after the file (orders-projection.ts:
ordersProjection, with ordersProjectionTopics), or one Topology object; declared topics are
created if missing. Example: weir run topologies/orders-projection.ts --url http://host:8092

  --state-dir S          local state (default <dir>/streams with --dir, ./weir-state with --url)
  --processing G         exactly-once (default) or at-least-once
  --app-id ID            passed to the builder: the app's group and internal topics' prefix
  --instance-id ID       names this instance's transactional producer (default: from the host
                         and the state directory)
  --partitions N         partitions of the declared topics it creates (default: the module's)
  --exit-when-caught-up  stop once everything in its input topics is processed
  --progress-ms N        how often lag is checked and printed when it changed (default 5000)

${connectionHelp}
`,
  options: { ...connectionOptions, 'state-dir': { type: 'string' },
    'processing': { type: 'string' }, 'app-id': { type: 'string' },
    'instance-id': { type: 'string' }, 'partitions': { type: 'string' },
    'exit-when-caught-up': { type: 'boolean' }, 'progress-ms': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: async args => {
    const processing = args.string('processing') ?? 'exactly-once'
    if (processing !== 'exactly-once' && processing !== 'at-least-once') {
      throw new UsageError(`--processing is exactly-once or at-least-once (got '${processing}')`)
    }
    const partitions = args.has('partitions')
      ? args.integer('partitions', { min: 1, max: 1_000_000 }, 1) : undefined
    const progressMs = args.integer('progress-ms', { min: 10 }, 5_000)
    const file = args.positional(0)
    const module = await loadTopologyModule(file)
    const topology = await module.build(args.string('app-id'))
    return withConnection(args, async ({ weir, dir }) => {
      await createDeclaredTopics(weir, module, partitions)
      const { stateDir, instanceId } = appPlacement(args, dir, topology.appId)
      const app = await topology.start({ weir, stateDir, processing, instanceId })
      await writeOut(`started app ${topology.appId} (${processing}) from ${file} `
        + `(${module.exportName}): ${describeFlow(topology)}; state in `
        + `${join(stateDir, topology.appId)}, instance ${instanceId}\n`)
      return runUntilStopped(weir, app, topology, { progressMs,
        exitWhenCaughtUp: args.flag('exit-when-caught-up') })
    }, { reconnectTimeoutMs: RECONNECT_TIMEOUT_MS })
  },
}

export async function createDeclaredTopics(weir: Weir, module: TopologyModule,
  partitions: number | undefined): Promise<void> {
  const admin = weir.admin()
  const existing = new Set((await admin.listTopics()).map(topic => topic.name))
  const missing = module.topics(partitions).filter(request => !existing.has(request.topic))
  if (missing.length === 0) return
  await admin.createTopics(missing)
  await writeOut(`created topics ${missing.map(request => `${request.topic} `
    + `(${request.partitions ?? 1})`).join(', ')}\n`)
}

function describeFlow(topology: Topology): string {
  const description = topology.describe()
  const internal = new Set(description.internalTopics)
  const sources = [...new Set(description.subTopologies.flatMap(sub => sub.sources))]
    .filter(topic => !internal.has(topic))
  const sinks = [...new Set(description.subTopologies.flatMap(sub => sub.sinks))]
  return `${sources.join(', ')} → ${sinks.join(', ') || '(no output topics)'}`
}

/**
 * Where an app run by the CLI keeps its state (`--state-dir`, else `<dir>/streams` next to an
 * embedded broker's data, else ./weir-state) and which instance id it takes (`--instance-id`,
 * else `defaultInstanceId`): `weir run` and `weir projection rebuild` must agree on both.
 */
export function appPlacement(args: Parsed, dir: string | undefined, appId: string):
{ stateDir: string, instanceId: string } {
  const stateDir = args.string('state-dir') ?? (dir === undefined ? './weir-state'
    : join(dir, 'streams'))
  return { stateDir, instanceId: args.string('instance-id') ?? defaultInstanceId(stateDir, appId) }
}

/**
 * The instance id of an app run from `stateDir` (and `weir projection rebuild`): the same each
 * time, so a restarted app fences at once a transaction its predecessor left open.
 */
export function defaultInstanceId(stateDir: string, appId: string): string {
  const digest = createHash('sha256').update(`${resolve(stateDir)}\n${appId}`).digest('hex')
    .slice(0, 8)
  return `${hostname()}-${digest}`
}

async function runUntilStopped(weir: Weir, app: StreamsApp, topology: Topology,
  options: { progressMs: number, exitWhenCaughtUp: boolean }): Promise<number> {
  const sources = [...new Set(topology.describe().subTopologies.flatMap(sub => sub.sources))]
  const signals = firstSignal(signal => {
    process.stdout.write(`${signal}: stopping app ${topology.appId}\n`)
  })
  let lastProgress = ''
  let checking = false
  const cancelProgress = systemScheduler.every(options.progressMs, () => {
    if (checking) return
    checking = true
    void weir.admin().lag(topology.appId, sources).then(lags => {
      const total = lags.reduce((sum, p) => sum + p.lag, 0)
      const line = `lag ${total} on ${lags.length} input partitions; tasks `
        + `${app.tasks().join(' ') || 'none yet'}`
      if (line !== lastProgress) process.stdout.write(`${line}\n`)
      lastProgress = line
    }).catch(() => undefined) // a failed check is tried again next time; failures show in done
      .finally(() => { checking = false })
  })
  const done = app.done.then(() => 'closed' as const)
  done.catch(() => undefined) // handled by the race; after a signal, close() reports it
  const caughtUp = options.exitWhenCaughtUp
    ? app.caughtUp({ timeoutMs: Number.MAX_SAFE_INTEGER }).then(() => 'caught up' as const)
    : new Promise<never>(() => undefined)
  caughtUp.catch(() => undefined)
  try {
    const outcome = await Promise.race([signals.signal, done, caughtUp])
    if (outcome === 'caught up') {
      await writeOut(`caught up: every record of ${sources.join(', ')} is processed\n`)
    }
  } finally {
    cancelProgress()
    signals.dispose()
    await app.close()
  }
  await writeOut(`stopped app ${topology.appId}\n`)
  return EXIT_OK
}
