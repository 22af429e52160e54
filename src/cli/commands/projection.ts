/**
 * `weir projection rebuild <topology-file>`: rebuilds a projection (a streams app whose stores
 * are read models, docs/event-sourcing.md "Projections") from the beginning of its input in one
 * command, as Kafka's streams application reset tool does in several steps:
 * 1. the app's consumer group is deleted (with its committed offsets, internal topics' included)
 *    and its offsets on the input topics are set to the beginning (earliest);
 * 2. its internal topics (changelogs and repartition topics) are deleted: their contents are
 *    derived, and a store restored from an old changelog would keep the old read model;
 * 3. its local state (`<state-dir>/<appId>/`) is deleted, for the same reason. Restoring would
 *    already clear a store whose checkpoint lies beyond the recreated changelog's end
 *    (restore.ts), but that is a recovery rule, not a contract a rebuild should lean on;
 * 4. the app is started (which creates its internal topics again) and runs until it has caught
 *    up, printing how many input records it has replayed, then it stops.
 *
 * The projection's app must not be running (any instance, anywhere) while it is rebuilt. Step 1
 * refuses a group with members (NON_EMPTY_GROUP, exit 1) before anything is deleted, but an
 * instance started during the rebuild is not detected. Its output topics are not truncated: the
 * replay appends the read model again, which a compacted topic (latest value per key) absorbs.
 *
 * `rebuildProjection` is the whole procedure without the CLI, so tests run exactly what the
 * command runs.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Weir } from '../../client/weir.ts'
import type { StartOptions, StreamsApp } from '../../streams/streams-app.ts'
import type { Topology } from '../../streams/topology.ts'
import { WeirError } from '../../errors.ts'
import { type Command, EXIT_OK, writeOut } from '../command.ts'
import { connectionHelp, connectionOptions, withConnection } from '../connection.ts'
import { loadTopologyModule } from '../topology-module.ts'
import { appPlacement, createDeclaredTopics } from './run.ts'

const RECONNECT_TIMEOUT_MS = 30_000
/** Long: a rebuild replays the whole input, which may take much longer than a test's catch-up. */
const CAUGHT_UP_TIMEOUT_MS = 24 * 3_600_000

/** What `rebuildProjection` did, and the rebuilt app (caught up, still running). */
export interface RebuildResult {
  readonly app: StreamsApp
  /** The input topics whose offsets went back to the beginning. */
  readonly sources: readonly string[]
  /** Internal topics deleted (recreated empty by the app's start). */
  readonly deletedTopics: readonly string[]
  /** Input records replayed: the sum over the sources of end − start offset. */
  readonly records: number
}

export interface RebuildOptions {
  readonly weir: Weir
  readonly topology: Topology
  /** The app's state directory: its stores are under `<stateDir>/<appId>/`. */
  readonly stateDir: string
  /** Options of the rebuilt app's start (instanceId, commit interval, ...). */
  readonly start?: Partial<Omit<StartOptions, 'weir' | 'stateDir'>>
  /** Called with each step's message, and with the replay's progress. */
  readonly onStep?: (message: string) => void
  readonly onProgress?: (replayed: number, records: number) => void
  /** How often progress is measured (ms); default 1000. */
  readonly progressMs?: number
}

/**
 * Resets `topology`'s app to the beginning of its input, wipes its derived state and runs it
 * until caught up; the caller closes the returned app. Its app must not be running.
 * @throws NON_EMPTY_GROUP when the app's group has members (nothing is changed then)
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const { weir, topology } = options
  const appId = topology.appId
  const admin = weir.admin()
  const step = options.onStep ?? (() => undefined)
  const description = topology.describe()
  const internal = new Set(description.internalTopics)
  const sources = [...new Set(description.subTopologies.flatMap(sub => sub.sources))]
    .filter(topic => !internal.has(topic))
  await deleteGroup(weir, appId)
  for (const topic of sources) {
    await admin.resetOffsets({ groupId: appId, topic, to: 'earliest' })
  }
  step(`reset group ${appId} to the beginning of ${sources.join(', ')}`)
  const existing = new Set((await admin.listTopics({ includeInternal: true }))
    .map(topic => topic.name))
  const deletedTopics = description.internalTopics.filter(topic => existing.has(topic))
  if (deletedTopics.length > 0) await admin.deleteTopics(deletedTopics)
  step(`deleted internal topics: ${deletedTopics.join(', ') || 'none'}`)
  const local = join(options.stateDir, appId)
  await rm(local, { recursive: true, force: true })
  step(`deleted local state ${local}`)
  const records = (await admin.lag(appId, sources)).reduce((sum, p) => sum + p.lag, 0)
  step(`replaying ${records} records of ${sources.join(', ')}`)
  const app = await topology.start({ ...options.start, weir, stateDir: options.stateDir })
  try {
    await caughtUpWithProgress(weir, app, sources, records, options)
  } catch (error) {
    await app.close().catch(() => undefined) // the failure to catch up is the one to report
    throw error
  }
  return { app, sources, deletedTopics, records }
}

/**
 * Deletes the app's group, refusing (NON_EMPTY_GROUP) if it has members: an app still running
 * would go on from its own offsets and state. A group that never existed is fine.
 */
async function deleteGroup(weir: Weir, appId: string): Promise<void> {
  try {
    await weir.admin().deleteGroups([appId])
  } catch (error) {
    if (WeirError.is(error, 'GROUP_ID_NOT_FOUND')) return
    if (WeirError.is(error, 'NON_EMPTY_GROUP')) {
      throw new WeirError('NON_EMPTY_GROUP', `App ${appId} is running (its group has members); `
        + 'stop every instance of it before rebuilding. Nothing was changed.')
    }
    throw error
  }
}

async function caughtUpWithProgress(weir: Weir, app: StreamsApp, sources: readonly string[],
  records: number, options: RebuildOptions): Promise<void> {
  const report = options.onProgress
  if (report === undefined) {
    await app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
    return
  }
  let checking = false
  const timer = setInterval(() => {
    if (checking) return
    checking = true
    void weir.admin().lag(app.topology.appId, sources).then(lags => {
      report(Math.max(0, records - lags.reduce((sum, p) => sum + p.lag, 0)), records)
    }).catch(() => undefined) // progress only: a failed check is tried again next time
      .finally(() => { checking = false })
  }, options.progressMs ?? 1_000)
  try {
    await app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
  } finally {
    clearInterval(timer)
  }
  report(records, records)
}

export const projectionRebuild: Command = {
  name: 'projection rebuild',
  summary: 'rebuild a projection\'s read models from the beginning of its input',
  help: `usage: weir projection rebuild <topology-file> [--state-dir S] [--app-id ID]
                                [--instance-id ID] [--progress-ms N] [connection]

Rebuilds a projection (a topology module, as for weir run) from offset 0: deletes its app's
group and sets its offsets on the input topics to the beginning, deletes its internal topics
(changelogs, repartition topics) and its local state, then runs the app until it has caught up,
printing its progress, and exits 0. Example:
weir projection rebuild topologies/account-balances.ts --dir ./data

The projection's app must not be running while it is rebuilt: stop every instance first (a
group with members is refused, exit 1 with NON_EMPTY_GROUP, before anything changes). Output
topics are not truncated: the read model is written to them again (compact them).

  --state-dir S      local state, as given to weir run (default <dir>/streams with --dir,
                     ./weir-state with --url): <state-dir>/<appId>/ is deleted and rebuilt
  --app-id ID        passed to the builder: the app's group and internal topics' prefix
  --instance-id ID   names the transactional producer (default: as weir run's)
  --progress-ms N    how often progress is printed when it changed (default 1000)

${connectionHelp}
`,
  options: { ...connectionOptions, 'state-dir': { type: 'string' },
    'app-id': { type: 'string' }, 'instance-id': { type: 'string' },
    'progress-ms': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  run: async args => {
    const progressMs = args.integer('progress-ms', { min: 10 }, 1_000)
    const file = args.positional(0)
    const module = await loadTopologyModule(file)
    const topology = await module.build(args.string('app-id'))
    return withConnection(args, async ({ weir, dir }) => {
      await createDeclaredTopics(weir, module, undefined)
      const { stateDir, instanceId } = appPlacement(args, dir, topology.appId)
      await writeOut(`rebuilding projection ${topology.appId} from ${file} `
        + `(${module.exportName})\n`)
      const started = performance.now()
      let last = ''
      const result = await rebuildProjection({ weir, topology, stateDir,
        start: { instanceId }, progressMs,
        onStep: message => { process.stdout.write(`${message}\n`) },
        onProgress: (replayed, records) => {
          const line = `replayed ${replayed}/${records} records `
            + `(${records === 0 ? 100 : Math.floor(replayed * 100 / records)}%)`
          if (line !== last) process.stdout.write(`${line}\n`)
          last = line
        } })
      try {
        await writeOut(`rebuilt projection ${topology.appId}: ${result.records} records in `
          + `${Math.round(performance.now() - started)} ms; stores: `
          + `${await storeSizes(result.app)}\n`)
      } finally {
        await result.app.close()
      }
      return EXIT_OK
    }, { reconnectTimeoutMs: RECONNECT_TIMEOUT_MS })
  },
}

/** `store (n entries), ...` of this instance: all of them, since it ran every task. */
async function storeSizes(app: StreamsApp): Promise<string> {
  const sizes = []
  for (const store of app.topology.stores.keys()) {
    sizes.push(`${store} (${(await app.query(store).all()).length} entries)`)
  }
  return sizes.join(', ') || 'none'
}
