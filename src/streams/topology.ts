/**
 * A topology: sources, the operators between them and their sinks, built with an RxJS-style DSL
 * and run by `start()` (streams-app.ts).
 *
 * Repartitioning. A stateful operator needs every record of a key in one task. After `groupBy`,
 * or a `selectKey` followed by a stateful operator, records go through an internal topic
 * `<appId>-<name>-repartition`, partitioned by the new key, and a new sub-topology reads it
 * (Kafka Streams' rule). `<name>` is the groupBy's `name`, else the next store's name.
 *
 * Sub-topologies are the parts of the graph connected without a repartition topic; each runs as
 * one task per partition of its source topics, which must have equal partition counts (checked
 * at start).
 */
import type { OperatorFunction } from 'rxjs'
import { WeirError } from '../errors.ts'
import { KStream, KTable } from './kstream.ts'
import { type OperatorInfo, operatorInfo, type StoreSpec } from './operator-info.ts'
import { to } from './operators/to.ts'
import { toTable } from './operators/to-table.ts'
import { defaultKeySerde, json, type Serde } from './serdes.ts'
import { type SourceSpec, StreamNode, type TimestampExtractor } from './stream-node.ts'
import { type StartOptions, StreamsApp } from './streams-app.ts'
import { describeTopology, type TopologyDescription } from './topology-description.ts'

type AnyOperator = OperatorFunction<unknown, unknown>

export interface StreamOptions<V, K> {
  /** How values are read; JSON by default. */
  readonly serde?: Serde<V>
  /** How keys are read; UTF-8 strings by default. */
  readonly keySerde?: Serde<K>
  /**
   * The record's event time, e.g. a field of the value (Kafka's TimestampExtractor); the
   * timestamp the record was produced with by default. A result that is not a safe integer
   * ≥ 0 fails the record as a deserialization error (handled by `deserializationErrors`).
   */
  readonly timestampExtractor?: (value: V, key: K, recordTimestamp: number) => number
}

export interface TableOptions<V, K> extends StreamOptions<V, K> {
  /** The store the table is kept in (queryable); the topic's name by default. */
  readonly store?: string
}

/** A store and the node whose operator declared it. */
export interface DeclaredStore {
  readonly spec: StoreSpec
  readonly node: StreamNode
}

const topicName = /^[a-zA-Z0-9._-]{1,249}$/

export class Topology {
  /** @internal */ readonly sources = new Map<string, SourceSpec>()
  /** @internal */ readonly nodes: StreamNode[] = []
  /** @internal */ readonly stores = new Map<string, DeclaredStore>()
  /** @internal External topics records are sent to. */ readonly sinks = new Set<string>()
  /** @internal Repartition topics, each with the node that writes it. */
  readonly repartitions = new Map<string, StreamNode>()

  constructor(readonly appId: string) {
    if (!topicName.test(appId) || appId.startsWith('__')) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `appId '${appId}' must be a valid topic `
        + "name prefix (letters, digits, '.', '_', '-', not starting with '__'): it names the "
        + 'consumer group and the internal topics.')
    }
  }

  /** A stream of the records of `topic`. Records with a null value (tombstones) are skipped. */
  stream<V, K = string>(topic: string, options: StreamOptions<V, K> = {}): KStream<V, K> {
    return new KStream(this, this.sourceNode({ topic, kind: 'stream',
      keySerde: (options.keySerde ?? defaultKeySerde()) as Serde<unknown>,
      valueSerde: (options.serde ?? json<V>()) as Serde<unknown>,
      ...options.timestampExtractor === undefined ? {}
        : { timestampExtractor: options.timestampExtractor as TimestampExtractor } }))
  }

  /**
   * A table materialized from `topic` (usually compacted): the latest value per key, kept in the
   * store `options.store` (default: the topic's name); a null value deletes the key.
   */
  table<V, K = string>(topic: string, options: TableOptions<V, K> = {}): KTable<V, K> {
    const source = new KStream<V, K>(this, this.sourceNode({ topic, kind: 'table',
      keySerde: (options.keySerde ?? defaultKeySerde()) as Serde<unknown>,
      valueSerde: (options.serde ?? json<V>()) as Serde<unknown> }))
    const store = options.store ?? topic
    return new KTable(source.pipe(toTable<V>(store, { serde: options.serde,
      keySerde: options.keySerde as Serde<unknown> | undefined })), store)
  }

  /**
   * Starts the app: creates its internal topics, joins its consumer group and processes until
   * `close()` (streams-app.ts).
   */
  start(options: StartOptions): Promise<StreamsApp> {
    return StreamsApp.start(this, options)
  }

  /** The graph: sub-topologies with their sources, processors, stores, sinks and topics. */
  describe(): TopologyDescription {
    return describeTopology(this)
  }

  private sourceNode(spec: SourceSpec): StreamNode {
    if (!topicName.test(spec.topic)) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `'${spec.topic}' is not a valid topic name.`)
    }
    if (this.sources.has(spec.topic)) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `Topic ${spec.topic} is already a source `
        + 'of this topology; reuse the stream (a stream can feed several pipelines).')
    }
    this.sources.set(spec.topic, spec)
    return this.add(new StreamNode(this.nodes.length, 'source', [], new Set([spec.topic]), false,
      [], [spec.topic]))
  }

  private add(node: StreamNode): StreamNode {
    this.nodes.push(node)
    return node
  }

  /** @internal Applies `operators` after `parent`, cutting the pipeline at repartitions. */
  pipeNode(parent: StreamNode, operators: readonly AnyOperator[]): StreamNode {
    let node = parent
    let pending: AnyOperator[] = []
    let keyChanged = parent.keyChanged
    const flush = (): void => {
      if (pending.length > 0) node = this.pipe(node, pending, keyChanged)
      pending = []
    }
    operators.forEach((operator, index) => {
      const info = operatorInfo(operator)
      if (info?.kind === 'stateful' && keyChanged) {
        flush()
        node = this.repartition(node, info.repartitionName ?? info.stores[0]?.name
          ?? `${info.name}-${this.nodes.length}`, undefined, undefined)
        keyChanged = false
      }
      pending.push(operator)
      if (info?.kind === 'select-key') keyChanged = true
      if (info?.kind === 'group-by') {
        keyChanged = true
        flush()
        const name = info.name ?? nextStoreName(operators.slice(index + 1))
          ?? `group-by-${this.nodes.length}`
        node = this.repartition(node, name, info.keySerde, info.valueSerde)
        keyChanged = false
      }
    })
    flush()
    return node
  }

  private pipe(parent: StreamNode, operators: readonly AnyOperator[], keyChanged: boolean):
  StreamNode {
    const node = new StreamNode(this.nodes.length, 'pipe', [parent], parent.sources, keyChanged,
      operators, operators.map(operator => operatorLabel(operatorInfo(operator))))
    for (const operator of operators) this.register(operatorInfo(operator), node)
    return this.add(node)
  }

  private register(info: OperatorInfo | undefined, node: StreamNode): void {
    if (info?.kind === 'sink') this.sinks.add(info.topic)
    if (info?.kind !== 'stateful') return
    for (const spec of info.stores) {
      if (this.stores.has(spec.name)) {
        throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `Store '${spec.name}' is declared twice `
          + '(by two stateful operators); give each its own store name.')
      }
      this.stores.set(spec.name, { spec, node })
    }
  }

  /** Sends `parent`'s records through `<appId>-<name>-repartition` and reads them back. */
  private repartition(parent: StreamNode, name: string, keySerde: Serde<unknown> | undefined,
    valueSerde: Serde<unknown> | undefined): StreamNode {
    const topic = `${this.appId}-${name}-repartition`
    if (this.repartitions.has(topic)) {
      throw new WeirError('WEIR_ERR_STREAMS_TOPOLOGY', `Two repartitions are named '${name}'; `
        + 'give groupBy() a distinct name.')
    }
    const serdes = { keySerde: keySerde ?? defaultKeySerde(), serde: valueSerde ?? json() }
    const writer = this.add(new StreamNode(this.nodes.length, 'pipe', [parent], parent.sources,
      parent.keyChanged, [to(topic, serdes)], [`repartition → ${topic}`]))
    this.repartitions.set(topic, writer)
    return this.sourceNode({ topic, kind: 'repartition', keySerde: serdes.keySerde,
      valueSerde: serdes.serde })
  }

  /** @internal */
  branchNodes(parent: StreamNode, predicates: Array<(value: unknown, key: unknown) => boolean>):
  StreamNode[] {
    const branchOf = (value: unknown, key: unknown): number => {
      const index = predicates.findIndex(predicate => predicate(value, key))
      return index === -1 ? predicates.length : index
    }
    const branches: StreamNode[] = []
    for (let i = 0; i <= predicates.length; i++) {
      branches.push(this.add(new StreamNode(this.nodes.length, 'branch', [parent],
        parent.sources, parent.keyChanged, [], [i === predicates.length ? 'branch default'
          : `branch ${i}`], (value, key) => branchOf(value, key) === i)))
    }
    return branches
  }

  /**
   * @internal Two inputs into one (joins): each side's operators — which may read the stores
   * the other side writes — then one stream of what both emit. Sharing a node puts both sides'
   * sources in one sub-topology, so their partitions must match (checked at start:
   * WEIR_ERR_STREAMS_COPARTITION), and a side whose key changed is repartitioned by its new key
   * first (pipeNode), as the side operators are stateful.
   */
  joinNode(left: StreamNode, leftOperators: readonly AnyOperator[], right: StreamNode,
    rightOperators: readonly AnyOperator[]): StreamNode {
    return this.mergeNode([this.pipeNode(left, leftOperators),
      this.pipeNode(right, rightOperators)], 'join')
  }

  /** @internal */
  mergeNode(parents: readonly StreamNode[], label = 'merge'): StreamNode {
    const sources = new Set(parents.flatMap(parent => [...parent.sources]))
    return this.add(new StreamNode(this.nodes.length, 'merge', parents, sources,
      parents.some(parent => parent.keyChanged), [], [label]))
  }
}

function nextStoreName(operators: readonly AnyOperator[]): string | undefined {
  for (const operator of operators) {
    const info = operatorInfo(operator)
    if (info?.kind === 'stateful' && info.stores.length > 0) return info.stores[0]!.name
  }
  return undefined
}

function operatorLabel(info: OperatorInfo | undefined): string {
  if (info === undefined) return 'rxjs'
  switch (info.kind) {
    case 'sink': return `to ${info.topic}`
    case 'stateful': return info.stores.length === 0 ? info.name
      : `${info.name} [${info.stores.map(store => store.name).join(', ')}]`
    case 'group-by': return 'groupBy'
    default: return info.name
  }
}

/** Starts a topology definition; `appId` names its consumer group and internal topics. */
export function topology(appId: string): Topology {
  return new Topology(appId)
}
