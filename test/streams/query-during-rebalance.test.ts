/**
 * Goal: an interactive query never returns a partial table or fails with a closed store while
 * a rebalance moves tasks (a store read when its task closes under it — seen in CI as "Iterator
 * is not open").
 * Method: app A counts keys of a 4-partition topic and catches up; then, while A's table is read
 * in a loop, app B joins the group (tasks move to B) and leaves (they move back). Every read of
 * A must succeed and hold whole partitions only: for each partition, all its keys with their
 * full counts, or none of them.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, test } from 'vitest'
import { count, topology } from '../../src/index.ts'
import { withWorld } from '../helpers/streams-fixtures.ts'
import { waitFor } from '../helpers/topologies-fixtures.ts'

const PARTITIONS = 4
const KEYS = 40
const PER_KEY = 5

test('a query during a rebalance waits for it: every read holds whole partitions, none fails',
  async () => {
    await withWorld([], async ({ weir, stateDir }) => {
      await weir.admin().createTopics([{ topic: 'in', partitions: PARTITIONS }])
      const producer = weir.producer()
      await producer.send({ topic: 'in', messages: Array.from({ length: KEYS * PER_KEY },
        (_, i) => ({ key: `k${i % KEYS}`, value: '"x"', partition: (i % KEYS) % PARTITIONS })) })
      await producer.close()
      const build = () => {
        const t = topology('query-rebalance')
        t.stream<string>('in').pipe(count({ store: 'count' }))
        return t
      }
      const consumer = { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 100, maxWaitMs: 20 }
      const a = await build().start({ weir, stateDir: join(stateDir, 'a'), consumer })
      try {
        await a.caughtUp()
        const reads: Array<Map<string, number>> = []
        let stop = false
        const reader = (async () => {
          while (!stop) {
            const rows = await a.query<number>('count').all()
            reads.push(new Map(rows.map(({ key, value }) => [key, value])))
            await sleep(2)
          }
        })()
        const b = await build().start({ weir, stateDir: join(stateDir, 'b'), consumer })
        await waitFor(async () => b.tasks(), tasks => tasks.length > 0)
        await b.caughtUp()
        const movedToB = b.tasks().length
        await b.close()
        await a.caughtUp()
        stop = true
        await reader

        expect(movedToB).toBeGreaterThan(0)
        expect(a.tasks()).toHaveLength(PARTITIONS)
        expect(reads.length).toBeGreaterThan(0)
        for (const read of reads) {
          for (let partition = 0; partition < PARTITIONS; partition++) {
            const keys = Array.from({ length: KEYS / PARTITIONS },
              (_, i) => `k${i * PARTITIONS + partition}`)
            const held = keys.filter(key => read.has(key))
            expect(held.length === 0 || held.length === keys.length, `partition ${partition}`)
              .toBe(true)
            for (const key of held) expect(read.get(key), key).toBe(PER_KEY)
          }
        }
        expect(reads.at(-1)?.size).toBe(KEYS)
      } finally {
        await a.close()
      }
    })
  })
