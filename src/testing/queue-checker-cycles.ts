/**
 * Dependency cycles between committed operations (Elle-style, simplified). Nodes are committed
 * operations (txns, and single sends and polls as one-op txns). Edges:
 * - `wr`: A sent a value B read (B saw A's write);
 * - `ww`: on one key, A's committed write is immediately followed, in offset order, by B's.
 * Strongly connected components are found with Tarjan's algorithm (iterative, so long
 * histories cannot overflow the stack), then classified:
 * - a cycle of `wr` edges only is `G1c` (circular information flow), a violation: under
 *   read_committed each read implies the writer committed before the reader did;
 * - otherwise a cycle of `ww` edges only is `G0`, and a cycle that needs both kinds `G1c-ww`:
 *   both allowed in Kafka's model, whose transactions do not isolate writes (reliability.md §2,
 *   `allowed-error-types` in kafka.clj).
 * Not done: rw anti-dependencies (G-single, G2) and process/realtime edges.
 */
import type { Anomaly } from './check-result.ts'
import { show } from './check-result.ts'
import { committedWriters, indexOfValue, isCommitted } from './queue-checker-analysis.ts'
import type { Analysis } from './queue-checker-analysis.ts'
import type { Findings } from './queue-checker-order.ts'

type EdgeKind = 'ww' | 'wr'

interface Edge {
  readonly to: number
  readonly kind: EdgeKind
  readonly key: unknown
}

/** Adjacency lists from op id, in deterministic (history) order. */
type Graph = Map<number, Edge[]>

export function cycleFindings(analysis: Analysis): Findings {
  const graph = dependencyGraph(analysis)
  const findings: Findings = { anomalies: [], allowed: [] }
  const wrOnly = filterGraph(graph, 'wr')
  for (const component of stronglyConnected(wrOnly)) {
    findings.anomalies.push(cycleAnomaly('G1c', wrOnly, component))
  }
  const wwOnly = filterGraph(graph, 'ww')
  for (const component of stronglyConnected(graph)) {
    if (stronglyConnected(restrict(wrOnly, component)).length > 0) continue
    const g0 = stronglyConnected(restrict(wwOnly, component))
    findings.allowed.push(g0.length > 0
      ? cycleAnomaly('G0', wwOnly, g0[0]!)
      : cycleAnomaly('G1c-ww', graph, component))
  }
  return findings
}

function dependencyGraph(analysis: Analysis): Graph {
  const graph: Graph = new Map()
  const addEdge = (from: number, edge: Edge) => {
    if (from === edge.to) return
    const edges = graph.get(from) ?? []
    if (!edges.some(e => e.to === edge.to && e.kind === edge.kind)) edges.push(edge)
    graph.set(from, edges)
  }
  for (const info of analysis.keys.values()) {
    const ordered: { index: number, writers: number[] }[] = []
    for (const entry of info.values.values()) {
      if (!isCommitted(analysis, entry)) continue
      const writers = committedWriters(analysis, entry).map(op => op.id)
      const readers = [...new Set(entry.readers.map(op => op.id))]
      for (const writer of writers) {
        for (const reader of readers) addEdge(writer, { to: reader, kind: 'wr', key: info.key })
      }
      const index = indexOfValue(info, entry)
      if (index !== undefined) ordered.push({ index, writers })
    }
    ordered.sort((a, b) => a.index - b.index)
    for (let i = 1; i < ordered.length; i++) {
      for (const from of ordered[i - 1]!.writers) {
        for (const to of ordered[i]!.writers) addEdge(from, { to, kind: 'ww', key: info.key })
      }
    }
  }
  return graph
}

function filterGraph(graph: Graph, kind: EdgeKind): Graph {
  return new Map([...graph].map(([from, edges]) => [from, edges.filter(e => e.kind === kind)]))
}

function restrict(graph: Graph, nodes: readonly number[]): Graph {
  const keep = new Set(nodes)
  return new Map(nodes.map(node =>
    [node, (graph.get(node) ?? []).filter(edge => keep.has(edge.to))]))
}

/** Tarjan's SCC, iterative; returns only components with more than one node (no self loops). */
export function stronglyConnected(graph: Graph): number[][] {
  const order = new Map<number, number>()
  const low = new Map<number, number>()
  const onStack = new Set<number>()
  const stack: number[] = []
  const components: number[][] = []
  const nodes = [...new Set([...graph.keys(), ...[...graph.values()].flat().map(e => e.to)])]
  for (const root of nodes.sort((a, b) => a - b)) {
    if (order.has(root)) continue
    const frames: { node: number, next: number }[] = [{ node: root, next: 0 }]
    order.set(root, order.size)
    low.set(root, order.get(root)!)
    stack.push(root)
    onStack.add(root)
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!
      const edges = graph.get(frame.node) ?? []
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!.to
        if (!order.has(to)) {
          order.set(to, order.size)
          low.set(to, order.get(to)!)
          stack.push(to)
          onStack.add(to)
          frames.push({ node: to, next: 0 })
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, order.get(to)!))
        }
        continue
      }
      frames.pop()
      const parent = frames[frames.length - 1]
      if (parent !== undefined) {
        low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      }
      if (low.get(frame.node) !== order.get(frame.node)) continue
      const component: number[] = []
      let member: number
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== frame.node)
      if (component.length > 1) components.push(component.sort((a, b) => a - b))
    }
  }
  return components
}

/** A shortest cycle through the component's first node (BFS), as the anomaly's evidence. */
function cycleAnomaly(type: string, graph: Graph, component: readonly number[]): Anomaly {
  const inside = new Set(component)
  const start = component[0]!
  const via = new Map<number, { from: number, edge: Edge }>()
  const queue = [start]
  for (let head = 0; head < queue.length && !via.has(start); head++) {
    const node = queue[head]!
    for (const edge of graph.get(node) ?? []) {
      if (!inside.has(edge.to) || via.has(edge.to)) continue
      via.set(edge.to, { from: node, edge })
      queue.push(edge.to)
    }
  }
  const steps: string[] = []
  const events: number[] = []
  let node = start
  do {
    const step = via.get(node)!
    steps.unshift(`-${step.edge.kind} ${show(step.edge.key)}->`)
    events.unshift(step.from)
    node = step.from
  } while (node !== start && steps.length <= component.length)
  const path = events.map((id, i) => `op ${id} ${steps[i]}`).join(' ')
  return { type, events, message: `cycle of ${component.length} operations: ${path} op ${start}` }
}
