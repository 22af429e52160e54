import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { map, mergeMap, delay } from 'rxjs'
import protobufjs from 'protobufjs'
import { afterEach, describe, expect, test } from 'vitest'
import {
  aggregate, count, dedupe, mapAsync, process, protobuf, reduce, sagaRetention, selectKey, string,
  topology, toTable, WeirError,
} from '../../src/index.ts'
import { harness, type Harness } from '../helpers/topology-runner.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const values = (records: Array<{ value: string | null }>) => records.map(r => r.value)

describe('operators at run time', () => {
  test('mergeMap to several records, selectKey then count repartitions by the new key',
    async () => {
    h = await harness([{ topic: 'baskets', partitions: 2 }, { topic: 'counts', partitions: 2 }])
    const t = topology('fruit')
    t.stream<string[]>('baskets').pipe(mergeMap(items => items), selectKey(item => item),
      count({ store: 'per-fruit' }), map(n => n)).to('counts')
    await h.produce('baskets', [{ key: 'b1', value: '["apple","pear"]' },
      { key: 'b2', value: '["apple"]' }, { key: 'b3', value: '["apple","fig","pear"]' }])
    const app = await h.start(t)
    await app.caughtUp()
    expect(await app.query<number>('per-fruit').all()).toEqual([
      { key: 'apple', value: 3 }, { key: 'fig', value: 1 }, { key: 'pear', value: 2 }])
    const counted = await h.read('counts')
    const apples = counted.filter(r => r.key === 'apple').map(r => r.value)
    expect(apples).toEqual(['1', '2', '3'])
    expect(await app.query<number>('per-fruit').get('pear')).toBe(2)
    expect(await app.query<number>('per-fruit').prefix('p')).toEqual([{ key: 'pear', value: 2 }])
    expect(await app.query<number>('per-fruit').range({ from: 'b', to: 'g' }))
      .toEqual([{ key: 'fig', value: 1 }])
  })

  test('branch sends each record to the first matching branch, merge joins streams', async () => {
    h = await harness([{ topic: 'n' }, { topic: 'small' }, { topic: 'big' }, { topic: 'rest' },
      { topic: 'all' }])
    const t = topology('branches')
    const [small, big, rest] = t.stream<number>('n').branch(n => n < 10, n => n < 100)
    small!.to('small')
    big!.to('big')
    rest!.to('rest')
    small!.merge(rest!).to('all')
    await h.produce('n', [5, 50, 500, 7, 70].map(n => ({ key: String(n), value: String(n) })))
    const app = await h.start(t)
    await app.caughtUp()
    expect(values(await h.read('small'))).toEqual(['5', '7'])
    expect(values(await h.read('big'))).toEqual(['50', '70'])
    expect(values(await h.read('rest'))).toEqual(['500'])
    expect(values(await h.read('all'))).toEqual(['5', '500', '7'])
  })

  test('dedupe passes the first record of each id; reduce keeps the running result', async () => {
    h = await harness([{ topic: 'events' }, { topic: 'firsts' }, { topic: 'longest' }])
    const t = topology('dd')
    const events = t.stream('events', { serde: string() })
    events.pipe(dedupe({ store: 'seen', id: value => value })).to('firsts', { serde: string() })
    events.pipe(reduce((a, b) => (b.length > a.length ? b : a),
      { store: 'longest', serde: string() }))
      .to('longest', { serde: string() })
    await h.produce('events',
      ['a', 'bb', 'a', 'ccc', 'bb', 'd'].map(value => ({ key: 'k', value })))
    const app = await h.start(t)
    await app.caughtUp()
    expect(values(await h.read('firsts'))).toEqual(['a', 'bb', 'ccc', 'd'])
    expect(values(await h.read('longest'))).toEqual(['a', 'bb', 'bb', 'ccc', 'ccc', 'ccc'])
    expect(await app.query('longest').get('k')).toBe('ccc')
  })

  test('a table keeps the latest value per key and a null value deletes it', async () => {
    h = await harness([{ topic: 'prices' }])
    const t = topology('tables')
    t.table<number>('prices', { store: 'price-table' })
    await h.produce('prices', [{ key: 'a', value: '1' }, { key: 'b', value: '2' },
      { key: 'a', value: '3' }, { key: 'b', value: null }, { key: 'c', value: '4' }])
    const app = await h.start(t)
    await app.caughtUp()
    expect(await app.query<number>('price-table').all()).toEqual([
      { key: 'a', value: 3 }, { key: 'c', value: 4 }])
  })

  test('toTable as an operator materializes the stream under its name', async () => {
    h = await harness([{ topic: 'users' }])
    const t = topology('tt')
    t.stream<{ name: string }>('users').pipe(map(u => u.name.toUpperCase()), toTable('names'))
    await h.produce('users', [{ key: 'u1', value: '{"name":"ada"}' },
      { key: 'u2', value: '{"name":"bob"}' }])
    const app = await h.start(t)
    await app.caughtUp()
    expect(await app.query<string>('names').all()).toEqual([
      { key: 'u1', value: 'ADA' }, { key: 'u2', value: 'BOB' }])
  })

  test('process: stores, forward with a new key, stream-time punctuation', async () => {
    h = await harness([{ topic: 'ticks' }, { topic: 'summaries' }])
    const t = topology('punct')
    const fired: number[] = []
    t.stream<number>('ticks').pipe(process<number, number>({
      init(context) {
        context.schedule(1000, 'stream-time', time => {
          fired.push(time)
          const store = context.store<string, number>('sum')
          context.forward(store.get('total') ?? 0, { key: 'total' })
        })
      },
      process(value, context) {
        const store = context.store<string, number>('sum')
        store.put('total', (store.get('total') ?? 0) + value)
      },
    }, { stores: [{ store: 'sum' }] })).to('summaries')
    await h.produce('ticks', [
      { key: 'x', value: '1', timestamp: 10_000 }, { key: 'x', value: '2', timestamp: 10_500 },
      { key: 'x', value: '3', timestamp: 11_000 }, { key: 'x', value: '4', timestamp: 13_500 }])
    const app = await h.start(t)
    await app.caughtUp()
    // first due at 10 000 + 1000; then the jump to 13 500 fires once (Kafka skips missed ones)
    expect(fired).toEqual([11_000, 13_500])
    expect(await h.read('summaries')).toMatchObject([{ key: 'total', value: '6' },
      { key: 'total', value: '10' }])
    expect(await app.query<number>('sum').get('total')).toBe(10)
  })

  test('process: a store with an expiry deletes entries once stream time reaches their '
    + 'expiresAtMs (Infinity never), through the changelog, so a restore keeps them deleted',
  async () => {
    h = await harness([{ topic: 'sessions' }])
    const build = () => {
      const t = topology('expiring')
      t.stream<{ open: boolean }>('sessions').pipe(process<{ open: boolean }, never>({
        process(value, context) {
          context.store<string, { open: boolean, at: number }>('last').put(
            context.record.key as string, { open: value.open, at: context.record.timestamp })
        },
      }, { stores: [{ store: 'last', expiry: {
        expiresAtMs: (_key, entry: { open: boolean, at: number }) => entry.open ? Infinity
          : entry.at + 1000,
        sweepIntervalMs: 100 } }] }))
      return t
    }
    await h.produce('sessions', [
      { key: 'closed-early', value: '{"open":false}', timestamp: 10_000 },
      { key: 'still-open', value: '{"open":true}', timestamp: 10_000 },
      { key: 'closed-late', value: '{"open":false}', timestamp: 10_900 },
      { key: 'tick', value: '{"open":true}', timestamp: 11_500 }])
    const app = await h.start(build())
    await app.caughtUp()
    const keys = async (running: typeof app) => (await running.query('last').all())
      .map(entry => entry.key).sort()
    // At 11 500: closed-early expired at 11 000; closed-late expires at 11 900.
    expect(await keys(app)).toEqual(['closed-late', 'still-open', 'tick'])
    await app.close()
    await rm(join(h.dir, 'state'), { recursive: true, force: true })
    const restored = await h.start(build())
    await restored.caughtUp()
    expect(await keys(restored)).toEqual(['closed-late', 'still-open', 'tick'])
    expect(() => process({ process: () => undefined }, { stores: [{ store: 's',
      expiry: { expiresAtMs: () => 0, sweepIntervalMs: 0 } }] }))
      .toThrow(expect.objectContaining({ code: 'WEIR_ERR_STREAMS_TOPOLOGY' }))
    expect(() => sagaRetention(0)).toThrow(expect.objectContaining(
      { code: 'WEIR_ERR_STREAMS_TOPOLOGY' }))
  })

  test('process: wall-clock punctuation runs without input', async () => {
    h = await harness([{ topic: 'quiet' }, { topic: 'beats' }])
    const t = topology('wall')
    t.stream<number>('quiet').pipe(process<number, number>({
      init(context) {
        context.schedule(20, 'wall-clock', time => context.forward(time, { key: 'beat' }))
      },
      process: () => undefined,
    })).to('beats')
    const app = await h.start(t)
    await expect.poll(async () => (await h!.read('beats')).length, { timeout: 10_000 })
      .toBeGreaterThan(2)
    await app.close()
  })

  test('mapAsync results continue with the record key and the commit waits for them', async () => {
    h = await harness([{ topic: 'in' }, { topic: 'out' }])
    const t = topology('async')
    t.stream<number>('in').pipe(
      mapAsync(async n => new Promise<number>(resolve => setTimeout(() => resolve(n * 10), 5))),
      count({ store: 'done' })).to('out')
    await h.produce('in', [1, 2, 3].map(n => ({ key: `k${n}`, value: String(n) })))
    const app = await h.start(t)
    await app.caughtUp()
    expect((await h.read('out')).map(r => r.key).sort()).toEqual(['k1', 'k2', 'k3'])
    expect(await app.query('done').all()).toHaveLength(3)
  })

  test('an asynchronous RxJS operator fails the app with WEIR_ERR_STREAMS_ASYNC_EMIT', async () => {
    h = await harness([{ topic: 'in' }, { topic: 'out' }])
    const t = topology('delayed')
    t.stream<number>('in').pipe(delay(1), count({ store: 'c' })).to('out')
    await h.produce('in', [{ key: 'a', value: '1' }])
    const app = await h.start(t, { logger: () => undefined })
    const failure = await app.done.then(() => undefined, (error: unknown) => error)
    expect(WeirError.is(failure, 'WEIR_ERR_STREAMS_PROCESSING')).toBe(true)
    expect(WeirError.is((failure as Error).cause, 'WEIR_ERR_STREAMS_ASYNC_EMIT')).toBe(true)
  })

  test('protobuf values are typed from the source serde to the sink serde', async () => {
    const root = protobufjs.parse(`syntax = "proto3";
      message Payment { string account = 1; int64 cents = 2; }
      message Balance { string account = 1; int64 cents = 2; int32 payments = 3; }`,
    { keepCase: true }).root
    interface Payment { account: string, cents: number }
    interface Balance { account: string, cents: number, payments: number }
    const paymentSerde = protobuf<Payment>(root.lookupType('Payment'))
    const balanceSerde = protobuf<Balance>(root.lookupType('Balance'))
    h = await harness([{ topic: 'payments' }, { topic: 'balances' }])
    const t = topology('proto')
    t.stream('payments', { serde: paymentSerde }).pipe(
      aggregate((): Balance => ({ account: '', cents: 0, payments: 0 }),
        (balance, payment) => ({ account: payment.account, cents: balance.cents + payment.cents,
          payments: balance.payments + 1 }), { store: 'balances', serde: balanceSerde }))
      .to('balances', { serde: balanceSerde })
    await h.produce('payments', [{ key: 'acc', value: paymentSerde.serialize({ account: 'acc',
      cents: 250 }) }, { key: 'acc', value: paymentSerde.serialize({ account: 'acc', cents: 5 }) }])
    const app = await h.start(t)
    await app.caughtUp()
    expect(await app.query<Balance>('balances').get('acc'))
      .toEqual({ account: 'acc', cents: 255, payments: 2 })
    const out = await readCommitted(h.weir.transport, 'balances', 0)
    expect(out.map(r => balanceSerde.deserialize(r.value!))).toEqual([
      { account: 'acc', cents: 250, payments: 1 }, { account: 'acc', cents: 255, payments: 2 }])
  })
})
