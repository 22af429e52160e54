/**
 * Goal: the idempotent producer and the broker together write every record exactly once, in the
 * producer's order per partition, whatever the transport does to produce requests: lose them,
 * lose their responses (the append happened, the client retries), deliver them twice, or deliver
 * concurrent ones in another order. A real gap in sequences is refused with OUT_OF_ORDER_SEQUENCE.
 *
 * Method: a real broker in a temp dir over the transport under test (embedded, or a WeirServer
 * over HTTP in the 'remote' project); the transport is wrapped at the seam so every produce
 * request goes through fast-check's scheduler (which picks the delivery order) and through a
 * fault drawn for it. Then every partition is read back and compared with the sends.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import { Producer } from '../../src/client/producer.ts'
import type { ProduceRequest } from '../../src/client/transport/transport.ts'
import type { ProduceResult } from '../../src/broker/partition.ts'
import {
  type BatchHeader, encodeBatch, forEachBatch, readBatchHeader,
} from '../../src/log/record-batch.ts'
import { ManualClock } from '../../src/util/clock.ts'
import {
  immediateScheduler, interceptedTransport, openTransport, readPartition,
} from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { overKafka } from '../helpers/remote-fixtures.ts'

type Fault = 'deliver' | 'lose-request' | 'lose-response' | 'duplicate'
const PARTITIONS = 3

const sendArbitrary = fc.record({
  partition: fc.integer({ min: 0, max: PARTITIONS - 1 }),
  count: fc.integer({ min: 1, max: 6 }),
})

function timedOut(): WeirError {
  return new WeirError('REQUEST_TIMED_OUT', 'simulated: the transport lost the message')
}

describe('idempotent producer over a faulty transport', () => {
  test.prop([
    fc.array(sendArbitrary, { minLength: 1, maxLength: 25 }),
    fc.array(fc.constantFrom<Fault>('deliver', 'lose-request', 'lose-response', 'duplicate'),
      { maxLength: 40 }),
    fc.scheduler(),
  ], { numRuns: numRuns(30) })(
    'every record is in the log exactly once, in send order per partition, at the offset send '
    + 'reported, despite lost, duplicated and reordered produce requests',
    async (sends, faults, scheduler) => withTempDir('weir-idem-', async dir => {
      const inner = await openTransport(dir)
      try {
        await inner.createTopics([{ topic: 't', partitions: PARTITIONS }])
        let call = 0
        const transport = interceptedTransport(inner, {
          produce: (next, request: ProduceRequest): Promise<ProduceResult> => {
            const fault = faults[call++] ?? 'deliver'
            return scheduler.schedule(Promise.resolve(), fault).then(() => {
              if (fault === 'lose-request') throw timedOut()
              const result = next(request)
              if (fault === 'duplicate') next(request).catch(() => undefined)
              if (fault === 'lose-response') return result.then(() => { throw timedOut() })
              return result
            })
          },
        })
        const producer = new Producer(transport, { batchBytes: 120, retries: 1000 },
          new ManualClock(0), immediateScheduler)
        let settled = 0
        const results = sends.map((send, s) => {
          const messages = Array.from({ length: send.count }, (_, r) => ({
            value: `${s}:${r}`, partition: send.partition }))
          const promise = producer.send({ topic: 't', messages })
          promise.then(() => settled++, () => settled++)
          return promise
        })
        while (settled < sends.length) {
          await scheduler.waitAll()
          await new Promise(resolve => setImmediate(resolve))
        }
        const acknowledged = await Promise.all(results)
        for (let p = 0; p < PARTITIONS; p++) {
          const log = await readPartition(inner, 't', p)
          const expected = sends.flatMap((send, s) => send.partition !== p ? []
            : Array.from({ length: send.count }, (_, r) => `${s}:${r}`))
          expect(log.map(record => record.value?.toString())).toEqual(expected)
          const byValue = new Map(log.map(record => [record.value!.toString(), record.offset]))
          acknowledged.forEach((metadata, s) => metadata.forEach((record, r) => {
            if (record.partition === p) expect(record.offset).toBe(byValue.get(`${s}:${r}`))
          }))
        }
      } finally {
        await inner.close()
      }
    }))

  it('a batch whose outcome stays unknown after its retries fails, and the producer moves to a '
    + 'new producer id so later batches cannot be mistaken for it', async () => {
    await withTempDir('weir-idem-expiry-', async dir => {
      const inner = await openTransport(dir)
      try {
        await inner.createTopics([{ topic: 't' }])
        let losing = true
        const transport = interceptedTransport(inner, {
          produce: (next, request: ProduceRequest): Promise<ProduceResult> => {
            const result = next(request)
            return losing ? result.then(() => { throw timedOut() }) : result
          },
        })
        const producer = new Producer(transport, { retries: 2 }, new ManualClock(0),
          immediateScheduler)
        await producer.send({ topic: 't', messages: [{ value: 'a' }] }).then(
          () => expect.fail('the send must fail'),
          (error: unknown) => expect(error).toMatchObject({ code: 'REQUEST_TIMED_OUT' }))
        losing = false
        const [second] = await producer.send({ topic: 't', messages: [{ value: 'b' }] })
        // 'a' was appended once (its retries were answered as duplicates), 'b' after it, each
        // under its own producer id, both at sequence 0.
        const log = await readPartition(inner, 't', 0)
        expect(log.map(record => record.value?.toString())).toEqual(['a', 'b'])
        expect(second!.offset).toBe(1)
        const [fetched] = await inner.fetch({ partitions: [{ topic: 't', partition: 0,
          offset: 0 }] })
        const headers: BatchHeader[] = []
        forEachBatch(fetched!.bytes, position => headers.push(readBatchHeader(fetched!.bytes,
          position)))
        expect(headers.map(header => header.baseSequence)).toEqual([0, 0])
        expect(headers[1]!.producerId).not.toBe(headers[0]!.producerId)
        expect(producer.producerId).toBe(headers[1]!.producerId)
      } finally {
        await inner.close()
      }
    })
  })

  it('refuses a batch that skips sequence numbers with OUT_OF_ORDER_SEQUENCE', async () => {
    await withTempDir('weir-idem-gap-', async dir => {
      const transport = await openTransport(dir)
      try {
        await transport.createTopics([{ topic: 't' }])
        const { producerId, producerEpoch } = await transport.initProducerId()
        const batch = (baseSequence: number): Buffer => encodeBatch(
          [{ value: Buffer.from('x') }, { value: Buffer.from('y') }],
          { timestamp: 1, producerId, producerEpoch, baseSequence })
        await transport.produce({ topic: 't', partition: 0, batch: batch(0), acks: 'all' })
        await expect(transport.produce({ topic: 't', partition: 0, batch: batch(3),
          acks: 'all' })).rejects.toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE' })
        const retry = await transport.produce({ topic: 't', partition: 0, batch: batch(0),
          acks: 'all' })
        // A Kafka broker answers a duplicate as a success at its first offsets, unflagged.
        expect(retry).toMatchObject({ baseOffset: 0, lastOffset: 1, duplicate: !overKafka })
        expect((await readPartition(transport, 't', 0)).length).toBe(2)
      } finally {
        await transport.close()
      }
    })
  })

  it('a batch that was only overtaken by the next one (OUT_OF_ORDER_SEQUENCE behind a batch in '
    + 'flight) is resent at once, without the retry backoff', async () => {
    await withTempDir('weir-idem-overtaken-', async dir => {
      const inner = await openTransport(dir)
      try {
        await inner.createTopics([{ topic: 't' }])
        // The first batch is held until the second was refused for the gap it leaves.
        let releaseFirst: (() => void) | undefined
        let calls = 0
        const transport = interceptedTransport(inner, {
          produce: async (next, request: ProduceRequest): Promise<ProduceResult> => {
            const call = calls++
            if (call === 0) await new Promise<void>(resolve => { releaseFirst = resolve })
            const result = next(request)
            if (call === 1) result.catch(() => releaseFirst!())
            return result
          },
        })
        // A backoff would never end: this scheduler runs every timer but the backoff's.
        const BACKOFF_MS = 987_654
        const noBackoff = {
          every: immediateScheduler.every,
          after: (delayMs: number, task: () => void) => delayMs === BACKOFF_MS ? () => undefined
            : immediateScheduler.after(delayMs, task),
        }
        // Batches of at most 16 bytes: the two records go in two batches sent together.
        const producer = new Producer(transport, { retryBackoffMs: BACKOFF_MS, batchBytes: 16 },
          new ManualClock(0), noBackoff)
        const values = ['a'.repeat(20), 'b'.repeat(20)]
        await producer.send({ topic: 't', messages: values.map(value => ({ value })) })
        expect(calls).toBe(3)
        expect((await readPartition(inner, 't', 0)).map(r => r.value!.toString()))
          .toEqual(values)
      } finally {
        await inner.close()
      }
    })
  })
})
