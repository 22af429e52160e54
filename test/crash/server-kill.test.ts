/**
 * Goal: a server killed with SIGKILL while a remote idempotent producer streams, then restarted,
 * loses no acknowledged record and duplicates none (issue 6).
 * Method: a real server in a child process (test/helpers/server-process.ts) on a fixed port; this
 * process streams records with unique ids through `Weir.connect` (`acks: 'all'`, idempotent,
 * several sends in flight over 3 partitions) and notes every acknowledged id. The server is killed
 * three times at random moments and restarted on the same directory and port; the producer's
 * requests meanwhile find the connection refused and wait, or lose their answer and are retried
 * with the same sequence numbers. At the end every record in the topic is read back: each
 * acknowledged id appears exactly once, and no id appears twice at all.
 */
import { describe, expect, it } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import { readPartition } from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { freePort, type ServerChild, startServerChild } from '../helpers/server-child.ts'

const PARTITIONS = 3
const KILLS = 3
const SENDERS = 8
const RECORDS_PER_PHASE = 1_500

describe('a remote idempotent producer across server SIGKILLs', () => {
  it('every acknowledged record is in the topic exactly once after kills and restarts', async () => {
    await withTempDir('weir-server-kill-', async dir => {
      const port = await freePort()
      let server: ServerChild = await startServerChild(dir, port)
      const weir = await Weir.connect(server.url, { reconnectTimeoutMs: 60_000 })
      try {
        await weir.admin().createTopics([{ topic: 'stream', partitions: PARTITIONS }])
        const producer = weir.producer({ idempotent: true, acks: 'all', retries: 1_000,
          retryBackoffMs: 20, lingerMs: 1 })
        const acknowledged = new Set<number>()
        const failed: unknown[] = []
        let next = 0
        const target = RECORDS_PER_PHASE * (KILLS + 1)
        const sender = async (): Promise<void> => {
          while (next < target) {
            const id = next++
            try {
              await producer.send({ topic: 'stream', messages: [{ key: `k${id % 97}`,
                value: String(id) }] })
              acknowledged.add(id)
            } catch (error) {
              failed.push(error)
            }
          }
        }
        const senders = Array.from({ length: SENDERS }, () => sender())
        for (let kill = 1; kill <= KILLS; kill++) {
          // Kill somewhere inside this phase, at a moment the test does not choose.
          const killAt = RECORDS_PER_PHASE * kill - Math.floor(Math.random() * RECORDS_PER_PHASE / 2)
          while (next < killAt) await new Promise(resolve => setTimeout(resolve, 2))
          await server.kill()
          await new Promise(resolve => setTimeout(resolve, 50 + Math.random() * 200))
          server = await startServerChild(dir, port)
        }
        await Promise.all(senders)
        await producer.close()
        expect(failed).toEqual([])
        expect(acknowledged.size).toBe(target)

        const counts = new Map<number, number>()
        for (let partition = 0; partition < PARTITIONS; partition++) {
          for (const record of await readPartition(weir.transport, 'stream', partition)) {
            const id = Number(record.value!.toString())
            counts.set(id, (counts.get(id) ?? 0) + 1)
          }
        }
        const duplicated = [...counts].filter(([, count]) => count > 1).map(([id]) => id)
        const missing = [...acknowledged].filter(id => !counts.has(id))
        expect(duplicated).toEqual([])
        expect(missing).toEqual([])
        expect(counts.size).toBe(target)
      } finally {
        await weir.close()
        await server.terminate()
      }
    })
  })
})
