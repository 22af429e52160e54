/**
 * Goal: an exactly-once streams app connected to a remote server keeps exactly-once results when
 * the server is killed with SIGKILL and restarted under it (issue 6: reconnects neither lose nor
 * duplicate).
 * Method: a real server in a child process on a fixed port; in this process a count-per-key
 * topology runs through `Weir.connect` with `processing: 'exactly-once'` while input is produced
 * in chunks; the server is killed twice while the app has input to process, and restarted on the
 * same directory and port. The app is not restarted by the test: its requests wait for the
 * server, its failed transactions abort and its tasks go back to their committed offsets. At the
 * end a read_committed reader of the output must see each key's counts 1..n exactly once, in
 * order, and the app's table must equal the input's counts.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { count, groupBy, topology } from '../../src/index.ts'
import { Weir } from '../../src/client/weir.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { freePort, type ServerChild, startServerChild } from '../helpers/server-child.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

const PARTITIONS = 2
const KEYS = 20
const CHUNKS = 6
const CHUNK_RECORDS = 400
const KILLS = 2

describe('an exactly-once streams app on a remote server across server SIGKILLs', () => {
  it('each key\'s counts are read_committed exactly once, 1..n, and the table equals the input\'s',
    async () => {
      await withTempDir('weir-server-kill-streams-', async dir => {
        const port = await freePort()
        let server: ServerChild = await startServerChild(join(dir, 'data'), port)
        const weir = await Weir.connect(server.url, { reconnectTimeoutMs: 60_000 })
        try {
          await weir.admin().createTopics([{ topic: 'in', partitions: PARTITIONS },
            { topic: 'counts', partitions: PARTITIONS }])
          const t = topology('remote-counts')
          t.stream<string>('in').pipe(groupBy(value => value, { name: 'by-key' }),
            count({ store: 'count' })).to('counts')
          const app = await t.start({ weir, stateDir: join(dir, 'state'),
            processing: 'exactly-once', commitIntervalMs: 20,
            consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 200, maxWaitMs: 50,
              rebalanceTimeoutMs: 6_000 } })
          const producer = weir.producer({ retries: 1_000, retryBackoffMs: 20 })
          const expected = new Map<string, number>()
          let kills = 0
          for (let chunk = 0; chunk < CHUNKS; chunk++) {
            const values = Array.from({ length: CHUNK_RECORDS },
              (_, i) => `key-${(chunk * 7 + i * i) % KEYS}`)
            for (const value of values) expected.set(value, (expected.get(value) ?? 0) + 1)
            await producer.send({ topic: 'in', messages: values.map(value => ({ value: JSON.stringify(value) })) })
            if (chunk > 0 && chunk % 2 === 0 && kills < KILLS) {
              // Let the app get into the chunk, then pull the server from under it.
              await new Promise(resolve => setTimeout(resolve, 30))
              kills++
              await server.kill()
              server = await startServerChild(join(dir, 'data'), port)
            }
          }
          await producer.close()
          await app.caughtUp()
          const table = new Map((await app.query<number>('count').all())
            .map(({ key, value }) => [key, value]))
          await app.close()

          expect(kills).toBe(KILLS)
          expect(Object.fromEntries([...table].sort())).toEqual(
            Object.fromEntries([...expected].sort()))
          const seen = new Map<string, number[]>()
          for (let partition = 0; partition < PARTITIONS; partition++) {
            for (const record of await readCommitted(weir.transport, 'counts', partition)) {
              const key = record.key!.toString()
              seen.set(key, [...seen.get(key) ?? [], JSON.parse(record.value!.toString()) as number])
            }
          }
          for (const [key, total] of expected) {
            expect(seen.get(key), key).toEqual(Array.from({ length: total }, (_, i) => i + 1))
          }
        } finally {
          await weir.close()
          await server.terminate()
        }
      })
    })
})
