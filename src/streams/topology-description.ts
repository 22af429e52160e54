/**
 * `topology.describe()`: the graph as data and as text (Kafka Streams' TopologyDescription):
 * sub-topologies with their source topics, processors (operator names in order), stores with
 * their changelog topics, sinks and repartition topics.
 */
import { changelogTopic, subTopologies } from './sub-topologies.ts'
import type { Topology } from './topology.ts'

export interface SubTopologyDescription {
  readonly id: number
  readonly sources: readonly string[]
  /** Each node: its kind and the operators it runs. */
  readonly processors: ReadonlyArray<{ readonly node: number, readonly kind: string,
    readonly operators: readonly string[] }>
  readonly stores: ReadonlyArray<{ readonly name: string, readonly changelog: string }>
  readonly sinks: readonly string[]
  readonly repartitionTopics: readonly string[]
}

export interface TopologyDescription {
  readonly appId: string
  readonly subTopologies: readonly SubTopologyDescription[]
  /** Every internal topic: repartition and changelog topics. */
  readonly internalTopics: readonly string[]
  /** The description as indented text. */
  toString(): string
}

export function describeTopology(topology: Topology): TopologyDescription {
  const described = subTopologies(topology).map((sub): SubTopologyDescription => ({
    id: sub.id,
    sources: sub.sources.map(source => source.topic),
    processors: sub.nodes.filter(node => node.kind !== 'source').map(node => ({ node: node.id,
      kind: node.kind, operators: node.labels })),
    stores: sub.stores.map(store => ({ name: store.name,
      changelog: changelogTopic(topology.appId, store.name) })),
    sinks: sub.sinks,
    repartitionTopics: sub.repartitionSinks,
  }))
  const internalTopics = [...topology.repartitions.keys(),
    ...described.flatMap(sub => sub.stores.map(store => store.changelog))]
  return {
    appId: topology.appId,
    subTopologies: described,
    internalTopics,
    toString: () => [`Topology ${topology.appId}`, ...described.flatMap(sub => [
      `  Sub-topology ${sub.id}`,
      `    Sources: ${sub.sources.join(', ')}`,
      ...sub.processors.map(processor =>
        `    Processor #${processor.node} (${processor.kind}): `
        + processor.operators.join(' → ')),
      ...sub.stores.map(store => `    Store: ${store.name} (changelog ${store.changelog})`),
      ...sub.sinks.map(sink => `    Sink: ${sink}`),
      ...sub.repartitionTopics.map(topic => `    Repartition sink: ${topic}`),
    ])].join('\n'),
  }
}
