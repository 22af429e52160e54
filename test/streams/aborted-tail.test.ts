/**
 * Goal: an app catches up when its input partition ends in an aborted transaction (its records
 * and marker are never processed): the commit moves past them, so the group's lag reaches 0.
 * Before the fix the committed offset moved only with processed records, and caughtUp waited
 * until its timeout (found by the test kit).
 * Method: a count app processes one committed record; an upstream transaction then writes to
 * the input and aborts; caughtUp must resolve with the lag at 0 and the count unchanged; a later
 * committed record is counted.
 */
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { count, topology } from '../../src/index.ts'
import { quickStart, withWorld } from '../helpers/streams-fixtures.ts'

it('an input partition that ends in an aborted transaction is committed past it', async () => {
  await withWorld([], async ({ weir, stateDir }) => {
    await weir.admin().createTopics([{ topic: 'words', partitions: 1 },
      { topic: 'counts', partitions: 1 }])
    const plain = weir.producer()
    const upstream = weir.producer({ transactionalId: 'upstream' })
    const t = topology('tail-count')
    t.stream<string>('words').pipe(count({ store: 'counts' })).to('counts')
    const app = await t.start({ weir, stateDir: join(stateDir, 'app'), ...quickStart })
    try {
      await plain.send({ topic: 'words', messages: [{ key: 'a', value: '"a"' }] })
      await app.caughtUp({ timeoutMs: 8_000 })
      await upstream.initTransactions()
      upstream.beginTransaction()
      await upstream.send({ topic: 'words', messages: [{ key: 'b', value: '"b"' }] })
      await upstream.abortTransaction()
      await app.caughtUp({ timeoutMs: 8_000 })
      const lag = await weir.admin().lag('tail-count', ['words'])
      expect(lag.map(partition => partition.lag)).toEqual([0])
      expect((await app.query<number>('counts').all()).map(e => [e.key, e.value]))
        .toEqual([['a', 1]])
      await plain.send({ topic: 'words', messages: [{ key: 'a', value: '"a"' }] })
      await app.caughtUp({ timeoutMs: 8_000 })
      expect(await app.query<number>('counts').get('a')).toBe(2)
    } finally {
      await app.close()
      await upstream.close()
      await plain.close()
    }
  })
})
