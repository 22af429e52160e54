/**
 * Table–table joins (Kafka Streams' KTable#join / #leftJoin / #outerJoin): the result is a table
 * with the same keys, kept in the store `options.store` (queryable, changelogged), whose value
 * for a key is joiner(left value, right value) when
 * - inner: both tables hold the key;
 * - left: the left table holds it (the right value may be null);
 * - outer: either does (the missing side is null).
 * An update on either side recomputes its key from both tables' current values. The result's
 * updates flow on as a table's do: the new value, or null when the key left the result (only
 * when it was in it: a key never in the result emits nothing). As in Kafka the result is
 * eventually consistent: each side's updates are applied in the order the task reads them
 * (arrival order, no timestamp synchronization between the two topics), and once both are read
 * the result equals the join of the final tables. Both tables must be co-partitioned (checked
 * at start: WEIR_ERR_STREAMS_COPARTITION). The output's event time is that of the update that
 * caused it (Kafka takes the larger of both sides' timestamps; tables here keep no timestamps).
 */
import type { OperatorFunction } from 'rxjs'
import { KStream, KTable } from '../kstream.ts'
import { tagOperator } from '../operator-info.ts'
import { operate } from '../operate.ts'
import { currentRecord } from '../processing-context.ts'
import type { Serde } from '../serdes.ts'
import { storeSpec } from '../operators/store-internals.ts'

export type TableJoinKind = 'inner' | 'left' | 'outer'

export interface TableJoinOptions<J> {
  /** The result table's store (queryable; names its changelog). */
  readonly store: string
  readonly serde?: Serde<J>
  readonly keySerde?: Serde<unknown>
}

export function joinTables<L, R, J, K>(kind: TableJoinKind, left: KTable<L, K>,
  right: KTable<R, K>, joiner: (left: L | null, right: R | null, key: K) => J,
  options: TableJoinOptions<J>): KTable<J, K> {
  const spec = storeSpec(`${kind}Join`, options)
  const side = (self: 'left' | 'right', stores: typeof spec[]): OperatorFunction<unknown,
    J | null> => tagOperator({ kind: 'stateful', name: `tableJoin (${self})`, stores },
    operate<unknown, J | null>('tableJoin', (subscriber, host) => {
      const other = host.store(self === 'left' ? right.store : left.store)
      const result = host.store(spec.name)
      return value => {
        const { key } = currentRecord('tableJoin')
        if (key === null || key === undefined) return
        const found = (other.get(key) ?? null) as L | R | null
        const [l, r] = self === 'left' ? [value as L | null, found as R | null]
          : [found as L | null, value as R | null]
        const present = kind === 'inner' ? l !== null && r !== null
          : kind === 'left' ? l !== null : l !== null || r !== null
        if (present) {
          const joined = joiner(l, r, key as K)
          result.put(key, joined)
          subscriber.next(joined)
        } else if (result.get(key) !== undefined) {
          result.delete(key)
          subscriber.next(null)
        }
      }
    }))
  const node = left.topology.joinNode(left.toStream().node, [side('left', [spec])],
    right.toStream().node, [side('right', [])])
  return new KTable(new KStream<J | null, K>(left.topology, node) as KStream<J, K>,
    spec.name)
}
