/**
 * Goal: the broker's contract with its transports. Topics are created, listed, described, grown
 * and deleted with Kafka's error codes for bad requests, and a refused request leaves nothing
 * behind; topic metadata (partitions, config, ids) and records survive a restart, a deleted topic
 * stays deleted and its name can be reused for an empty topic; produce and fetch fail with
 * UNKNOWN_TOPIC / UNKNOWN_TOPIC_OR_PARTITION or auto-create; per-topic config is enforced;
 * producer ids never repeat across restarts; ListOffsets answers earliest, latest and by time;
 * a fetch reports OFFSET_OUT_OF_RANGE per partition; a long-poll fetch answers when data arrives
 * or returns empty when its wait timer fires.
 *
 * Method: a real broker on a temp directory with real fsync, reopened to test durability. Time
 * is a `ManualClock`; background timers never fire, except that the long-poll tests use a manual
 * scheduler whose `after` timers fire only when the test says so. "Still waiting" is asserted
 * only at quiescence: no file-system operation in flight across several event-loop turns (the
 * file system is the broker's only source of asynchrony besides the scheduler), never by
 * sleeping. One test holds a read at a gate to force the interleaving it is about.
 *
 * Over 500 lines because STYLE.md keeps one test file per source file and broker.ts owns every
 * contract above; fetch.ts's long poll is tested here as the broker drives it.
 */
import { join } from 'node:path'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import { Broker, type BrokerOptions } from '../../src/broker/broker.ts'
import type { FetchResult } from '../../src/broker/fetch.ts'
import { METADATA_FILE } from '../../src/broker/topic-registry.ts'
import { decodeRecords, encodeBatch, forEachBatch } from '../../src/log/record-batch.ts'
import { ManualClock, type Scheduler } from '../../src/util/clock.ts'
import type { FileHandle, FileSystem, OpenMode } from '../../src/util/file-system.ts'
import { NodeFileSystem } from '../../src/util/node-file-system.ts'
import { noTimers, withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

function openBroker(dir: string, options: Partial<BrokerOptions> = {}): Promise<Broker> {
  return Broker.open({ dir, clock: new ManualClock(1_000_000), scheduler: noTimers, ...options })
}

async function withBroker(options: Partial<BrokerOptions>,
  run: (broker: Broker, dir: string) => Promise<void>): Promise<void> {
  await withTempDir('weir-broker-', async dir => {
    const broker = await openBroker(dir, options)
    try {
      await run(broker, dir)
    } finally {
      await broker.close()
    }
  })
}

function batch(values: readonly string[], timestamp = 1_000_000): Buffer {
  return encodeBatch(values.map(value => ({ value: Buffer.from(value) })), { timestamp })
}

function valuesOf(bytes: Buffer, from = 0): string[] {
  const values: string[] = []
  forEachBatch(bytes, position => {
    for (const record of decodeRecords(bytes, position)) {
      if (record.offset >= from) values.push(record.value!.toString())
    }
  })
  return values
}

/** Every value in a partition, read with fetch from offset 0. */
async function readValues(broker: Broker, topic: string, partition: number): Promise<string[]> {
  const values: string[] = []
  let offset = 0
  for (;;) {
    const [result] = await broker.fetch({ partitions: [{ topic, partition, offset }] })
    expect(result!.error).toBeUndefined()
    if (result!.bytes.length === 0) return values
    values.push(...valuesOf(result!.bytes, offset))
    offset = result!.nextOffset
  }
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string):
Promise<void> {
  const error: unknown = typeof promise === 'function'
    ? await Promise.resolve().then(promise).then(() => undefined, (e: unknown) => e)
    : await promise.then(() => undefined, (e: unknown) => e)
  expect(WeirError.is(error), `expected ${code}, got ${String(error)}`).toBe(true)
  expect((error as WeirError).code).toBe(code)
}

describe('Broker topics', () => {
  it('created topics are listed by name and described with their partitions and config; a '
    + 'deleted topic is gone', async () => {
    await withBroker({}, async broker => {
      const orders = await broker.createTopic({ topic: 'orders', partitions: 3,
        config: { retentionMs: 60_000 } })
      expect(orders).toEqual({ name: 'orders', topicId: expect.stringMatching(/^[0-9a-f]{16}$/),
        partitions: 3, config: { retentionMs: 60_000 }, internal: false })
      await broker.createTopic({ topic: 'audit' })
      expect(broker.listTopics().map(topic => topic.name)).toEqual(['audit', 'orders'])
      const described = broker.describeTopic('orders')
      expect(described).toMatchObject(orders)
      expect(described.partitionStates).toEqual([0, 1, 2].map(partition => ({ partition,
        logStartOffset: 0, logEndOffset: 0, highWatermark: 0 })))
      await broker.produce({ topic: 'orders', partition: 1, batch: batch(['a', 'b']), acks: 'all' })
      expect(broker.describeTopic('orders').partitionStates[1])
        .toEqual({ partition: 1, logStartOffset: 0, logEndOffset: 2, highWatermark: 2 })
      await broker.deleteTopic('orders')
      expect(broker.listTopics().map(topic => topic.name)).toEqual(['audit'])
      await expectCode(() => broker.describeTopic('orders'), 'UNKNOWN_TOPIC')
      await expectCode(broker.deleteTopic('orders'), 'UNKNOWN_TOPIC')
      await expectCode(broker.produce({ topic: 'orders', partition: 0, batch: batch(['x']),
        acks: 'all' }), 'UNKNOWN_TOPIC')
    })
  })

  it('creating a topic that exists is TOPIC_ALREADY_EXISTS and changes nothing', async () => {
    await withBroker({}, async broker => {
      const first = await broker.createTopic({ topic: 't', partitions: 2 })
      await broker.produce({ topic: 't', partition: 0, batch: batch(['kept']), acks: 'all' })
      await expectCode(broker.createTopic({ topic: 't', partitions: 5 }), 'TOPIC_ALREADY_EXISTS')
      expect(broker.listTopics()).toEqual([first])
      expect(await readValues(broker, 't', 0)).toEqual(['kept'])
    })
  })

  it.each([
    ['empty', ''], ['dot', '.'], ['dot dot', '..'], ['a space', 'a b'], ['a slash', 'a/b'],
    ['a backslash', 'a\\b'], ['non-ASCII', 'tópico'], ['a colon', 'a:b'],
    ['250 characters', 'x'.repeat(250)], ['the reserved __ prefix', '__consumer_offsets'],
    ['only the __ prefix', '__'],
  ])('a topic name with %s is INVALID_TOPIC_EXCEPTION and creates nothing', async (_name, name) => {
    await withBroker({ autoCreateTopics: true }, async (broker, dir) => {
      await expectCode(broker.createTopic({ topic: name }), 'INVALID_TOPIC_EXCEPTION')
      // Auto-creation applies the same rules.
      await expectCode(broker.produce({ topic: name, partition: 0, batch: batch(['x']),
        acks: 'all' }), 'INVALID_TOPIC_EXCEPTION')
      expect(broker.listTopics({ includeInternal: true })).toEqual([])
      expect(await readdir(join(dir, 'topics'))).toEqual([])
    })
  })

  const legalName = fc.integer({ min: 1, max: 249 }).chain(length => fc.string({
    unit: fc.constantFrom(...'abcXYZ019._-'), minLength: length, maxLength: length }))
    .filter(name => name !== '.' && name !== '..' && !name.startsWith('__'))

  // The longest names always run: the partition directory adds '-<16-hex-digit id>' to them.
  test.prop([legalName], { numRuns: numRuns(30),
    examples: [['x'.repeat(249)], ['y'.repeat(239)], ['z'.repeat(238)]] })(
    'every name the naming rules accept (1–249 characters of [a-zA-Z0-9._-]) can be created, '
    + 'used and reopened', async name => {
      await withTempDir('weir-broker-', async dir => {
        let broker = await openBroker(dir)
        try {
          await broker.createTopic({ topic: name })
          await broker.produce({ topic: name, partition: 0, batch: batch(['v']), acks: 'all' })
          await broker.close()
          broker = await openBroker(dir)
          expect(broker.listTopics().map(topic => topic.name)).toEqual([name])
          expect(await readValues(broker, name, 0)).toEqual(['v'])
        } finally {
          await broker.close()
        }
      })
    }, 300_000)

  it('internal topics may use the __ prefix, are hidden from the default listing and cannot be '
    + 'deleted', async () => {
    await withBroker({}, async broker => {
      const offsets = await broker.ensureInternalTopic('__consumer_offsets', 2,
        { cleanupPolicy: 'compact' })
      expect(offsets.internal).toBe(true)
      expect(await broker.ensureInternalTopic('__consumer_offsets', 7, {})).toEqual(offsets)
      await broker.createTopic({ topic: 'user' })
      expect(broker.listTopics().map(topic => topic.name)).toEqual(['user'])
      expect(broker.listTopics({ includeInternal: true }).map(topic => topic.name))
        .toEqual(['__consumer_offsets', 'user'])
      await expectCode(broker.deleteTopic('__consumer_offsets'), 'INVALID_TOPIC_EXCEPTION')
      expect(broker.partitionsOf('__consumer_offsets')).toHaveLength(2)
    })
  })

  it.each([0, -1, 1.5, Number.NaN, 9])(
    'a partition count of %s is INVALID_PARTITIONS for a new topic and for createPartitions',
    async count => {
      await withBroker({ limits: { partitionsPerTopicMax: 8 } }, async broker => {
        await expectCode(broker.createTopic({ topic: 't', partitions: count }),
          'INVALID_PARTITIONS')
        expect(broker.listTopics()).toEqual([])
        await broker.createTopic({ topic: 't', partitions: 8 })
        await broker.createTopic({ topic: 'u', partitions: 1 })
        await expectCode(broker.createPartitions('u', count), 'INVALID_PARTITIONS')
        expect(broker.describeTopic('u').partitions).toBe(1)
      })
    })

  it('createPartitions adds usable partitions, keeps the existing data, survives a reopen and '
    + 'refuses to keep or shrink the count', async () => {
    await withTempDir('weir-broker-', async dir => {
      let broker = await openBroker(dir)
      try {
        await broker.createTopic({ topic: 't', partitions: 2, config: { retentionMs: -1 } })
        await broker.produce({ topic: 't', partition: 1, batch: batch(['one']), acks: 'all' })
        await expectCode(broker.produce({ topic: 't', partition: 3, batch: batch(['x']),
          acks: 'all' }), 'UNKNOWN_TOPIC_OR_PARTITION')
        const grown = await broker.createPartitions('t', 4)
        expect(grown).toMatchObject({ name: 't', partitions: 4, config: { retentionMs: -1 } })
        await broker.produce({ topic: 't', partition: 3, batch: batch(['three']), acks: 'all' })
        await expectCode(broker.createPartitions('t', 4), 'INVALID_PARTITIONS')
        await expectCode(broker.createPartitions('t', 2), 'INVALID_PARTITIONS')
        await expectCode(broker.createPartitions('missing', 3), 'UNKNOWN_TOPIC')
        await broker.close()
        broker = await openBroker(dir)
        expect(broker.describeTopic('t')).toMatchObject({ topicId: grown.topicId, partitions: 4 })
        expect(broker.describeTopic('t').partitionStates).toHaveLength(4)
        expect(await readValues(broker, 't', 1)).toEqual(['one'])
        expect(await readValues(broker, 't', 2)).toEqual([])
        expect(await readValues(broker, 't', 3)).toEqual(['three'])
      } finally {
        await broker.close()
      }
    })
  })

  it('per-topic config is enforced and reported: recordBytesMax refuses larger records with '
    + 'MESSAGE_TOO_LARGE; a compacted topic says so in describe; both survive a reopen',
  async () => {
    await withTempDir('weir-broker-', async dir => {
      let broker = await openBroker(dir, { topicDefaults: { recordBytesMax: 4096 } })
      try {
        await broker.createTopic({ topic: 'small', config: { recordBytesMax: 100 } })
        await broker.createTopic({ topic: 'table', config: { cleanupPolicy: 'compact' } })
        await broker.createTopic({ topic: 'default' })
        const check = async (): Promise<void> => {
          const big = batch(['x'.repeat(200)])
          await expectCode(broker.produce({ topic: 'small', partition: 0, batch: big,
            acks: 'all' }), 'MESSAGE_TOO_LARGE')
          expect(broker.describeTopic('small').partitionStates[0]!.logEndOffset).toBe(0)
          await broker.produce({ topic: 'default', partition: 0, batch: batch(['x'.repeat(200)]),
            acks: 'all' })
          // The broker-wide default applies where the topic sets nothing.
          await expectCode(broker.produce({ topic: 'default', partition: 0,
            batch: batch(['x'.repeat(5000)]), acks: 'all' }), 'MESSAGE_TOO_LARGE')
          expect(broker.describeTopic('small').config).toEqual({ recordBytesMax: 100 })
          expect(broker.describeTopic('table').config).toEqual({ cleanupPolicy: 'compact' })
        }
        await check()
        await broker.close()
        broker = await openBroker(dir, { topicDefaults: { recordBytesMax: 4096 } })
        await check()
      } finally {
        await broker.close()
      }
    })
  })

  it('a topic whose config is invalid is INVALID_CONFIG, is not created, and the broker still '
    + 'reopens', async () => {
    await withTempDir('weir-broker-', async dir => {
      let broker = await openBroker(dir)
      try {
        await expectCode(broker.createTopic({ topic: 'bad', config: { recordBytesMax: 0 } }),
          'INVALID_CONFIG')
        await expectCode(broker.createTopic({ topic: 'bad2',
          config: { segmentBytesMax: 1000, batchBytesMax: 2000 } }), 'INVALID_CONFIG')
        expect(broker.listTopics()).toEqual([])
        await broker.close()
        broker = await openBroker(dir)
        expect(broker.listTopics()).toEqual([])
        await broker.createTopic({ topic: 'bad', config: { recordBytesMax: 10 } })
      } finally {
        await broker.close()
      }
    })
  })
})

describe('Broker restart', () => {
  it('topics, partition counts, configs, ids, records and producer dedup survive close and '
    + 'reopen', async () => {
    await withTempDir('weir-broker-', async dir => {
      let broker = await openBroker(dir)
      try {
        await broker.createTopic({ topic: 'a', partitions: 3, config: { retentionBytes: 1 << 20,
          flush: { intervalMs: 500 } } })
        await broker.createTopic({ topic: 'b', config: { cleanupPolicy: 'compact' } })
        for (let p = 0; p < 3; p++) {
          await broker.produce({ topic: 'a', partition: p, batch: batch([`a${p}-0`, `a${p}-1`]),
            acks: 'all' })
        }
        const { producerId } = await broker.initProducerId()
        const idempotent = (): Buffer => encodeBatch([{ value: Buffer.from('once') }],
          { timestamp: 5, producerId, producerEpoch: 0, baseSequence: 0 })
        expect(await broker.produce({ topic: 'b', partition: 0, batch: idempotent(),
          acks: 'all' }))
          .toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false })
        const before = broker.listTopics().map(topic => broker.describeTopic(topic.name))
        await broker.close()
        broker = await openBroker(dir)
        expect(broker.listTopics().map(topic => broker.describeTopic(topic.name)))
          .toEqual(before)
        for (let p = 0; p < 3; p++) {
          expect(await readValues(broker, 'a', p)).toEqual([`a${p}-0`, `a${p}-1`])
        }
        expect(await broker.produce({ topic: 'b', partition: 0, batch: idempotent(),
          acks: 'all' })).toEqual({ baseOffset: 0, lastOffset: 0, duplicate: true })
        expect(await readValues(broker, 'b', 0)).toEqual(['once'])
      } finally {
        await broker.close()
      }
    })
  })

  it('a deleted topic stays deleted after reopen, its files are removed, and a topic re-created '
    + 'with its name starts empty', async () => {
    await withTempDir('weir-broker-', async dir => {
      let broker = await openBroker(dir)
      try {
        const old = await broker.createTopic({ topic: 't', partitions: 2 })
        await broker.produce({ topic: 't', partition: 0, batch: batch(['old']), acks: 'all' })
        await broker.createTopic({ topic: 'other' })
        await broker.deleteTopic('t')
        const oldDirectory = join(dir, 'topics', `t-${old.topicId}`)
        for (const partition of await readdir(oldDirectory)) {
          expect(await readdir(join(oldDirectory, partition))).toEqual([])
        }
        await broker.close()
        broker = await openBroker(dir)
        expect(broker.listTopics().map(topic => topic.name)).toEqual(['other'])
        await expectCode(() => broker.describeTopic('t'), 'UNKNOWN_TOPIC')
        const again = await broker.createTopic({ topic: 't' })
        expect(again.topicId).not.toBe(old.topicId)
        expect(again.partitions).toBe(1)
        expect(broker.describeTopic('t').partitionStates[0]!.logEndOffset).toBe(0)
        expect(await readValues(broker, 't', 0)).toEqual([])
        await broker.produce({ topic: 't', partition: 0, batch: batch(['new']), acks: 'all' })
        await broker.close()
        broker = await openBroker(dir)
        expect(await readValues(broker, 't', 0)).toEqual(['new'])
        // Deleted and re-created without a restart in between: still empty.
        await broker.deleteTopic('t')
        await broker.createTopic({ topic: 't' })
        expect(await readValues(broker, 't', 0)).toEqual([])
      } finally {
        await broker.close()
      }
    })
  })

  it('producer ids are unique across restarts, including across id blocks and concurrent '
    + 'requests', async () => {
    await withTempDir('weir-broker-', async dir => {
      const seen = new Set<number>()
      let handedOut = 0
      for (const count of [3, 0, 1001, 2, 5]) {
        const broker = await openBroker(dir)
        try {
          const ids = await Promise.all(Array.from({ length: count }, () =>
            broker.initProducerId()))
          for (const { producerId, producerEpoch } of ids) {
            expect(seen.has(producerId), `producer id ${producerId} handed out twice`).toBe(false)
            expect(producerEpoch).toBe(0)
            expect(Number.isSafeInteger(producerId) && producerId >= 0).toBe(true)
            seen.add(producerId)
          }
          handedOut += count
        } finally {
          await broker.close()
        }
      }
      expect(seen.size).toBe(handedOut)
    })
  })

  it.each([
    ['bytes that are not JSON', () => 'garbage'],
    ['a changed topic name (checksum mismatch)', (text: string) => text.replace('"t"', '"u"')],
    ['a torn write', (text: string) => text.slice(0, 20)],
  ])('a metadata.json with %s stops the broker from opening with WEIR_ERR_LOG_CORRUPT',
    async (_name, corrupt) => {
      await withTempDir('weir-broker-', async dir => {
        const broker = await openBroker(dir)
        await broker.createTopic({ topic: 't' })
        await broker.close()
        const path = join(dir, METADATA_FILE)
        await writeFile(path, corrupt(await readFile(path, 'utf8')))
        await expectCode(openBroker(dir), 'WEIR_ERR_LOG_CORRUPT')
      })
    })
})

describe('Broker produce and fetch', () => {
  it('without auto-creation an unknown topic is UNKNOWN_TOPIC for produce, fetch, describe, '
    + 'listOffset and admin calls, and nothing is created', async () => {
    await withBroker({}, async broker => {
      await expectCode(broker.produce({ topic: 'nope', partition: 0, batch: batch(['x']),
        acks: 'all' }), 'UNKNOWN_TOPIC')
      await expectCode(broker.fetch({ partitions: [{ topic: 'nope', partition: 0, offset: 0 }] }),
        'UNKNOWN_TOPIC')
      await expectCode(() => broker.describeTopic('nope'), 'UNKNOWN_TOPIC')
      await expectCode(broker.listOffset('nope', 0, 'latest'), 'UNKNOWN_TOPIC')
      await expectCode(broker.createPartitions('nope', 2), 'UNKNOWN_TOPIC')
      await expectCode(broker.deleteTopic('nope'), 'UNKNOWN_TOPIC')
      expect(broker.listTopics()).toEqual([])
    })
  })

  it('with autoCreateTopics produce and fetch create an unknown topic with the default '
    + 'partition count', async () => {
    await withBroker({ autoCreateTopics: true, defaultPartitions: 3 }, async broker => {
      expect(await broker.produce({ topic: 'auto', partition: 2, batch: batch(['x']),
        acks: 'all' })).toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false })
      expect(broker.describeTopic('auto')).toMatchObject({ partitions: 3, internal: false })
      const [fetched] = await broker.fetch({ partitions: [{ topic: 'fetched', partition: 1,
        offset: 0 }] })
      expect(fetched).toMatchObject({ topic: 'fetched', partition: 1, nextOffset: 0,
        highWatermark: 0 })
      expect(fetched!.bytes.length).toBe(0)
      expect(fetched!.error).toBeUndefined()
      expect(broker.listTopics().map(topic => topic.name)).toEqual(['auto', 'fetched'])
      // Concurrent first uses create the topic once.
      await Promise.all(Array.from({ length: 5 }, (_, i) => broker.produce({ topic: 'race',
        partition: 0, batch: batch([`r${i}`]), acks: 'all' })))
      expect((await readValues(broker, 'race', 0)).sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4'])
      // A partition beyond the auto-created count is still unknown.
      await expectCode(broker.produce({ topic: 'other', partition: 3, batch: batch(['x']),
        acks: 'all' }), 'UNKNOWN_TOPIC_OR_PARTITION')
    })
  })

  it.each([-1, 2, 0.5, Number.NaN])(
    'partition %s of a two-partition topic is UNKNOWN_TOPIC_OR_PARTITION for produce, fetch and '
    + 'listOffset', async partition => {
      await withBroker({ autoCreateTopics: true }, async broker => {
        await broker.createTopic({ topic: 't', partitions: 2 })
        await expectCode(broker.produce({ topic: 't', partition, batch: batch(['x']),
          acks: 'all' }), 'UNKNOWN_TOPIC_OR_PARTITION')
        await expectCode(broker.fetch({ partitions: [{ topic: 't', partition, offset: 0 }] }),
          'UNKNOWN_TOPIC_OR_PARTITION')
        await expectCode(broker.listOffset('t', partition, 'earliest'),
          'UNKNOWN_TOPIC_OR_PARTITION')
        expect(broker.describeTopic('t').partitions).toBe(2)
      })
    })

  it('listOffset answers earliest, latest and the first offset at or after a timestamp',
    async () => {
      const config = { segmentBytesMax: 4096, batchBytesMax: 2048, recordBytesMax: 1024,
        retentionBytes: 0 }
      await withBroker({}, async broker => {
        await broker.createTopic({ topic: 't', config })
        expect(await broker.listOffset('t', 0, 'earliest')).toBe(0)
        expect(await broker.listOffset('t', 0, 'latest')).toBe(0)
        expect(await broker.listOffset('t', 0, { timestamp: 0 })).toBe(0)
        // Offsets 0-1 at t=100, 2 at t=300, 3-4 at t=200 (timestamps may go backwards).
        for (const [values, timestamp] of [[['a', 'b'], 100], [['c'], 300], [['d', 'e'], 200]] as
          const) {
          await broker.produce({ topic: 't', partition: 0, batch: batch(values, timestamp),
            acks: 'all' })
        }
        expect(await broker.listOffset('t', 0, 'earliest')).toBe(0)
        expect(await broker.listOffset('t', 0, 'latest')).toBe(5)
        for (const [timestamp, offset] of [[0, 0], [100, 0], [101, 2], [200, 2], [300, 2],
          [301, 5]]) {
          expect(await broker.listOffset('t', 0, { timestamp: timestamp! }), `at ${timestamp}`)
            .toBe(offset)
        }
        // Retention moves the log start: earliest follows it.
        const log = broker.partition('t', 0).log
        await log.roll()
        await broker.produce({ topic: 't', partition: 0, batch: batch(['f'], 400), acks: 'all' })
        expect(await log.deleteOldSegments()).toBe(1)
        expect(await broker.listOffset('t', 0, 'earliest')).toBe(5)
        expect(await broker.listOffset('t', 0, 'latest')).toBe(6)
        expect(await broker.listOffset('t', 0, { timestamp: 100 })).toBe(5)
      })
    })

  it('a fetch reports OFFSET_OUT_OF_RANGE for one partition without failing the others',
    async () => {
      await withBroker({}, async broker => {
        await broker.createTopic({ topic: 't', partitions: 3 })
        await broker.createTopic({ topic: 'u' })
        await broker.produce({ topic: 't', partition: 0, batch: batch(['a', 'b']), acks: 'all' })
        await broker.produce({ topic: 'u', partition: 0, batch: batch(['c']), acks: 'all' })
        const results = await broker.fetch({ partitions: [
          { topic: 't', partition: 0, offset: 1 },
          { topic: 't', partition: 1, offset: 99 },
          { topic: 't', partition: 2, offset: 0 },
          { topic: 'u', partition: 0, offset: -1 },
          { topic: 'u', partition: 0, offset: 0 },
        ] })
        expect(results.map(result => [result.topic, result.partition, result.nextOffset,
          result.error?.code, valuesOf(result.bytes)])).toEqual([
          ['t', 0, 2, undefined, ['a', 'b']],
          ['t', 1, 99, 'OFFSET_OUT_OF_RANGE', []],
          ['t', 2, 0, undefined, []],
          ['u', 0, -1, 'OFFSET_OUT_OF_RANGE', []],
          ['u', 0, 1, undefined, ['c']],
        ])
        expect(results[1]).toMatchObject({ highWatermark: 0, logStartOffset: 0 })
      })
    })

  it('a closed broker refuses produce, fetch and admin calls with WEIR_ERR_CLIENT_CLOSED',
    async () => {
      await withTempDir('weir-broker-', async dir => {
        const broker = await openBroker(dir)
        await broker.createTopic({ topic: 't' })
        await broker.close()
        await expectCode(broker.produce({ topic: 't', partition: 0, batch: batch(['x']),
          acks: 'all' }), 'WEIR_ERR_CLIENT_CLOSED')
        await expectCode(broker.fetch({ partitions: [{ topic: 't', partition: 0, offset: 0 }] }),
          'WEIR_ERR_CLIENT_CLOSED')
        await expectCode(broker.createTopic({ topic: 'u' }), 'WEIR_ERR_CLIENT_CLOSED')
        await expectCode(broker.initProducerId(), 'WEIR_ERR_CLIENT_CLOSED')
      })
    })
})

/** `after` timers wait until the test fires them; `every` timers never fire. */
class ManualScheduler implements Scheduler {
  private readonly timers: Array<{ delayMs: number, task: () => void, active: boolean }> = []

  every(): () => void {
    return () => undefined
  }

  after(delayMs: number, task: () => void): () => void {
    const timer = { delayMs, task, active: true }
    this.timers.push(timer)
    return () => { timer.active = false }
  }

  /** Delays of the timers that are waiting. */
  get waiting(): number[] {
    return this.timers.filter(timer => timer.active).map(timer => timer.delayMs)
  }

  fireAll(): void {
    for (const timer of this.timers.filter(t => t.active)) {
      timer.active = false
      timer.task()
    }
  }
}

/**
 * The real file system, counting operations in flight (so a test can tell when the broker has
 * nothing left to do) and able to hold reads of chosen files at a gate.
 */
class TrackedFileSystem implements FileSystem {
  inFlight = 0
  private readonly inner = new NodeFileSystem()
  private gate: { holds: (path: string) => boolean, opened: Promise<void>,
    arrived: () => void } | undefined

  /** Holds reads of files `holds` accepts until the returned `open` is called. */
  closeGate(holds: (path: string) => boolean): { arrival: Promise<void>, open: () => void } {
    let open!: () => void
    let arrived!: () => void
    const opened = new Promise<void>(resolve => { open = resolve })
    const arrival = new Promise<void>(resolve => { arrived = resolve })
    this.gate = { holds, opened, arrived }
    return { arrival, open: () => { this.gate = undefined; open() } }
  }

  private track<T>(operation: () => Promise<T>): Promise<T> {
    this.inFlight++
    return operation().finally(() => { this.inFlight-- })
  }

  open(path: string, mode: OpenMode): Promise<FileHandle> {
    return this.track(async () => {
      const handle = await this.inner.open(path, mode)
      return {
        path: handle.path,
        write: (data, position) => this.track(() => handle.write(data, position)),
        writev: (buffers, position) => this.track(() => handle.writev(buffers, position)),
        read: (target, targetOffset, length, position) => this.track(async () => {
          const gate = this.gate
          if (gate !== undefined && gate.holds(path)) {
            gate.arrived()
            await gate.opened
          }
          return handle.read(target, targetOffset, length, position)
        }),
        datasync: () => this.track(() => handle.datasync()),
        truncate: length => this.track(() => handle.truncate(length)),
        size: () => this.track(() => handle.size()),
        close: () => this.track(() => handle.close()),
      }
    })
  }

  list(directory: string): Promise<string[]> { return this.track(() => this.inner.list(directory)) }
  mkdir(directory: string): Promise<void> { return this.track(() => this.inner.mkdir(directory)) }
  rename(from: string, to: string): Promise<void> {
    return this.track(() => this.inner.rename(from, to))
  }

  unlink(path: string): Promise<void> { return this.track(() => this.inner.unlink(path)) }
  syncDirectory(directory: string): Promise<void> {
    return this.track(() => this.inner.syncDirectory(directory))
  }

  exists(path: string): Promise<boolean> { return this.track(() => this.inner.exists(path)) }
}

/**
 * Resolves once the broker has nothing left to do: no file operation in flight across several
 * turns of the event loop (microtasks drain before each turn).
 */
async function quiescent(fs: TrackedFileSystem): Promise<void> {
  let idleTurns = 0
  for (let turn = 0; turn < 100_000; turn++) {
    await new Promise(resolve => setImmediate(resolve))
    idleTurns = fs.inFlight === 0 ? idleTurns + 1 : 0
    if (idleTurns >= 3) return
  }
  throw new Error('the broker never became idle')
}

function settledFlag<T>(promise: Promise<T>): { readonly settled: boolean } {
  const flag = { settled: false }
  void promise.then(() => { flag.settled = true }, () => { flag.settled = true })
  return flag
}

describe('Broker long-poll fetch', () => {
  async function withLongPollBroker(run: (broker: Broker, scheduler: ManualScheduler,
    fs: TrackedFileSystem) => Promise<void>): Promise<void> {
    const scheduler = new ManualScheduler()
    const fs = new TrackedFileSystem()
    // No tail cache: the tests hold fetches inside their disk reads.
    await withBroker({ scheduler, fs, limits: { fetchWaitMsMax: 1000, tailCacheBytes: 0 } },
      broker => run(broker, scheduler, fs))
  }

  it('a fetch with nothing to return waits, and answers as soon as data is appended',
    async () => {
      await withLongPollBroker(async (broker, scheduler, fs) => {
        await broker.createTopic({ topic: 't', partitions: 2 })
        await broker.produce({ topic: 't', partition: 0, batch: batch(['old']), acks: 'all' })
        const fetch = broker.fetch({ maxWaitMs: 500, partitions: [
          { topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 1, offset: 0 }] })
        const state = settledFlag(fetch)
        await quiescent(fs)
        expect(state.settled).toBe(false)
        expect(scheduler.waiting).toEqual([500])
        await broker.produce({ topic: 't', partition: 1, batch: batch(['new']), acks: 1 })
        const results = await fetch
        expect(results.map(result => valuesOf(result.bytes))).toEqual([[], ['new']])
        expect(results[1]!.nextOffset).toBe(1)
        // Answered by the data, not the timer, which is cancelled.
        expect(scheduler.waiting).toEqual([])
      })
    })

  it('a fetch with nothing to return answers empty when its wait timer fires, and the wait is '
    + 'capped at fetchWaitMsMax', async () => {
      await withLongPollBroker(async (broker, scheduler, fs) => {
        await broker.createTopic({ topic: 't' })
        await broker.produce({ topic: 't', partition: 0, batch: batch(['a']), acks: 'all' })
        const fetch = broker.fetch({ maxWaitMs: 3_600_000, partitions: [
          { topic: 't', partition: 0, offset: 1 }] })
        const state = settledFlag(fetch)
        await quiescent(fs)
        expect(state.settled).toBe(false)
        expect(scheduler.waiting).toEqual([1000])
        scheduler.fireAll()
        const results: FetchResult[] = await fetch
        expect(results).toHaveLength(1)
        expect(results[0]).toMatchObject({ topic: 't', partition: 0, nextOffset: 1,
          highWatermark: 1 })
        expect(results[0]!.bytes.length).toBe(0)
        expect(results[0]!.error).toBeUndefined()
      })
    })

  it('a fetch that already has minBytes answers at once without a timer; one below minBytes '
    + 'waits for more', async () => {
      await withLongPollBroker(async (broker, scheduler, fs) => {
        await broker.createTopic({ topic: 't' })
        await broker.produce({ topic: 't', partition: 0, batch: batch(['a']), acks: 'all' })
        const [first] = await broker.fetch({ maxWaitMs: 500, partitions: [
          { topic: 't', partition: 0, offset: 0 }] })
        expect(valuesOf(first!.bytes)).toEqual(['a'])
        expect(scheduler.waiting).toEqual([])
        const fetch = broker.fetch({ maxWaitMs: 500, minBytes: first!.bytes.length + 1,
          partitions: [{ topic: 't', partition: 0, offset: 0 }] })
        const state = settledFlag(fetch)
        await quiescent(fs)
        expect(state.settled).toBe(false)
        await broker.produce({ topic: 't', partition: 0, batch: batch(['b']), acks: 'all' })
        expect((await fetch).map(result => valuesOf(result.bytes))).toEqual([['a', 'b']])
        expect(scheduler.waiting).toEqual([])
      })
    })

  it('data appended to a partition while the fetch is still reading a later partition wakes '
    + 'the fetch (no lost wake-up)', async () => {
      await withLongPollBroker(async (broker, scheduler, fs) => {
        await broker.createTopic({ topic: 'early' })
        await broker.createTopic({ topic: 'late' })
        await broker.produce({ topic: 'late', partition: 0, batch: batch(['l']), acks: 'all' })
        const lateBytes = (await broker.fetch({ partitions: [
          { topic: 'late', partition: 0, offset: 0 }] }))[0]!.bytes.length
        // The fetch reads 'early' (empty: no disk read), then 'late', whose read is held.
        const gate = fs.closeGate(path => path.includes(`${join('topics', 'late-')}`)
          && path.endsWith('.log'))
        const fetch = broker.fetch({ maxWaitMs: 500, minBytes: lateBytes + 1, partitions: [
          { topic: 'early', partition: 0, offset: 0 },
          { topic: 'late', partition: 0, offset: 0 }] })
        const state = settledFlag(fetch)
        await gate.arrival
        // While 'late' is being read, an append to 'early' completes (durable, acknowledged).
        await broker.produce({ topic: 'early', partition: 0, batch: batch(['e']), acks: 'all' })
        gate.open()
        await quiescent(fs)
        const answeredByData = state.settled
        scheduler.fireAll() // let a stuck fetch finish so the test can close the broker
        const results = await fetch
        expect(results.map(result => valuesOf(result.bytes))).toEqual([['e'], ['l']])
        expect(answeredByData, 'the fetch slept until its timer although data had arrived')
          .toBe(true)
      })
    })
})
