/**
 * Goal: the consumer's features do what its API promises. Without a group, `assign()` reads the
 * chosen partitions from where `autoOffsetReset` puts it; `seek*` move the position (by offset, to
 * either end, by record timestamp); a paused partition yields nothing until resumed; `observe()`
 * hands out the same batches as the iterator, and unsubscribing loses none. With a group:
 * pattern subscriptions (including topics created later), cooperative rebalance callbacks,
 * manual and automatic commits (auto commit stores only finished batches; close stores what was
 * handed out), static membership across a restart, and the WEIR_ERR_CLIENT_STATE misuses.
 *
 * Method: a real broker in a temp dir over the transport under test (embedded, or a WeirServer
 * over HTTP in the 'remote' project) with the real system scheduler and small intervals
 * (heartbeat 50 ms, session 500 ms, fetch wait 50 ms, coordinator tick 20 ms). "Nothing arrives
 * from X" is shown without waiting on a clock: X's records are in the log before the consumer
 * fetches, so any fetch that included X would have returned them alongside the records that did
 * arrive. Every wait is for a condition, bounded by the test timeout; nothing asserts on time.
 */
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs'
import { describe, expect, it } from 'vitest'
import type { RebalanceListener } from '../../src/client/consumer.ts'
import type { ConsumerConfig } from '../../src/client/consumer-config.ts'
import type { ConsumedRecord, ConsumerBatch } from '../../src/client/fetcher.ts'
import type { ProducerConfig } from '../../src/client/producer-config.ts'
import { Weir } from '../../src/client/weir.ts'
import { WeirError } from '../../src/errors.ts'
import type { TopicPartition } from '../../src/group/assignor.ts'
import {
  FAST, interceptedTransport, produce, pull, sorted, until, withWeir,
} from '../helpers/client-fixtures.ts'
import { overKafka } from '../helpers/remote-fixtures.ts'

/** Every `produce` here stores one batch per message, so offsets and batches line up 1:1. */
const ONE_BATCH_EACH: Partial<ProducerConfig> = { batchBytes: 1 }

const text = (record: ConsumedRecord): string => record.value!.toString()
const where = (record: ConsumedRecord): string => `${record.topic}/${record.partition}`

describe('consumer without a group', () => {
  it('assign() reads exactly the chosen partitions and nothing of the others', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 3 }])
      await produce(weir, 't', [0, 1, 2].flatMap(p => [0, 1, 2].map(i =>
        ({ partition: p, value: `${p}:${i}` }))), ONE_BATCH_EACH)
      const consumer = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 50 })
      await consumer.assign([{ topic: 't', partition: 0 }, { topic: 't', partition: 2 }])
      expect(sorted(consumer.assignment())).toEqual(['t/0', 't/2'])
      const records = await pull(consumer, 6)
      // Partition 1's records were in the log before the first fetch: had it been fetched, they
      // would have come in the same responses. A marker written afterwards proves we kept going.
      await produce(weir, 't', [{ partition: 0, value: 'marker' }], ONE_BATCH_EACH)
      records.push(...await pull(consumer, Infinity, got => got.some(r => text(r) === 'marker')))
      expect(records.map(text).sort()).toEqual(['0:0', '0:1', '0:2', '2:0', '2:1', '2:2',
        'marker'])
      expect(records.every(record => record.partition !== 1)).toBe(true)
    })
  })

  it("autoOffsetReset 'earliest' starts at the log start; 'latest' sees only records produced "
    + 'after assignment', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      await produce(weir, 't', ['old-0', 'old-1', 'old-2'].map(value => ({ value })),
        ONE_BATCH_EACH)
      const earliest = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 50 })
      const latest = weir.consumer({ autoOffsetReset: 'latest', maxWaitMs: 50 })
      await earliest.assign([{ topic: 't', partition: 0 }])
      await latest.assign([{ topic: 't', partition: 0 }])
      await produce(weir, 't', ['new-0', 'new-1'].map(value => ({ value })), ONE_BATCH_EACH)
      const fromStart = await pull(earliest, 5)
      const fromEnd = await pull(latest, 2)
      expect(fromStart.map(text)).toEqual(['old-0', 'old-1', 'old-2', 'new-0', 'new-1'])
      expect(fromEnd.map(text)).toEqual(['new-0', 'new-1'])
      expect(fromEnd.map(record => record.offset)).toEqual([3, 4])
    })
  })

  it('seek, seekToBeginning, seekToEnd and seekToTimestamp move the next record read to the '
    + 'offset they name', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      const base = 1_700_000_000_000
      // Record i carries timestamp base + 100 i; all ten travel in one stored batch, so a seek
      // into the middle also checks that records before the position are dropped.
      const producer = weir.producer()
      await producer.send({ topic: 't', messages: Array.from({ length: 10 }, (_, i) =>
        ({ value: `r${i}`, timestamp: base + 100 * i })) })
      const consumer = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 50 })
      const tp = { topic: 't', partition: 0 }
      await consumer.assign([tp])
      expect((await pull(consumer, 10)).map(r => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])

      consumer.seek({ ...tp, offset: 6 })
      expect((await pull(consumer, 4)).map(r => r.offset)).toEqual([6, 7, 8, 9])

      await consumer.seekToBeginning()
      expect((await pull(consumer, 10)).map(r => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])

      // Between two records: the first at or after the timestamp.
      await consumer.seekToTimestamp(base + 450)
      expect((await pull(consumer, 5)).map(r => r.offset)).toEqual([5, 6, 7, 8, 9])
      // Exactly on a record's timestamp: that record.
      await consumer.seekToTimestamp(base + 200, [tp])
      expect((await pull(consumer, 8)).map(r => r.offset)).toEqual([2, 3, 4, 5, 6, 7, 8, 9])
      // Later than every record: the end, so the next record read is the next one produced.
      await consumer.seekToTimestamp(base + 10_000)
      await producer.send({ topic: 't', messages: [{ value: 'r10', timestamp: base + 20_000 }] })
      expect((await pull(consumer, 1)).map(r => [r.offset, text(r)])).toEqual([[10, 'r10']])

      // Seek back, then to the end: records before the end are not handed out.
      consumer.seek({ ...tp, offset: 0 })
      await consumer.seekToEnd()
      await producer.send({ topic: 't', messages: [{ value: 'r11' }] })
      expect((await pull(consumer, 1)).map(r => [r.offset, text(r)])).toEqual([[11, 'r11']])
    })
  })

  it('a paused partition yields no records until it is resumed; the others keep flowing',
    async () => {
      await withWeir('weir-consumer-', async weir => {
        await weir.admin().createTopics([{ topic: 't', partitions: 2 }])
        await produce(weir, 't', [0, 1, 2].map(i => ({ partition: 0, value: `p0:${i}` })),
          ONE_BATCH_EACH)
        const consumer = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 50 })
        await consumer.assign([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])
        consumer.pause([{ topic: 't', partition: 0 }])
        expect(sorted(consumer.paused())).toEqual(['t/0'])
        // Partition 0 holds records from the start; partition 1 gets its records only now.
        await produce(weir, 't', [0, 1].map(i => ({ partition: 1, value: `p1:${i}` })),
          ONE_BATCH_EACH)
        const whilePaused = await pull(consumer, 2)
        await produce(weir, 't', [{ partition: 1, value: 'p1:2' }], ONE_BATCH_EACH)
        whilePaused.push(...await pull(consumer, 1))
        expect(whilePaused.map(text)).toEqual(['p1:0', 'p1:1', 'p1:2'])

        consumer.resume([{ topic: 't', partition: 0 }])
        expect(consumer.paused()).toEqual([])
        expect((await pull(consumer, 3)).map(text)).toEqual(['p0:0', 'p0:1', 'p0:2'])
      })
    })

  it('observe() hands out the batches in order; take(n) unsubscribes without losing or '
    + 'repeating a batch, so the next observe() continues where it stopped', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      await produce(weir, 't', Array.from({ length: 6 }, (_, i) => ({ value: `r${i}` })),
        ONE_BATCH_EACH)
      // One stored batch per fetch, so every record is its own ConsumerBatch.
      const consumer = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 50,
        maxBytesPerPartition: 1 })
      await consumer.assign([{ topic: 't', partition: 0 }])
      const values = (batch: ConsumerBatch): string[] => batch.records.map(text)
      const first = await firstValueFrom(consumer.observe())
      const middle = await lastValueFrom(consumer.observe().pipe(take(3), toArray()))
      const last = await lastValueFrom(consumer.observe().pipe(take(2)))
      expect(values(first)).toEqual(['r0'])
      expect(middle.map(values)).toEqual([['r1'], ['r2'], ['r3']])
      expect(middle.map(batch => batch.nextOffset)).toEqual([2, 3, 4])
      // lastValueFrom(take(2)) resolves with the second of the two batches: r4 went by.
      expect(values(last)).toEqual(['r5'])
      expect(last.highWatermark).toBe(6)
    })
  })

  it('commit() without a group fails with WEIR_ERR_CLIENT_STATE, and so does seek() on a '
    + 'partition that is not assigned', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 2 }])
      await produce(weir, 't', [{ partition: 0, value: 'x' }], ONE_BATCH_EACH)
      const consumer = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 50 })
      await consumer.assign([{ topic: 't', partition: 0 }])
      await expect(consumer.commit()).rejects.toMatchObject({ code: 'WEIR_ERR_CLIENT_STATE' })
      await expect(consumer.commit([{ topic: 't', partition: 0, offset: 0 }]))
        .rejects.toMatchObject({ code: 'WEIR_ERR_CLIENT_STATE' })
      await pull(consumer, 1)
      await expect(consumer.commit()).rejects.toMatchObject({ code: 'WEIR_ERR_CLIENT_STATE' })
      expect(() => consumer.seek({ topic: 't', partition: 1, offset: 0 }))
        .toThrow(expect.objectContaining({ code: 'WEIR_ERR_CLIENT_STATE' }))
      expect(() => consumer.seek({ topic: 'elsewhere', partition: 0, offset: 0 }))
        .toThrow(expect.objectContaining({ code: 'WEIR_ERR_CLIENT_STATE' }))
      expect(() => consumer.subscribe({ topics: ['t'] }))
        .toThrow(expect.objectContaining({ code: 'WEIR_ERR_CLIENT_STATE' }))
    })
  })
})

describe('consumer in a group', () => {
  it('a RegExp subscription reads the matching topics that exist, and only those', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 'metrics-a', partitions: 2 },
        { topic: 'metrics-b' }, { topic: 'other' }])
      for (const topic of ['metrics-a', 'metrics-b', 'other']) {
        await produce(weir, topic, [{ value: `${topic}:0` }], ONE_BATCH_EACH)
      }
      const consumer = weir.consumer({ ...FAST, groupId: 'g', autoOffsetReset: 'earliest' })
      consumer.subscribe({ topics: [/^metrics-/] })
      const records = await pull(consumer, 2)
      expect(records.map(text).sort()).toEqual(['metrics-a:0', 'metrics-b:0'])
      expect(sorted(consumer.assignment())).toEqual(['metrics-a/0', 'metrics-a/1',
        'metrics-b/0'])
    })
  })

  it('a topic matching the pattern that is created after subscribe is picked up after '
    + 'metadataMaxAgeMs', async () => {
    await withWeir('weir-consumer-', async weir => {
      const createTopic = async (topic: string, partitions = 1): Promise<void> => {
        await weir.admin().createTopics([{ topic, partitions }])
      }
      await createTopic('metrics-a')
      await produce(weir, 'metrics-a', [{ value: 'a:0' }], ONE_BATCH_EACH)
      const consumer = weir.consumer({ ...FAST, groupId: 'g',
        autoOffsetReset: 'earliest', metadataMaxAgeMs: 100 })
      try {
        consumer.subscribe({ topics: [/^metrics-/] })
        expect((await pull(consumer, 1)).map(text)).toEqual(['a:0'])
        // Created right after the join, typically before the first refresh: the refresh must
        // compare with the topics the member joined with, not take this as its baseline.
        await createTopic('metrics-c', 2)
        await produce(weir, 'metrics-c', [{ partition: 1, value: 'c:0' }], ONE_BATCH_EACH)
        const later = await pull(consumer, 1)
        expect(later.map(r => [where(r), text(r)])).toEqual([['metrics-c/1', 'c:0']])
        expect(sorted(consumer.assignment())).toEqual(['metrics-a/0', 'metrics-c/0',
          'metrics-c/1'])
      } finally {
        await consumer.close()
      }
    })
  })

  it('a pattern that matches no topic yet picks up the first matching topic created later',
    async () => {
      await withWeir('weir-consumer-', async weir => {
        const consumer = weir.consumer({ ...FAST, groupId: 'g',
          autoOffsetReset: 'earliest', metadataMaxAgeMs: 100 })
        try {
          consumer.subscribe({ topics: [/^late-/] })
          // The member is in the group, with nothing to read.
          await until(async () => (await weir.admin().describeGroup('g')).state === 'Stable')
          await weir.admin().createTopics([{ topic: 'late-1' }])
          await produce(weir, 'late-1', [{ value: 'first' }], ONE_BATCH_EACH)
          expect((await pull(consumer, 1)).map(text)).toEqual(['first'])
        } finally {
          await consumer.close()
        }
      })
    })

  it('a partition whose start position could not be looked up (lost response) is positioned on '
    + 'the rejoin that follows, not left assigned and never fetched', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      await produce(weir, 't', [{ value: 'r0' }, { value: 'r1' }], ONE_BATCH_EACH)
      let failures = 0
      const flaky = interceptedTransport(weir.transport, {
        listOffsets: (next, requests) => failures++ === 0
          ? Promise.reject(new WeirError('REQUEST_TIMED_OUT', 'simulated: response lost'))
          : next(requests),
      })
      const consumer = new Weir(flaky).consumer({ ...FAST, groupId: 'g',
        autoOffsetReset: 'earliest' })
      try {
        consumer.subscribe({ topics: ['t'] })
        expect((await pull(consumer, 2)).map(text)).toEqual(['r0', 'r1'])
        expect(failures).toBeGreaterThan(1)
      } finally {
        await consumer.close()
      }
    })
  })

  it('a fetch that fails with a retriable error is retried: iteration goes on and no record is '
    + 'skipped or repeated', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      await produce(weir, 't', [{ value: 'r0' }, { value: 'r1' }, { value: 'r2' }],
        ONE_BATCH_EACH)
      let fetches = 0
      const flaky = interceptedTransport(weir.transport, {
        // Every other fetch is read by the broker but its response is lost.
        fetch: (next, request) => fetches++ % 2 === 1
          ? next(request).then(() => { throw new WeirError('REQUEST_TIMED_OUT', 'simulated') })
          : next(request),
      })
      const consumer = new Weir(flaky).consumer({ ...FAST, maxBytesPerPartition: 1 })
      try {
        await consumer.assign([{ topic: 't', partition: 0 }])
        await consumer.seekToBeginning()
        expect((await pull(consumer, 3)).map(text)).toEqual(['r0', 'r1', 'r2'])
        expect(fetches).toBeGreaterThanOrEqual(5)
      } finally {
        await consumer.close()
      }
    })
  })

  it('closing a consumer whose fetch is out ends its next() with done, even when the '
    + 'transport then fails that fetch (the remote one aborts requests in flight)', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      let failHeld: ((error: Error) => void) | undefined
      const holding = interceptedTransport(weir.transport, {
        fetch: () => new Promise((_resolve, reject) => { failHeld = reject }),
      })
      const consumer = new Weir(holding).consumer({ ...FAST })
      await consumer.assign([{ topic: 't', partition: 0 }])
      await consumer.seekToBeginning()
      const pending = consumer.next()
      await until(() => failHeld !== undefined)
      await consumer.close()
      failHeld!(new WeirError('WEIR_ERR_CLIENT_CLOSED', 'simulated: aborted by close'))
      expect(await pending).toEqual({ done: true, value: undefined })
    })
  })

  it('no record of a newly assigned partition is fetched before its onPartitionsAssigned '
    + 'listener has returned (Kafka calls it before fetching)', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 1 }])
      await weir.producer().send({ topic: 't', messages: [{ value: 'r0' }, { value: 'r1' }] })
      let listenerDone = false
      const consumer = weir.consumer({ ...FAST, groupId: 'g', autoOffsetReset: 'earliest' })
      consumer.subscribe({ topics: ['t'], onPartitionsAssigned: async () => {
        await new Promise(resolve => setTimeout(resolve, 300))
        listenerDone = true
      } })
      try {
        const first = await consumer.next()
        expect(first.done).toBe(false)
        expect(listenerDone).toBe(true)
      } finally {
        await consumer.close()
      }
    })
  })

  it('cooperative rebalance: when a second member joins, the first revokes only the partitions '
    + 'that move, keeps the rest, and neither is ever assigned a partition the other owns',
  async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 4 }])
      type Name = 'a' | 'b'
      const owned: Record<Name, Set<number>> = { a: new Set(), b: new Set() }
      const calls: Array<{ member: Name, kind: string, partitions: number[] }> = []
      const conflicts: string[] = []
      const listener = (member: Name, other: Name): RebalanceListener => ({
        onPartitionsAssigned: partitions => {
          const numbers = partitions.map(tp => tp.partition).sort()
          calls.push({ member, kind: 'assigned', partitions: numbers })
          for (const p of numbers) {
            if (owned[other].has(p)) conflicts.push(`${member} got ${p} while ${other} owns it`)
            owned[member].add(p)
          }
        },
        onPartitionsRevoked: partitions => {
          const numbers = partitions.map(tp => tp.partition).sort()
          calls.push({ member, kind: 'revoked', partitions: numbers })
          for (const p of numbers) owned[member].delete(p)
        },
        onPartitionsLost: partitions => {
          calls.push({ member, kind: 'lost', partitions: partitions.map(tp => tp.partition) })
        },
      })
      const a = weir.consumer({ ...FAST, groupId: 'g', clientId: 'a' })
      const b = weir.consumer({ ...FAST, groupId: 'g', clientId: 'b' })
      a.subscribe({ topics: ['t'], ...listener('a', 'b') })
      await until(() => owned.a.size === 4)
      b.subscribe({ topics: ['t'], ...listener('b', 'a') })
      await until(() => owned.a.size === 2 && owned.b.size === 2)
      await until(async () => (await weir.admin().describeGroup('g')).state === 'Stable')

      const moved = [...owned.b].sort()
      const kept = [...owned.a].sort()
      expect([...moved, ...kept].sort()).toEqual([0, 1, 2, 3])
      expect(conflicts).toEqual([])
      expect(calls).toEqual([
        { member: 'a', kind: 'assigned', partitions: [0, 1, 2, 3] },
        { member: 'a', kind: 'revoked', partitions: moved },
        { member: 'b', kind: 'assigned', partitions: moved },
      ])
      expect(a.assignment().map(tp => tp.partition).sort()).toEqual(kept)
      expect(b.assignment().map(tp => tp.partition).sort()).toEqual(moved)
    })
  })

  it('after a manual commit, a new consumer of the same group resumes after the committed '
    + 'offset', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      await produce(weir, 't', Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })),
        ONE_BATCH_EACH)
      const config = { ...FAST, groupId: 'g', autoOffsetReset: 'earliest' as const,
        autoCommit: false, maxBytesPerPartition: 1 }
      const first = weir.consumer(config)
      first.subscribe({ topics: ['t'] })
      const read = await pull(first, 4)
      await first.commit() // everything handed out so far
      const committed = read[read.length - 1]!.offset + 1
      expect(await weir.admin().fetchOffsets('g')).toEqual([expect.objectContaining(
        { topic: 't', partition: 0, offset: committed })])
      await first.close()

      const second = weir.consumer(config)
      second.subscribe({ topics: ['t'] })
      const resumed = await pull(second, 10 - committed)
      expect(resumed.map(r => r.offset)).toEqual(
        Array.from({ length: 10 - committed }, (_, i) => committed + i))
      // An explicit offset commits exactly that offset, and a third consumer starts there.
      await second.commit([{ topic: 't', partition: 0, offset: 7 }])
      await second.close()
      const third = weir.consumer(config)
      third.subscribe({ topics: ['t'] })
      expect((await pull(third, 3)).map(text)).toEqual(['r7', 'r8', 'r9'])
    })
  })

  it('auto commit stores only finished batches (a batch is finished when the next is asked '
    + 'for); close() stores everything handed out', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't' }])
      await produce(weir, 't', Array.from({ length: 4 }, (_, i) => ({ value: `r${i}` })),
        ONE_BATCH_EACH)
      // Interval 0: auto commit runs at every next(). One stored batch (one record) per fetch.
      const consumer = weir.consumer({ ...FAST, groupId: 'g', autoOffsetReset: 'earliest',
        autoCommit: true, autoCommitIntervalMs: 0, maxBytesPerPartition: 1 })
      consumer.subscribe({ topics: ['t'] })
      const committed = async (): Promise<number | undefined> =>
        (await weir.admin().fetchOffsets('g', [{ topic: 't', partition: 0 }]))[0]?.offset

      const first = await consumer.next()
      expect(first.value?.records.map(text)).toEqual(['r0'])
      expect(await committed()).toBeUndefined() // r0 is in hand, not finished
      const second = await consumer.next()
      expect(second.value?.records.map(text)).toEqual(['r1'])
      expect(await committed()).toBe(1) // r0 finished; r1 in hand
      const third = await consumer.next()
      expect(third.value?.records.map(text)).toEqual(['r2'])
      expect(await committed()).toBe(2)
      await consumer.close()
      expect(await committed()).toBe(3) // r2 was handed out; r3 never was
      expect(await consumer.next()).toEqual({ done: true, value: undefined })
    })
  })

  it('static membership: a consumer with a groupInstanceId restarted within the session timeout '
    + 'gets the same assignment without a new generation', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 3 }])
      const config = { ...FAST, sessionTimeoutMs: 10_000, groupId: 'g',
        groupInstanceId: 'instance-1', clientId: 'static' }
      const assigned: TopicPartition[][] = []
      const listener: RebalanceListener = { onPartitionsAssigned: partitions => {
        assigned.push(partitions)
      } }
      const before = weir.consumer(config)
      before.subscribe({ topics: ['t'], ...listener })
      await until(() => assigned.length === 1)
      await until(async () => (await weir.admin().describeGroup('g')).state === 'Stable')
      const described = await weir.admin().describeGroup('g')
      // DescribeGroups names instance ids from v4, which Weir's listener does not serve.
      if (!overKafka) {
        expect(described.members.map(m => m.groupInstanceId)).toEqual(['instance-1'])
      }
      const generationBefore = before.groupMetadata().generationId
      await before.close() // a static member does not leave the group

      const after = weir.consumer(config)
      after.subscribe({ topics: ['t'], ...listener })
      await until(() => assigned.length === 2)
      const redescribed = await weir.admin().describeGroup('g')
      expect(sorted(assigned[1]!)).toEqual(sorted(assigned[0]!))
      expect(sorted(after.assignment())).toEqual(['t/0', 't/1', 't/2'])
      expect(after.groupMetadata().generationId).toBe(generationBefore)
      expect(redescribed.generationId).toBe(described.generationId)
      expect(redescribed.state).toBe('Stable')
      if (!overKafka) {
        expect(redescribed.members.map(m => m.groupInstanceId)).toEqual(['instance-1'])
      }
      expect(redescribed.members[0]!.memberId).not.toBe(described.members[0]!.memberId)
      expect(sorted(redescribed.assignments[0]!.partitions)).toEqual(['t/0', 't/1', 't/2'])
    })
  })

  // A restarted static member sends different metadata (it owns nothing yet); the coordinator
  // must still not rebalance as long as the group would pick the same protocol (KIP-345).
  it('static membership: a restarted static member of a two-member group keeps its '
    + 'partitions without a new generation', async () => {
    await withWeir('weir-consumer-', async weir => {
      await weir.admin().createTopics([{ topic: 't', partitions: 4 }])
      const config = (id: string): Partial<ConsumerConfig> => ({ ...FAST,
        sessionTimeoutMs: 10_000, groupId: 'g', groupInstanceId: id, clientId: id })
      const a = weir.consumer(config('a'))
      a.subscribe({ topics: ['t'] })
      await until(() => a.assignment().length === 4)
      weir.consumer(config('b')).subscribe({ topics: ['t'] })
      const balanced = async (): Promise<boolean> => {
        const group = await weir.admin().describeGroup('g')
        return group.state === 'Stable' && group.assignments.length === 2
          && group.assignments.every(entry => entry.partitions.length === 2)
      }
      await until(balanced)
      const before = await weir.admin().describeGroup('g')
      const owned = sorted(a.assignment())
      await a.close()
      const restarted = weir.consumer(config('a'))
      restarted.subscribe({ topics: ['t'] })
      await until(() => restarted.assignment().length === 2)
      await until(balanced)
      expect(sorted(restarted.assignment())).toEqual(owned)
      expect((await weir.admin().describeGroup('g')).generationId).toBe(before.generationId)
    })
  })
})
