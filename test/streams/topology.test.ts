import { filter, map } from 'rxjs'
import { describe, expect, test } from 'vitest'
import {
  aggregate, count, groupBy, process, selectKey, topology, WeirError,
} from '../../src/index.ts'

interface Order { userId: string, total: number }

describe('topology building', () => {
  test('groupBy cuts the graph at a repartition topic named after the next store', () => {
    const t = topology('shop')
    t.stream<Order>('orders').pipe(filter(o => o.total > 0), groupBy(o => o.userId),
      aggregate(() => 0, (sum, o) => sum + o.total, { store: 'spend' })).to('spend-out')
    const description = t.describe()
    expect(description.subTopologies.map(sub => sub.sources)).toEqual([
      ['orders'], ['shop-spend-repartition']])
    expect(description.subTopologies[0]!.repartitionTopics).toEqual(['shop-spend-repartition'])
    expect(description.subTopologies[0]!.sinks).toEqual([])
    expect(description.subTopologies[1]!.stores).toEqual([
      { name: 'spend', changelog: 'shop-spend-changelog' }])
    expect(description.subTopologies[1]!.sinks).toEqual(['spend-out'])
    expect(description.internalTopics).toEqual(['shop-spend-repartition', 'shop-spend-changelog'])
    const text = String(description)
    expect(text).toContain('Sources: orders')
    expect(text).toContain('aggregate [spend]')
  })

  test('selectKey repartitions only before a stateful operator', () => {
    const t = topology('keys')
    const rekeyed = t.stream<Order>('orders').pipe(selectKey(o => o.userId), map(o => o.total))
    rekeyed.to('totals')
    expect(t.describe().subTopologies).toHaveLength(1)
    rekeyed.pipe(count({ store: 'per-user' }))
    const subs = t.describe().subTopologies
    expect(subs).toHaveLength(2)
    expect(subs[1]!.sources).toEqual(['keys-per-user-repartition'])
  })

  test('a stateful operator on the source key needs no repartition', () => {
    const t = topology('direct')
    t.stream<Order>('orders').pipe(count({ store: 'orders-per-key' }))
    expect(t.describe().subTopologies).toHaveLength(1)
    expect(t.describe().internalTopics).toEqual(['direct-orders-per-key-changelog'])
  })

  test('merged sources share a sub-topology (their tasks are co-partitioned)', () => {
    const t = topology('merged')
    const a = t.stream<Order>('a')
    const b = t.stream<Order>('b')
    a.merge(b).pipe(count({ store: 'both' }))
    t.stream<Order>('c').to('c-copy')
    expect(t.describe().subTopologies.map(sub => sub.sources)).toEqual([['a', 'b'], ['c']])
  })

  test('mistakes are WEIR_ERR_STREAMS_TOPOLOGY errors that name the part', () => {
    const t = topology('bad')
    const orders = t.stream<Order>('orders')
    orders.pipe(count({ store: 'x' }))
    expect(() => orders.pipe(count({ store: 'x' }))).toThrow(/Store 'x' is declared twice/)
    expect(() => t.stream('orders')).toThrow(/already a source/)
    expect(() => count({ store: 'a b' })).toThrow(WeirError)
    expect(() => topology('__internal')).toThrow(/appId/)
    expect(() => orders.pipe(groupBy(o => o.userId, { name: 'g' }), count({ store: 'y' }),
      groupBy(() => 1, { name: 'g' }), count({ store: 'z' }))).toThrow(/named 'g'/)
    try {
      count({ store: '' })
    } catch (error) {
      expect(WeirError.is(error, 'WEIR_ERR_STREAMS_TOPOLOGY')).toBe(true)
    }
  })

  test('process declares its stores; describe lists them', () => {
    const t = topology('proc')
    t.stream<Order>('orders').pipe(process<Order, number>({
      process: (order, context) => context.forward(order.total),
    }, { stores: [{ store: 'seen' }, { store: 'totals' }] }))
    expect(t.describe().subTopologies[0]!.stores.map(store => store.name))
      .toEqual(['seen', 'totals'])
  })
})
