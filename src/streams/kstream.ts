/**
 * A stream of records in a topology (Kafka Streams' KStream): values typed `V`, keys `K`.
 * `pipe()` takes RxJS operators for stateless steps and Weir's operators (selectKey, groupBy,
 * aggregate, reduce, count, dedupe, toTable, to, process, mapAsync) for keyed and stateful ones.
 * Building a stream only describes it; a task runs it for each input partition once the app
 * starts.
 */
import type { OperatorFunction } from 'rxjs'
import type { StreamNode } from './stream-node.ts'
import type { Topology } from './topology.ts'
import { to, type ToOptions } from './operators/to.ts'
import { toTable, type ToTableOptions } from './operators/to-table.ts'
import { joinStreamTable, type StreamTableJoinOptions } from './joins/stream-table-join.ts'
import { joinStreams, type StreamJoinOptions } from './joins/stream-stream-join.ts'
import type { JoinWindows } from './joins/join-windows.ts'
import { joinTables, type TableJoinOptions } from './joins/table-table-join.ts'
import { type ForeignKeyJoinOptions, joinOnForeignKey } from './joins/foreign-key-join.ts'

type Op<A, B> = OperatorFunction<A, B>

export class KStream<V, K = string> {
  /** @internal */
  constructor(readonly topology: Topology, readonly node: StreamNode) {}

  pipe(): KStream<V, K>
  pipe<A>(op1: Op<V, A>): KStream<A, K>
  pipe<A, B>(op1: Op<V, A>, op2: Op<A, B>): KStream<B, K>
  pipe<A, B, C>(op1: Op<V, A>, op2: Op<A, B>, op3: Op<B, C>): KStream<C, K>
  pipe<A, B, C, D>(op1: Op<V, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>): KStream<D, K>
  pipe<A, B, C, D, E>(op1: Op<V, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>,
    op5: Op<D, E>): KStream<E, K>
  pipe<A, B, C, D, E, F>(op1: Op<V, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>,
    op5: Op<D, E>, op6: Op<E, F>): KStream<F, K>
  pipe<A, B, C, D, E, F, G>(op1: Op<V, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>,
    op5: Op<D, E>, op6: Op<E, F>, op7: Op<F, G>): KStream<G, K>
  pipe<A, B, C, D, E, F, G, H>(op1: Op<V, A>, op2: Op<A, B>, op3: Op<B, C>, op4: Op<C, D>,
    op5: Op<D, E>, op6: Op<E, F>, op7: Op<F, G>, op8: Op<G, H>): KStream<H, K>
  pipe(...operators: Array<Op<never, unknown>>): KStream<unknown, K> {
    return new KStream(this.topology, this.topology.pipeNode(this.node,
      operators as Array<Op<unknown, unknown>>))
  }

  /** Sends every record to `topic` (a terminal `to()` operator). */
  to(topic: string, options: ToOptions<V> = {}): void {
    this.pipe(to(topic, options))
  }

  /** Materializes the stream as the queryable table `store` (latest value per key). */
  toTable(store: string, options: ToTableOptions<V> = {}): KTable<V, K> {
    const stream = this.pipe(toTable(store, options))
    return new KTable(stream, store)
  }

  /**
   * Splits the stream: each record goes to the first branch whose predicate accepts it, or to
   * the last stream returned (the default branch) when none does — Kafka Streams' split().
   */
  branch(...predicates: Array<(value: V, key: K) => boolean>): Array<KStream<V, K>> {
    return this.topology.branchNodes(this.node,
      predicates as Array<(value: unknown, key: unknown) => boolean>)
      .map(node => new KStream<V, K>(this.topology, node))
  }

  /** One stream of the records of this one and `others`, in arrival order. */
  merge(...others: Array<KStream<V, K>>): KStream<V, K> {
    return new KStream(this.topology,
      this.topology.mergeNode([this.node, ...others.map(other => other.node)]))
  }

  /**
   * Joins each record with the table's value for its key; records whose key the table lacks
   * are dropped (joins/stream-table-join.ts: which value a record sees, co-partitioning). With
   * another stream and JoinWindows, joins records of both whose times are within the window
   * (joins/stream-stream-join.ts).
   */
  join<T, J>(table: KTable<T, K>, joiner: (value: V, tableValue: T, key: K) => J,
    options?: StreamTableJoinOptions<T>): KStream<J, K>
  join<R, J>(other: KStream<R, K>, joiner: (left: V, right: R, key: K) => J,
    windows: JoinWindows, options: StreamJoinOptions<V, R>): KStream<J, K>
  join(other: KTable<unknown, K> | KStream<unknown, K>, ...rest: unknown[]): KStream<unknown, K> {
    return this.joinAs('inner', other, rest)
  }

  /**
   * Like join(), but a record finding nothing is joined with null: at once with a table; with a
   * stream, once its window has closed without a match.
   */
  leftJoin<T, J>(table: KTable<T, K>, joiner: (value: V, tableValue: T | null, key: K) => J,
    options?: StreamTableJoinOptions<T>): KStream<J, K>
  leftJoin<R, J>(other: KStream<R, K>, joiner: (left: V, right: R | null, key: K) => J,
    windows: JoinWindows, options: StreamJoinOptions<V, R>): KStream<J, K>
  leftJoin(other: KTable<unknown, K> | KStream<unknown, K>, ...rest: unknown[]):
  KStream<unknown, K> {
    return this.joinAs('left', other, rest)
  }

  /** Like leftJoin() with a stream, for records of both sides: the side missing is null. */
  outerJoin<R, J>(other: KStream<R, K>, joiner: (left: V | null, right: R | null, key: K) => J,
    windows: JoinWindows, options: StreamJoinOptions<V, R>): KStream<J, K> {
    return joinStreams('outer', this, other, joiner, windows, options)
  }

  private joinAs(kind: 'inner' | 'left', other: KTable<unknown, K> | KStream<unknown, K>,
    rest: unknown[]): KStream<unknown, K> {
    type Joiner = (left: V | null, right: unknown, key: K) => unknown
    if (other instanceof KTable) {
      const [joiner, options] = rest as [Joiner, StreamTableJoinOptions<unknown> | undefined]
      return joinStreamTable(kind, this, other, joiner as (value: V, row: unknown, key: K) =>
        unknown, options)
    }
    const [joiner, windows, options] = rest as [Joiner, JoinWindows,
      StreamJoinOptions<V, unknown>]
    return joinStreams(kind, this, other, joiner, windows, options)
  }
}

/** What KTable#join and #leftJoin take after the other table: a joiner, or an FK and one. */
type TableJoinArguments<V, R, J, K> =
  | [joiner: (left: V | null, right: R | null, key: K) => J, options: TableJoinOptions<J>]
  | [foreignKey: (value: V) => unknown, joiner: (left: V, right: R | null) => J,
    options: ForeignKeyJoinOptions<J>]

/** A table: the latest value per key, kept in a queryable store (Kafka Streams' KTable). */
export class KTable<V, K = string> {
  /** @internal */
  constructor(private readonly updates: KStream<V, K>, readonly store: string) {}

  /** @internal */
  get topology(): Topology {
    return this.updates.topology
  }

  /** The table's updates as a stream (each new value of a key; null for a delete). */
  toStream(): KStream<V, K> {
    return this.updates
  }

  /**
   * The table of keys both tables hold, valued joiner(left, right), kept in `options.store`
   * (joins/table-table-join.ts: updates, consistency, co-partitioning). With a `foreignKey`
   * extractor, each row joins the other table's row whose key its value names instead
   * (joins/foreign-key-join.ts; the tables need not be co-partitioned).
   */
  join<R, J>(other: KTable<R, K>, joiner: (left: V, right: R, key: K) => J,
    options: TableJoinOptions<J>): KTable<J, K>
  join<R, J, FK>(other: KTable<R, FK>, foreignKey: (value: V) => FK | null,
    joiner: (left: V, right: R) => J, options: ForeignKeyJoinOptions<J>): KTable<J, K>
  join(other: KTable<unknown, unknown>, ...rest: unknown[]): KTable<unknown, K> {
    return this.joinAs('inner', other, rest as TableJoinArguments<V, unknown, unknown, K>)
  }

  /** Like join(), but every row of this table is in the result, joined with null if need be. */
  leftJoin<R, J>(other: KTable<R, K>, joiner: (left: V, right: R | null, key: K) => J,
    options: TableJoinOptions<J>): KTable<J, K>
  leftJoin<R, J, FK>(other: KTable<R, FK>, foreignKey: (value: V) => FK | null,
    joiner: (left: V, right: R | null) => J, options: ForeignKeyJoinOptions<J>): KTable<J, K>
  leftJoin(other: KTable<unknown, unknown>, ...rest: unknown[]): KTable<unknown, K> {
    return this.joinAs('left', other, rest as TableJoinArguments<V, unknown, unknown, K>)
  }

  private joinAs<R, J>(kind: 'inner' | 'left', other: KTable<R, unknown>,
    rest: TableJoinArguments<V, R, J, K>): KTable<J, K> {
    if (rest.length === 3) {
      const [foreignKey, joiner, options] = rest
      return joinOnForeignKey(kind, this, other, foreignKey, joiner, options)
    }
    const [joiner, options] = rest
    return joinTables(kind, this, other as KTable<R, K>, joiner, options)
  }

  /** The table of the keys either table holds; the side lacking a key gives null. */
  outerJoin<R, J>(other: KTable<R, K>, joiner: (left: V | null, right: R | null, key: K) => J,
    options: TableJoinOptions<J>): KTable<J, K> {
    return joinTables('outer', this, other, joiner, options)
  }
}
