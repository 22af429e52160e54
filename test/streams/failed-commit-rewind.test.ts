/**
 * Goal: a failed commit loses nothing, even when the consumer hands out a batch while the
 * failed transaction is being abandoned. Found by a CI run of two-instances.test.ts: one input
 * batch per partition was never counted. The thread counted its rewind before seeking back, so
 * a batch handed out during the abort (from the old position, past the discarded records) was
 * processed after the rewind; its end offset became the task's, and the discarded records,
 * fetched again, were skipped as already consumed.
 *
 * Example: a count app (exactly-once, 3 partitions) reads words produced in bursts while every
 * other TxnOffsetCommit fails (not retriable: the transaction is abandoned) and every abort is
 * slowed down, so commits fail on the wall-clock tick while new input arrives. read_committed,
 * each key's counts are 1..n exactly once and in order, and the store holds n. Without the fix
 * it failed 3 runs out of 3 (a key's counts stopped at 42–50 of 56).
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { count, topology, Weir, WeirError } from '../../src/index.ts'
import { interceptedTransport } from '../helpers/client-fixtures.ts'
import { PARTITIONS, readByKey, withWorld } from '../helpers/streams-fixtures.ts'

const KEYS = ['a', 'b', 'c', 'd', 'e']
const BURSTS = 40

it('records handed out while a failed commit is abandoned are processed exactly once', async () => {
  await withWorld([], async ({ weir, stateDir }) => {
    await weir.admin().createTopics([{ topic: 'words', partitions: PARTITIONS },
      { topic: 'counts', partitions: PARTITIONS }])
    let offsetCommits = 0
    let failures = 0
    const flaky = new Weir(interceptedTransport(weir.transport, {
      txnOffsetCommit: async (next, request) => {
        if (++offsetCommits % 2 === 0) {
          failures++
          throw new WeirError('UNKNOWN_SERVER_ERROR', 'injected: commit refused')
        }
        return next(request)
      },
      endTxn: async (next, request) => {
        if (!request.commit) await sleep(30) // widen the abort: batches arrive meanwhile
        return next(request)
      },
    }))
    const t = topology('rewind-count')
    t.stream<string>('words').pipe(count({ store: 'counts' })).to('counts')
    const app = await t.start({ weir: flaky, stateDir: join(stateDir, 'app'),
      commitIntervalMs: 10, commitAttemptsMax: 1_000,
      consumer: { maxWaitMs: 5, heartbeatIntervalMs: 300 } })
    const producer = weir.producer()
    try {
      const expected = new Map<string, number>()
      for (let burst = 0; burst < BURSTS; burst++) {
        const words = Array.from({ length: 7 }, (_, i) => KEYS[(burst * 7 + i) % KEYS.length]!)
        for (const word of words) expected.set(word, (expected.get(word) ?? 0) + 1)
        await producer.send({ topic: 'words', messages: words.map(word =>
          ({ key: word, value: JSON.stringify(word) })) })
        await sleep(5 + (burst % 4) * 7)
      }
      await app.caughtUp({ timeoutMs: 30_000 })
      expect(failures, 'no commit failed: the test tested nothing').toBeGreaterThan(3)
      const counts = await readByKey(weir, 'counts')
      for (const [word, n] of expected) {
        expect(counts.get(word), word).toEqual(Array.from({ length: n }, (_, i) => i + 1))
      }
      expect(Object.fromEntries((await app.query<number>('counts').all())
        .map(entry => [entry.key, entry.value]))).toEqual(Object.fromEntries(expected))
    } finally {
      await producer.close()
      await app.close()
    }
  })
}, 60_000)
