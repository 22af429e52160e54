/**
 * Goal: an instance fenced by a newer one with the same instanceId (a paused process whose
 * successor started) stops with PRODUCER_FENCED instead of fencing its successor back — before
 * the fix each replaced its producer in turn and they failed each other's commits until one
 * gave up (found by the test kit's zombie fault).
 * Method: a count app; its successor starts under the same instanceId while it runs; input is
 * produced so both have transactions to commit. The old one's `done` rejects with
 * PRODUCER_FENCED; the successor catches up and each key's counts read_committed are 1..n once.
 */
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { count, topology } from '../../src/index.ts'
import { quickStart, withWorld } from '../helpers/streams-fixtures.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

it('a zombie instance stops with PRODUCER_FENCED and its successor goes on exactly once',
  async () => {
    await withWorld(['words', 'counts'], async ({ weir, stateDir }) => {
      const build = () => {
        const t = topology('zombie-count')
        t.stream<string>('words').pipe(count({ store: 'counts' })).to('counts')
        return t
      }
      const producer = weir.producer()
      const send = (from: number, to: number) => producer.send({ topic: 'words',
        messages: Array.from({ length: to - from }, (_, i) => ({ key: `k${(from + i) % 4}`,
          value: '"w"' })) })
      const old = await build().start({ weir, stateDir: join(stateDir, 'old'),
        instanceId: 'same', ...quickStart })
      await send(0, 20)
      await old.caughtUp()
      const oldDone = old.done.then(() => 'closed', (error: unknown) => error)
      const successor = await build().start({ weir, stateDir: join(stateDir, 'new'),
        instanceId: 'same', ...quickStart })
      try {
        await send(20, 60)
        expect(await oldDone).toMatchObject({ code: 'PRODUCER_FENCED' })
        await successor.caughtUp()
        const counts = new Map<string, number[]>()
        for (let partition = 0; partition < 3; partition++) {
          for (const record of await readCommitted(weir.transport, 'counts', partition)) {
            const key = record.key!.toString()
            counts.set(key, [...counts.get(key) ?? [], Number(record.value!.toString())])
          }
        }
        for (const key of ['k0', 'k1', 'k2', 'k3']) {
          expect(counts.get(key), key).toEqual(Array.from({ length: 15 }, (_, i) => i + 1))
        }
      } finally {
        await producer.close()
        await successor.close()
        await old.close()
      }
    })
  })
