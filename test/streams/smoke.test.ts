import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { filter, map } from 'rxjs'
import { expect, test } from 'vitest'
import { aggregate, count, groupBy, topology, Weir } from '../../src/index.ts'

test('smoke', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-smoke-'))
  const weir = await Weir.open({ dir: join(dir, 'data') })
  await weir.admin().createTopics([{ topic: 'orders', partitions: 3 }, { topic: 'counts', partitions: 3 }])
  const t = topology('smoke')
  t.stream<{ user: string, total: number }>('orders')
    .pipe(filter(o => o.total > 0), groupBy(o => o.user),
      aggregate(() => 0, (sum, o) => sum + o.total, { store: 'spend' }))
    .to('counts')
  t.stream<{ user: string, total: number }>('counts2' as string).pipe(count({ store: 'c' }))
  console.log(String(t.describe()))
}, 30000)

test('runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-smoke-'))
  const weir = await Weir.open({ dir: join(dir, 'data') })
  await weir.admin().createTopics([{ topic: 'orders', partitions: 3 }, { topic: 'out', partitions: 3 }])
  const t = topology('smoke')
  t.stream<{ user: string, total: number }>('orders')
    .pipe(filter(o => o.total > 0), groupBy(o => o.user),
      aggregate(() => 0, (sum, o) => sum + o.total, { store: 'spend' }), map(x => x * 1))
    .to('out')
  const producer = weir.producer()
  for (let i = 0; i < 100; i++) {
    await producer.send({ topic: 'orders', messages: [{ key: `o${i}`, value: JSON.stringify({ user: `u${i % 5}`, total: i }) }] })
  }
  const app = await t.start({ weir, stateDir: join(dir, 'state') })
  await app.caughtUp({ timeoutMs: 20000 })
  const all = await app.query<number>('spend').all()
  console.log(all)
  expect(all.length).toBe(5)
  await app.close()
  await weir.close()
}, 30000)
