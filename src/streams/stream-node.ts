/**
 * The graph a topology is made of. Each node knows its parents, the source topics it derives
 * from (which decide its sub-topology) and how to build its part of a task's RxJS pipeline.
 * Nodes are immutable once created; `children` only counts, to find the leaves a task subscribes.
 */
import { merge, Observable, type OperatorFunction, share, type Subject } from 'rxjs'
import { filter } from 'rxjs/operators'
import { assert } from '../util/assert.ts'
import { currentRecord } from './processing-context.ts'
import type { Serde } from './serdes.ts'

export type NodeKind = 'source' | 'pipe' | 'merge' | 'branch'

/** A source topic: how its keys and values are read, and whether it is a stream or a table. */
export interface SourceSpec {
  readonly topic: string
  readonly keySerde: Serde<unknown>
  readonly valueSerde: Serde<unknown>
  readonly kind: 'stream' | 'table' | 'repartition'
  /** Event time of a record read from the topic; the record's own timestamp when absent. */
  readonly timestampExtractor?: TimestampExtractor
}

/**
 * Event time of a record from its deserialized value and key and its stored timestamp (Kafka's
 * TimestampExtractor): ms since the epoch, a safe integer ≥ 0.
 */
export type TimestampExtractor = (value: unknown, key: unknown, recordTimestamp: number) => number

/** A task's build of the graph: one Subject per source topic, one Observable per node. */
export interface PipelineBuild {
  readonly subjects: ReadonlyMap<string, Subject<unknown>>
  readonly built: Map<StreamNode, Observable<unknown>>
}

type AnyOperator = OperatorFunction<unknown, unknown>

export class StreamNode {
  children = 0

  constructor(
    readonly id: number,
    readonly kind: NodeKind,
    readonly parents: readonly StreamNode[],
    readonly sources: ReadonlySet<string>,
    /** The records' key may differ from the one their source partitioned them by. */
    readonly keyChanged: boolean,
    /** Pipe nodes: the operators, in order. Source nodes: none. */
    readonly operators: readonly AnyOperator[],
    /** Labels for describe(): the operators' names, or the source topic. */
    readonly labels: readonly string[],
    private readonly select?: (value: unknown, key: unknown) => boolean,
  ) {
    for (const parent of parents) parent.children++
  }

  /** This node's Observable in a task (built once per task and shared by its children). */
  build(pipeline: PipelineBuild): Observable<unknown> {
    const existing = pipeline.built.get(this)
    if (existing !== undefined) return existing
    const built = this.create(pipeline).pipe(share())
    pipeline.built.set(this, built)
    return built
  }

  private create(pipeline: PipelineBuild): Observable<unknown> {
    switch (this.kind) {
      case 'source': {
        const subject = pipeline.subjects.get(this.labels[0]!)
        assert(subject !== undefined, 'a task has a subject for each source of its sub-topology')
        return subject.asObservable()
      }
      case 'pipe':
        return this.operators.reduce<Observable<unknown>>((observable, operator) =>
          observable.pipe(operator), this.parents[0]!.build(pipeline))
      case 'merge':
        return merge(...this.parents.map(parent => parent.build(pipeline)))
      case 'branch': {
        const select = this.select!
        return this.parents[0]!.build(pipeline).pipe(filter(value =>
          select(value, currentRecord('branch').key)))
      }
    }
  }
}
