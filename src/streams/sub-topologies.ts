/**
 * Splits a topology into sub-topologies: the parts connected without a repartition topic (nodes
 * that derive from a common source topic, directly or through merge). Each runs as one task per
 * partition; its stores live in those tasks, with one changelog partition per task.
 */
import { operatorInfo, type StoreSpec } from './operator-info.ts'
import type { SourceSpec, StreamNode } from './stream-node.ts'
import type { Topology } from './topology.ts'

export interface SubTopology {
  readonly id: number
  readonly sources: readonly SourceSpec[]
  readonly nodes: readonly StreamNode[]
  /** Nodes nothing reads from: what a task subscribes to. */
  readonly leaves: readonly StreamNode[]
  readonly stores: readonly StoreSpec[]
  /** External topics its operators send to. */
  readonly sinks: readonly string[]
  /** Repartition topics it writes. */
  readonly repartitionSinks: readonly string[]
}

export function changelogTopic(appId: string, store: string): string {
  return `${appId}-${store}-changelog`
}

export function subTopologies(topology: Topology): SubTopology[] {
  const parent = new Map<string, string>()
  const find = (topic: string): string => {
    let root = topic
    while (parent.get(root) !== root) root = parent.get(root)!
    parent.set(topic, root)
    return root
  }
  for (const topic of topology.sources.keys()) parent.set(topic, topic)
  for (const node of topology.nodes) {
    const [first, ...rest] = [...node.sources]
    for (const topic of rest) parent.set(find(topic), find(first!))
  }
  const groups = new Map<string, StreamNode[]>()
  for (const node of topology.nodes) {
    const root = find([...node.sources][0]!)
    const nodes = groups.get(root) ?? []
    nodes.push(node)
    groups.set(root, nodes)
  }
  return [...groups.entries()].map(([root, nodes], id) => {
    const sources = [...topology.sources.values()].filter(source => find(source.topic) === root)
    const inGroup = new Set(nodes)
    const stores = [...topology.stores.values()].filter(store => inGroup.has(store.node))
      .map(store => store.spec)
    const sinks = new Set<string>()
    for (const node of nodes) {
      for (const operator of node.operators) {
        const info = operatorInfo(operator)
        if (info?.kind === 'sink' && !topology.repartitions.has(info.topic)) sinks.add(info.topic)
      }
    }
    const repartitionSinks = [...topology.repartitions.entries()]
      .filter(([, writer]) => inGroup.has(writer)).map(([topic]) => topic)
    return { id, sources, nodes, leaves: nodes.filter(node => node.children === 0), stores,
      sinks: [...sinks], repartitionSinks }
  })
}
