/**
 * Goal: a consumer group shares a topic's partitions and survives the loss of a member. Three
 * consumers read 6 partitions; one is killed (it stops answering, as a SIGKILLed process would:
 * no leave, no more heartbeats). After its session times out the others take over its partitions
 * from the committed offsets: no record is lost, and since every consumer commits after
 * processing each batch and the kill comes right after a commit, none is processed twice.
 *
 * Method: a real broker in a temp dir over the transport under test (embedded, or a WeirServer
 * over HTTP in the 'remote' project) with real timers (short session timeout); each
 * consumer has its own wrapped transport so one can be cut off. No assertion depends on time:
 * the test waits for conditions, each bounded by the test timeout.
 */
import { describe, expect, it } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import type { Transport } from '../../src/client/transport/transport.ts'
import type { Consumer } from '../../src/client/consumer.ts'
import { WeirError } from '../../src/errors.ts'
import { openGroupTransport, until } from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'

const PARTITIONS = 6
const RECORDS_PER_PARTITION = 40

/** A transport that stops answering, like a process killed mid-flight. */
function killable(inner: Transport): { transport: Transport, kill: () => void } {
  let dead = false
  const never = <T>(): Promise<T> => new Promise<T>(() => undefined)
  const guard = <A extends unknown[], R>(next: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => dead ? never<R>() : next(...args)
  const transport = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function' || property === 'close') return value
      return guard((value as (...args: unknown[]) => Promise<unknown>).bind(target))
    },
  })
  return { transport, kill: () => { dead = true } }
}

/**
 * Commits everything `consumer` handed out. Between a member's JoinGroup answer and its
 * SyncGroup answer the coordinator refuses commits with REBALANCE_IN_PROGRESS (Kafka's does too:
 * the group is CompletingRebalance); as docs/errors.md says, the application tries again once the
 * member has its new assignment, which it gets in the background. Over HTTP that window is a few
 * round trips wide, so a commit lands in it now and then.
 */
async function commitHandedOut(consumer: Consumer): Promise<void> {
  for (;;) {
    try {
      await consumer.commit()
      return
    } catch (error) {
      if (!WeirError.is(error, 'REBALANCE_IN_PROGRESS')) throw error
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
}

describe('consumer group', () => {
  it('3 consumers over 6 partitions: after one is killed the others finish from the committed '
    + 'offsets, with no record lost and none processed twice', async () => {
    await withTempDir('weir-group-', async dir => {
      const transport = await openGroupTransport(dir)
      const weir = new Weir(transport)
      try {
        await weir.admin().createTopics([{ topic: 'orders', partitions: PARTITIONS }])
        const producer = weir.producer({ batchBytes: 1 })
        for (let i = 0; i < RECORDS_PER_PARTITION; i++) {
          await producer.send({ topic: 'orders', messages: Array.from({ length: PARTITIONS },
            (_, p) => ({ partition: p, value: `${p}:${i}` })) })
        }
        const processed: string[] = []
        const processedBy: string[][] = [[], [], []]
        let ownedAtKill: string[] = []
        const members = [0, 1, 2].map(() => killable(transport))
        const consumers: Consumer[] = members.map(member => new Weir(member.transport).consumer({
          groupId: 'billing', autoOffsetReset: 'earliest', autoCommit: false,
          sessionTimeoutMs: 600, heartbeatIntervalMs: 100, maxWaitMs: 50,
          maxBytesPerPartition: 1, // one stored batch per fetch: many small commits
        }))
        const total = PARTITIONS * RECORDS_PER_PARTITION
        const run = async (consumer: Consumer, index: number): Promise<void> => {
          // Partitions given up in a rebalance are committed first, so their next owner does not
          // process again what this member processed since its last commit.
          consumer.subscribe({ topics: ['orders'], onPartitionsRevoked: () => consumer.commit() })
          let batches = 0
          for await (const batch of consumer) {
            for (const record of batch.records) {
              processed.push(record.value!.toString())
              processedBy[index]!.push(record.value!.toString())
            }
            await commitHandedOut(consumer)
            if (index === 0 && ++batches === 5) {
              ownedAtKill = consumer.assignment().map(tp => String(tp.partition))
              members[0]!.kill() // dies right after a commit: no leave, no heartbeat
              return
            }
            if (processed.length >= total) return
          }
        }
        const loops = consumers.map((consumer, index) => run(consumer, index))
        await loops[0]
        await until(() => processed.length >= total)
        expect(processed.length).toBe(total)
        expect(new Set(processed).size).toBe(total)
        // The kill happened mid-stream: the victim owned partitions with records left to read,
        // and those were finished by the survivors.
        expect(ownedAtKill.length).toBeGreaterThan(0)
        const byVictim = processedBy[0]!.filter(value => ownedAtKill.includes(value.split(':')[0]!))
        expect(byVictim.length).toBeLessThan(ownedAtKill.length * RECORDS_PER_PARTITION)
        const takenOver = [...processedBy[1]!, ...processedBy[2]!]
          .filter(value => ownedAtKill.includes(value.split(':')[0]!))
        expect(byVictim.length + takenOver.length).toBe(ownedAtKill.length * RECORDS_PER_PARTITION)
        const survivors = consumers.slice(1)
        await Promise.all(survivors.map(consumer => consumer.close()))
        await Promise.all(loops.slice(1))
      } finally {
        await transport.close()
      }
    })
  })
})
