/**
 * Goal: the producer puts records where Kafka's producer would and batches them as configured.
 * Keyed records land on murmur2's partition (the broker's `partitionForKey`), an explicit
 * partition wins over any partitioner, a custom partitioner is used for the rest; `lingerMs`
 * gathers sends into one stored batch and `batchBytes` splits them; `acks` 0 and 1 deliver, with
 * acks 0 reporting offset -1; and every refusal comes back as the documented error code
 * (INVALID_CONFIG, UNKNOWN_TOPIC, UNKNOWN_TOPIC_OR_PARTITION, MESSAGE_TOO_LARGE,
 * WEIR_ERR_PRODUCER_BUFFER_FULL, WEIR_ERR_CLIENT_CLOSED) without writing anything. `close()`
 * waits for every send made before it.
 *
 * Method: a real broker in a temp dir over the transport under test (embedded, or a WeirServer
 * over HTTP in the 'remote' project); results are checked by reading the partitions back
 * through the transport, and batching by splitting the fetched bytes into stored batches.
 * The linger test injects a scheduler it fires by hand, so "these sends fell within one linger"
 * does not depend on how fast the machine is; everything else runs on the system scheduler, and
 * waits are for conditions (bounded by the test timeout), never on the clock.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { partitionForKey, type Partitioner } from '../../src/broker/partitioner.ts'
import { Producer, type RecordMetadata } from '../../src/client/producer.ts'
import type { ProducerConfig } from '../../src/client/producer-config.ts'
import { recordSizeEstimate } from '../../src/client/record-accumulator.ts'
import type { Weir } from '../../src/client/weir.ts'
import type { LogRecord } from '../../src/log/record-batch.ts'
import { type Scheduler, systemClock } from '../../src/util/clock.ts'
import { readPartition, until, withWeir } from '../helpers/client-fixtures.ts'
import { batchesOf, type StoredBatchView } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

/** Lets every pending I/O callback and microtask run once (a turn of the event loop). */
const nextTurn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/** The partition's stored batches as written (record values as strings). */
async function storedBatches(weir: Weir, topic: string, partition: number):
Promise<StoredBatchView<string>[]> {
  const [result] = await weir.transport.fetch({ partitions: [{ topic, partition, offset: 0,
    maxBytes: 1024 * 1024 }] })
  if (result?.error !== undefined) throw result.error
  return batchesOf(result!.bytes, record => record.value!.toString())
}

const values = (records: readonly LogRecord[]): string[] =>
  records.map(record => record.value!.toString())

/** A scheduler whose one-shot timers run only when the test calls `fire()`. */
function handFiredScheduler(): Scheduler & { fire(): void, readonly pending: number } {
  let tasks: Array<() => void> = []
  return {
    every: () => () => undefined,
    after(_delayMs, task) {
      tasks.push(task)
      return () => { tasks = tasks.filter(t => t !== task) }
    },
    fire() {
      const due = tasks
      tasks = []
      for (const task of due) task()
    },
    get pending() { return tasks.length },
  }
}

describe('producer: where records go', () => {
  test.prop([
    fc.array(fc.uint8Array({ maxLength: 12 }), { minLength: 1, maxLength: 30 }),
    fc.integer({ min: 1, max: 8 }),
  ], { numRuns: numRuns(10) })(
    'a keyed record lands on the partition murmur2 gives its key, as partitionForKey computes it',
    async (keys, partitions) => withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions }])
      const producer = weir.producer()
      const sent = await producer.send({ topic: 't', messages: keys.map((key, i) =>
        ({ key: Buffer.from(key), value: String(i) })) })
      sent.forEach((metadata, i) => {
        expect(metadata.partition).toBe(partitionForKey(keys[i]!, partitions))
      })
      for (let p = 0; p < partitions; p++) {
        const stored = await readPartition(weir.transport, 't', p)
        const expected = keys.flatMap((key, i) =>
          partitionForKey(key, partitions) === p ? [String(i)] : [])
        expect(values(stored)).toEqual(expected)
        for (const record of stored) {
          expect(Buffer.compare(record.key!, Buffer.from(keys[Number(record.value)]!))).toBe(0)
        }
      }
    }))

  it('an explicit partition is used as given, also over a custom partitioner; the partitioner '
    + 'places the rest', async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 4 }])
      const asked: Array<{ key: string | null, partitionCount: number }> = []
      // Routes by the key's first character: 'a…' → 0, 'b…' → 1, …
      const byFirstLetter: Partitioner = ({ key, partitionCount }) => {
        asked.push({ key: key?.toString() ?? null, partitionCount })
        return key === null ? partitionCount - 1 : (key[0]! - 0x61) % partitionCount
      }
      const producer = weir.producer({ partitioner: byFirstLetter })
      const sent = await producer.send({ topic: 't', messages: [
        { key: 'apple', value: 'v0' },
        { key: 'banana', value: 'v1', partition: 3 },
        { key: 'cherry', value: 'v2' },
        { key: null, value: 'v3' },
        { value: 'v4', partition: 0 },
      ] })
      expect(sent.map(m => m.partition)).toEqual([0, 3, 2, 3, 0])
      // Asked once per record without an explicit partition, in send order, never for the others.
      expect(asked).toEqual([{ key: 'apple', partitionCount: 4 },
        { key: 'cherry', partitionCount: 4 }, { key: null, partitionCount: 4 }])
      expect(values(await readPartition(weir.transport, 't', 0))).toEqual(['v0', 'v4'])
      expect(values(await readPartition(weir.transport, 't', 1))).toEqual([])
      expect(values(await readPartition(weir.transport, 't', 2))).toEqual(['v2'])
      expect(values(await readPartition(weir.transport, 't', 3))).toEqual(['v1', 'v3'])
    })
  })
})

describe('producer: batching', () => {
  it('with lingerMs, sends made in different turns of the event loop travel in one stored '
    + 'batch once the linger fires; without it, each send is its own batch', async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 'linger' }, { topic: 'eager' }])
      const scheduler = handFiredScheduler()
      const lingering = new Producer(weir.transport, { lingerMs: 1000 }, systemClock, scheduler)
      const settled: RecordMetadata[][] = []
      const first = lingering.send({ topic: 'linger', messages: [{ value: 'a' }] })
      void first.then(result => settled.push(result))
      await until(() => scheduler.pending === 1) // the batch is open, its linger timer set
      const rest: Array<Promise<RecordMetadata[]>> = []
      for (const value of ['b', 'c', 'd']) {
        await nextTurn()
        const send = lingering.send({ topic: 'linger', messages: [{ value }] })
        void send.then(result => settled.push(result))
        rest.push(send)
      }
      for (let i = 0; i < 5; i++) await nextTurn()
      expect(settled).toEqual([]) // nothing is sent before the linger fires
      expect(scheduler.pending).toBe(1)
      scheduler.fire()
      const sent = await Promise.all([first, ...rest])
      expect(sent.map(([m]) => m!.offset)).toEqual([0, 1, 2, 3])
      expect((await storedBatches(weir, 'linger', 0)).map(b => b.records))
        .toEqual([['a', 'b', 'c', 'd']])

      // The same sends without linger: the first is awaited (so the producer id and partition
      // count are known), the others are sent one turn apart and each seals its own batch.
      const eager = weir.producer({ lingerMs: 0 })
      await eager.send({ topic: 'eager', messages: [{ value: 'a' }] })
      for (const value of ['b', 'c', 'd']) {
        void eager.send({ topic: 'eager', messages: [{ value }] })
        await nextTurn()
      }
      await eager.flush()
      expect((await storedBatches(weir, 'eager', 0)).map(b => b.records))
        .toEqual([['a'], ['b'], ['c'], ['d']])
    })
  })

  it('batchBytes splits one send into batches that are sealed as soon as they reach it',
    async () => {
      await withWeir('weir-producer-', async weir => {
        await weir.admin().createTopics([{ topic: 't' }])
        const batchBytes = 100
        const producer = weir.producer({ batchBytes })
        const messages = Array.from({ length: 11 }, (_, i) =>
          ({ value: `${String(i).padStart(2, '0')}-${'x'.repeat(37)}` }))
        const sent = await producer.send({ topic: 't', messages })
        expect(sent.map(m => m.offset)).toEqual(messages.map((_, i) => i))
        const batches = await storedBatches(weir, 't', 0)
        expect(batches.flatMap(b => b.records)).toEqual(messages.map(m => m.value))
        expect(batches.length).toBeGreaterThan(1)
        const estimate = (value: string): number =>
          recordSizeEstimate({ value: Buffer.from(value) })
        batches.forEach((batch, i) => {
          const bytes = batch.records.map(estimate)
          const total = bytes.reduce((a, b) => a + b, 0)
          // Every batch but the last reached batchBytes, and only with its last record.
          if (i < batches.length - 1) expect(total).toBeGreaterThanOrEqual(batchBytes)
          expect(total - bytes[bytes.length - 1]!).toBeLessThan(batchBytes)
        })
      })
    })
})

describe('producer: acknowledgements', () => {
  it('acks 0 resolves with offset -1 for every record, and the records still arrive', async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      const producer = weir.producer({ idempotent: false, acks: 0 })
      const sent = await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' },
        { value: 'c' }] })
      expect(sent).toEqual(['a', 'b', 'c'].map(() => ({ topic: 't', partition: 0, offset: -1 })))
      await until(async () => (await readPartition(weir.transport, 't', 0)).length === 3)
      expect(values(await readPartition(weir.transport, 't', 0))).toEqual(['a', 'b', 'c'])
    })
  })

  it('acks 1 resolves with the offsets the records got', async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      const producer = weir.producer({ idempotent: false, acks: 1 })
      await producer.send({ topic: 't', messages: [{ value: 'first' }] })
      const sent = await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] })
      expect(sent.map(m => m.offset)).toEqual([1, 2])
      await until(async () => (await readPartition(weir.transport, 't', 0)).length === 3)
      const stored = await readPartition(weir.transport, 't', 0)
      expect(stored.map(r => [r.offset, r.value!.toString()])).toEqual([[0, 'first'], [1, 'a'],
        [2, 'b']])
    })
  })

  it('an idempotent producer refuses acks other than all with INVALID_CONFIG', async () => {
    await withWeir('weir-producer-', async weir => {
      const invalid = expect.objectContaining({ code: 'INVALID_CONFIG' })
      expect(() => weir.producer({ acks: 0 })).toThrow(invalid)
      expect(() => weir.producer({ acks: 1 })).toThrow(invalid)
      expect(() => weir.producer({ idempotent: true, acks: 0 })).toThrow(invalid)
      expect(weir.producer({ idempotent: false, acks: 0 }).config.acks).toBe(0)
    })
  })

  it('refuses a compression codec Weir does not write (zstd) with INVALID_CONFIG', async () => {
    await withWeir('weir-producer-', async weir => {
      const zstd = 'zstd' as unknown as 'lz4'
      expect(() => weir.producer({ compression: zstd })).toThrow(expect.objectContaining({
        code: 'INVALID_CONFIG', message: expect.stringMatching(/none, gzip, snappy, lz4/) }))
      expect(weir.producer({ compression: 'snappy' }).config.compression).toBe('snappy')
    })
  })
})

describe('producer: refusals', () => {
  /** A partition's log is still empty: a refused send wrote nothing. */
  async function expectEmpty(weir: Weir, topic: string, partitions: number): Promise<void> {
    for (let p = 0; p < partitions; p++) {
      expect(await readPartition(weir.transport, topic, p)).toEqual([])
    }
  }

  it('a send to a topic that does not exist fails with UNKNOWN_TOPIC', async () => {
    await withWeir('weir-producer-', async weir => {
      const producer = weir.producer()
      await expect(producer.send({ topic: 'missing', messages: [{ value: 'x' }] }))
        .rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' })
      // Not remembered as missing: once created, the topic takes records.
      await weir.admin().createTopics([{ topic: 'missing' }])
      expect(await producer.send({ topic: 'missing', messages: [{ value: 'x' }] }))
        .toEqual([{ topic: 'missing', partition: 0, offset: 0 }])
    })
  })

  it('an explicit partition the topic does not have fails with UNKNOWN_TOPIC_OR_PARTITION, '
    + 'and so does a partitioner that returns one; nothing of the send is written', async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 3 }])
      const producer = weir.producer()
      for (const partition of [3, -1, 1.5]) {
        await expect(producer.send({ topic: 't', messages: [{ value: 'ok', partition: 0 },
          { value: 'bad', partition }] })).rejects.toMatchObject(
          { code: 'UNKNOWN_TOPIC_OR_PARTITION' })
      }
      const outOfRange = weir.producer({ partitioner: ({ partitionCount }) => partitionCount })
      await expect(outOfRange.send({ topic: 't', messages: [{ key: 'k', value: 'x' }] }))
        .rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
      await expectEmpty(weir, 't', 3)
    })
  })

  it('a record larger than the topic allows fails with MESSAGE_TOO_LARGE; the producer goes on '
    + 'with the next send', async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', config: { recordBytesMax: 1024 } }])
      const producer = weir.producer()
      await expect(producer.send({ topic: 't', messages: [{ value: 'x'.repeat(2000) }] }))
        .rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
      await expectEmpty(weir, 't', 1)
      expect((await producer.send({ topic: 't', messages: [{ value: 'small' }] }))[0]!.offset)
        .toBe(0)
      expect(values(await readPartition(weir.transport, 't', 0))).toEqual(['small'])
    })
  })

  it('a send that would take unacknowledged bytes past bufferBytesMax fails with '
    + 'WEIR_ERR_PRODUCER_BUFFER_FULL; once earlier sends are acknowledged there is room again',
  async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      const config: Partial<ProducerConfig> = { bufferBytesMax: 100 }
      const producer = weir.producer(config)
      // Alone, a send may exceed the buffer (it could never be sent otherwise).
      const big = producer.send({ topic: 't', messages: [{ value: 'b'.repeat(150) }] })
      const small = producer.send({ topic: 't', messages: [{ value: 's' }] })
      await expect(small).rejects.toMatchObject({ code: 'WEIR_ERR_PRODUCER_BUFFER_FULL' })
      expect((await big)[0]!.offset).toBe(0)
      expect((await producer.send({ topic: 't', messages: [{ value: 's' }] }))[0]!.offset)
        .toBe(1)
      expect(values(await readPartition(weir.transport, 't', 0))).toEqual(['b'.repeat(150), 's'])
    })
  })

  it('close() waits for every send made before it, even one still getting its producer id; a '
    + 'send after close fails with WEIR_ERR_CLIENT_CLOSED', async () => {
    await withWeir('weir-producer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      const producer = weir.producer({ lingerMs: 60_000 })
      let acknowledged: RecordMetadata[] | undefined
      const early = producer.send({ topic: 't', messages: [{ value: 'early' }] })
      void early.then(result => { acknowledged = result })
      await producer.close()
      // close() returned only after the send was acknowledged, without waiting out the linger.
      expect(acknowledged).toEqual([{ topic: 't', partition: 0, offset: 0 }])
      await expect(producer.send({ topic: 't', messages: [{ value: 'late' }] }))
        .rejects.toMatchObject({ code: 'WEIR_ERR_CLIENT_CLOSED' })
      expect(values(await readPartition(weir.transport, 't', 0))).toEqual(['early'])
    })
  })
})
