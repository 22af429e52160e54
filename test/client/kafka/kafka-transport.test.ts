/**
 * Goal: the parts of the Kafka transport (Weir.kafka) that the suites run over it (the vitest
 * project 'kafka') do not reach: a fetch answer cut inside a batch, bad and unreachable broker
 * addresses, calls Kafka has no classic API for, and two members of one group joining through
 * one Weir.kafka (a JoinGroup waits at the broker until the group has joined, so a request
 * queued behind it on one connection would wait forever).
 * Method: `wholeBatches` gets real encoded batches, back to back, cut at every byte (fast-check):
 * it must keep exactly the whole batches before the cut and answer the offset after the last of
 * them. The rest runs against an embedded Weir behind a real Kafka listener on 127.0.0.1.
 */
import { join } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { Weir } from '../../../src/client/weir.ts'
import { wholeBatches } from '../../../src/client/transport/kafka/kafka-data-requests.ts'
import { encodeBatch, setBaseOffset } from '../../../src/log/record-batch.ts'
import { KafkaListener } from '../../../src/server/kafka/kafka-listener.ts'
import { withTempDir } from '../../helpers/log-fixtures.ts'
import { fraction, numRuns } from '../../helpers/num-runs.ts'

describe('wholeBatches', () => {
  test.prop([fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }),
    fc.integer({ min: 0, max: 10_000 }), fraction],
  { numRuns: numRuns(100) })('keeps the whole batches before a cut and answers the offset after '
    + 'them', (counts, firstOffset, cutAt) => {
    const batches: Buffer[] = []
    let offset = firstOffset
    for (const count of counts) {
      const batch = encodeBatch(Array.from({ length: count }, (_, i) =>
        ({ value: Buffer.from(`v${i}`) })), { timestamp: 1 })
      setBaseOffset(batch, 0, offset)
      batches.push(batch)
      offset += count
    }
    const all = Buffer.concat(batches)
    const cut = Math.floor(cutAt * all.length)
    const { bytes, nextOffset } = wholeBatches(all.subarray(0, cut), firstOffset)
    let whole = 0
    let end = 0
    let next = firstOffset
    for (const [i, batch] of batches.entries()) {
      if (end + batch.length > cut) break
      end += batch.length
      next += counts[i]!
      whole++
    }
    expect(bytes.equals(all.subarray(0, end))).toBe(true)
    expect(nextOffset).toBe(next)
    expect(whole).toBeLessThanOrEqual(batches.length)
  })

  it('answers an empty fetch (null records) with the fetch offset', () => {
    expect(wholeBatches(null, 42)).toEqual({ bytes: Buffer.alloc(0), nextOffset: 42 })
  })
})

describe('Weir.kafka', () => {
  it('refuses a broker that is not host:port, and reports an unreachable one as '
    + 'NETWORK_EXCEPTION', async () => {
    await expect(Weir.kafka({ brokers: ['localhost'] }))
      .rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(Weir.kafka({ brokers: [] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    // Port 1 on loopback: nothing listens there.
    await expect(Weir.kafka({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 2_000 }))
      .rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' })
  })

  it('two members of one group join through one Weir.kafka, and createPartitions is refused '
    + 'with UNSUPPORTED_VERSION', async () => {
    await withTempDir('weir-kafka-transport-', async dir => {
      const embedded = await Weir.open({ dir: join(dir, 'data'),
        group: { initialRebalanceDelayMs: 0 } })
      const listener = await KafkaListener.start({ transport: embedded.transport, port: 0 })
      const weir = await Weir.kafka({ brokers: [`127.0.0.1:${listener.port}`],
        clientId: 'test' })
      try {
        await weir.admin().createTopics([{ topic: 't', partitions: 4 }])
        const members = ['a', 'b'].map(clientId => weir.consumer({ groupId: 'g', clientId,
          sessionTimeoutMs: 6_000, heartbeatIntervalMs: 100, maxWaitMs: 50 }))
        for (const member of members) member.subscribe({ topics: ['t'] })
        const iterators = members.map(member => member[Symbol.asyncIterator]())
        // Each iteration step polls (joins, heartbeats, fetches) until the group settles.
        const deadline = Date.now() + 20_000
        while (members.some(member => member.assignment().length !== 2)) {
          if (Date.now() > deadline) throw new Error('the two members never shared 4 partitions')
          await Promise.race([...iterators.map(iterator => iterator.next()),
            new Promise(resolve => setTimeout(resolve, 100))])
        }
        const described = await weir.admin().describeGroup('g')
        expect(described.state).toBe('Stable')
        expect(described.members.map(member => member.clientId).sort()).toEqual(['a', 'b'])
        await expect(weir.admin().createPartitions('t', 8))
          .rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' })
      } finally {
        await weir.close()
        await listener.close()
        await embedded.close()
      }
    })
  })
})
