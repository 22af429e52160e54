/**
 * What `weir run <file>` accepts: a TypeScript or JavaScript ES module (loaded through tsx) that
 * exports, in this order of preference,
 * 1. `build(appId?: string): Topology | Promise<Topology>`, and optionally `topics`: an array of
 *    CreateTopicRequest or a function `(partitions?: number) => CreateTopicRequest[]`;
 * 2. else a function named after the file in camelCase (`orders-projection.ts` →
 *    `ordersProjection(appId?)`), and optionally `<thatName>Topics(partitions?)`: the shape of the
 *    modules in topologies/ (STYLE.md: one main export named after the file);
 * 3. else exactly one Topology object.
 * The topics it declares are created before the app starts if they do not exist (with
 * `--partitions` when given); the app's internal topics are created by the app itself.
 */
import { access } from 'node:fs/promises'
import { basename, extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CreateTopicRequest } from '../broker/broker.ts'
import type { Topology } from '../streams/topology.ts'
import { WeirError } from '../errors.ts'

export interface TopologyModule {
  /** The export used, for messages ('build', 'ordersProjection', ...). */
  readonly exportName: string
  build(appId: string | undefined): Promise<Topology>
  topics(partitions: number | undefined): CreateTopicRequest[]
}

type Exports = Readonly<Record<string, unknown>>

export async function loadTopologyModule(file: string): Promise<TopologyModule> {
  const path = resolve(file)
  await access(path) // a missing file: ENOENT, rather than the loader's longer message
  const exports = await import(pathToFileURL(path).href) as Exports
  const mainName = camelCase(basename(file, extname(file)))
  if (typeof exports.build === 'function') {
    return fromBuilder('build', exports.build, exports.topics, file)
  }
  if (typeof exports[mainName] === 'function') {
    return fromBuilder(mainName, exports[mainName], exports[`${mainName}Topics`], file)
  }
  const topologies = Object.entries(exports).filter(([, value]) => isTopology(value))
  if (topologies.length === 1) {
    const [name, topology] = topologies[0]! as [string, Topology]
    return { exportName: name, build: async appId => {
      if (appId !== undefined && appId !== topology.appId) {
        throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `${file} exports a built topology `
          + `(appId ${topology.appId}); --app-id needs a builder function.`)
      }
      return topology
    }, topics: () => [] }
  }
  throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `${file} exports no topology: export `
    + `function build(appId?) returning one (or ${mainName}(appId?), or one Topology object).`)
}

function fromBuilder(name: string, builder: unknown, topics: unknown, file: string):
TopologyModule {
  const build = builder as (appId?: string) => unknown
  return {
    exportName: name,
    build: async appId => {
      const topology = await (appId === undefined ? build() : build(appId))
      if (!isTopology(topology)) {
        throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `${name}() of ${file} did not return `
          + 'a Topology (build one with topology(appId) from weir).')
      }
      return topology
    },
    topics: partitions => {
      if (topics === undefined) return []
      const list = typeof topics === 'function'
        ? (topics as (partitions?: number) => unknown)(partitions) : topics
      if (!Array.isArray(list)) {
        throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `The topics export of ${file} must be `
          + 'CreateTopicRequest[] or a function returning them.')
      }
      const requests = list as CreateTopicRequest[]
      return partitions === undefined || typeof topics === 'function' ? requests
        : requests.map(request => ({ ...request, partitions }))
    },
  }
}

/** Duck-typed: a topology built by another copy of the module is still one. */
function isTopology(value: unknown): value is Topology {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Partial<Topology>
  return typeof candidate.appId === 'string' && typeof candidate.start === 'function'
    && typeof candidate.describe === 'function'
}

/** 'orders-projection' → 'ordersProjection'. */
export function camelCase(name: string): string {
  return name.replace(/[-_.]+([a-zA-Z0-9])/g, (_, letter: string) => letter.toUpperCase())
}
