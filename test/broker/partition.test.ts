/**
 * Goal: a partition appends each idempotent producer batch exactly once however it is retried:
 * a resend of any of the producer's last 5 batches — in any order, while the original is still
 * in flight or long after, before or after a restart — writes nothing and is answered with the
 * original offsets, never before the original is durable. The producer state that makes this
 * work is rebuilt on open from the newest usable snapshot plus the log after it, or from the log
 * alone; a snapshot beyond the log end or one that fails its checksum is ignored. Refused batches
 * (gaps, old retries, fenced epochs) write nothing.
 *
 * Method: a property sends generated groups of new batches and retries from several producers
 * (each group issued at once, so retries can overtake their originals' fsync), with reopenings
 * that keep or delete the snapshot files, against a temp directory with real fsync; the model is
 * the list of new batches in send order. Example tests cover each restart path and each kind of
 * damaged snapshot. The scheduler never fires, so only explicit calls snapshot or flush.
 */
import { join } from 'node:path'
import { readFile, writeFile } from 'node:fs/promises'
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import { type Acks, Partition, type ProduceResult } from '../../src/broker/partition.ts'
import type { ProducerEntry } from '../../src/broker/producer-state-manager.ts'
import {
  SNAPSHOT_SUFFIX, writeProducerSnapshot,
} from '../../src/broker/producer-state-snapshot.ts'
import type { LogConfig } from '../../src/log/log-config.ts'
import {
  type Compression, decodeRecords, encodeBatch, forEachBatch, readBatchHeader,
} from '../../src/log/record-batch.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { NodeFileSystem } from '../../src/util/node-file-system.ts'
import { noTimers, smallLogConfig, withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

const fs = new NodeFileSystem()
const PRODUCER_ID_BASE = 5000

function openPartition(directory: string, config: Partial<LogConfig> = smallLogConfig):
Promise<Partition> {
  return Partition.open({ directory, config, fs, clock: new ManualClock(1_000),
    scheduler: noTimers })
}

/** What a producer sends: enough to encode the same batch again, byte for byte. */
interface ProducerBatchSpec {
  readonly producerId: number
  readonly epoch: number
  readonly sequence: number
  readonly values: readonly string[]
  readonly compression?: Compression
}

function encode(spec: ProducerBatchSpec): Buffer {
  return encodeBatch(spec.values.map(value => ({ value: Buffer.from(value) })), {
    timestamp: 1_000, producerId: spec.producerId, producerEpoch: spec.epoch,
    baseSequence: spec.sequence, compression: spec.compression ?? 'none' })
}

/** A stored batch as the model keeps it. */
interface StoredBatch {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly producerId: number
  readonly epoch: number
  readonly sequence: number
  readonly values: string[]
}

/** Every batch in the log, decoded. */
async function storedBatches(partition: Partition): Promise<StoredBatch[]> {
  const log = partition.log
  const batches: StoredBatch[] = []
  let offset = log.logStartOffset
  while (offset < log.highWatermark) {
    const read = await log.read(offset)
    expect(read.nextOffset).toBeGreaterThan(offset)
    forEachBatch(read.bytes, position => {
      const header = readBatchHeader(read.bytes, position)
      batches.push({ baseOffset: header.baseOffset,
        lastOffset: header.baseOffset + header.lastOffsetDelta, producerId: header.producerId,
        epoch: header.producerEpoch, sequence: header.baseSequence,
        values: decodeRecords(read.bytes, position).map(record => record.value!.toString()) })
    })
    offset = read.nextOffset
  }
  return batches
}

function stateOf(partition: Partition): ProducerEntry[] {
  return partition.producerState.entries().sort((a, b) => a.producerId - b.producerId)
}

async function snapshotFiles(directory: string): Promise<string[]> {
  return (await fs.list(directory)).filter(name => name.endsWith(SNAPSHOT_SUFFIX))
}

async function deleteSnapshots(directory: string): Promise<void> {
  for (const name of await snapshotFiles(directory)) await fs.unlink(join(directory, name))
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e)
  expect(WeirError.is(error), `expected ${code}, got ${String(error)}`).toBe(true)
  expect((error as WeirError).code).toBe(code)
}

/**
 * Appends `count` one- or two-record batches of one producer, in order, rolling the segment after
 * every `rollEvery` of them; returns what was sent and the answers.
 */
async function appendHistory(partition: Partition, producerId: number, count: number,
  rollEvery = Infinity): Promise<Array<{ spec: ProducerBatchSpec, result: ProduceResult }>> {
  const history: Array<{ spec: ProducerBatchSpec, result: ProduceResult }> = []
  let sequence = 0
  for (let i = 0; i < count; i++) {
    const values = Array.from({ length: 1 + (i % 2) }, (_, r) => `${producerId}-${sequence}-${r}`)
    const spec = { producerId, epoch: 0, sequence, values }
    history.push({ spec, result: await partition.produce(encode(spec), 'all') })
    sequence += values.length
    if ((i + 1) % rollEvery === 0) await partition.log.roll()
  }
  return history
}

type Send = { producer: number, retry: number | undefined, count: number, acks: Acks,
  compression: Compression }
type Step = { kind: 'send', sends: Send[] } | { kind: 'reopen', deleteSnapshots: boolean }

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('send' as const),
    sends: fc.array(fc.record({
      producer: fc.integer({ min: 0, max: 2 }),
      // Which of the producer's last 5 batches to resend (0 = newest), or a new batch.
      retry: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined, freq: 2 }),
      count: fc.integer({ min: 1, max: 3 }),
      acks: fc.constantFrom<Acks>(0, 1, 'all'),
      compression: fc.constantFrom<Compression>('none', 'gzip'),
    }), { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const),
    deleteSnapshots: fc.boolean() }) },
)

interface SentBatch extends ProducerBatchSpec {
  readonly baseOffset: number
  readonly lastOffset: number
}

describe('Partition', () => {
  test.prop([fc.array(stepArbitrary, { minLength: 1, maxLength: 20 })], { numRuns: numRuns() })(
    'for any sequence of producer batches with retries (duplicates of any of the last 5, resent '
    + 'in any order), the log holds every batch exactly once in sequence order and duplicates '
    + 'return the original offsets', async steps => {
      await withTempDir('weir-partition-', async directory => {
        let partition = await openPartition(directory)
        const sent: SentBatch[][] = [[], [], []]
        const model: SentBatch[] = []
        try {
          for (const step of steps) {
            if (step.kind === 'reopen') {
              const before = stateOf(partition)
              await partition.close()
              if (step.deleteSnapshots) await deleteSnapshots(directory)
              partition = await openPartition(directory)
              // Rebuilt from a snapshot or from the log alone, the state is the same.
              expect(stateOf(partition)).toEqual(before)
              continue
            }
            const checks: Array<Promise<void>> = []
            for (const send of step.sends) {
              const history = sent[send.producer]!
              const current = partition
              if (send.retry !== undefined && history.length > 0) {
                const cached = Math.min(history.length, 5)
                const original = history[history.length - 1 - (send.retry % cached)]!
                checks.push(current.produce(encode(original), send.acks).then(result => {
                  expect(result).toEqual({ baseOffset: original.baseOffset,
                    lastOffset: original.lastOffset, duplicate: true })
                  // Never acknowledged before the batch it stands for is durable.
                  expect(current.log.recoveryPoint).toBeGreaterThan(original.lastOffset)
                }))
                continue
              }
              const last = history[history.length - 1]
              const sequence = last === undefined ? 0 : last.sequence + last.values.length
              const producerId = PRODUCER_ID_BASE + send.producer
              const baseOffset = model.length === 0 ? 0 : model[model.length - 1]!.lastOffset + 1
              const batch: SentBatch = { producerId, epoch: 0, sequence,
                compression: send.compression, baseOffset, lastOffset: baseOffset + send.count - 1,
                values: Array.from({ length: send.count },
                  (_, r) => `${producerId}-${sequence}-${r}`) }
              history.push(batch)
              model.push(batch)
              checks.push(current.produce(encode(batch), send.acks).then(result => {
                expect(result).toEqual({ baseOffset: batch.baseOffset,
                  lastOffset: batch.lastOffset, duplicate: false })
              }))
            }
            await Promise.all(checks)
            expect(partition.log.logEndOffset).toBe(model.length === 0 ? 0
              : model[model.length - 1]!.lastOffset + 1)
          }
          await partition.log.flush()
          const expected = model.map(batch => ({ baseOffset: batch.baseOffset,
            lastOffset: batch.lastOffset, producerId: batch.producerId, epoch: 0,
            sequence: batch.sequence, values: [...batch.values] }))
          expect(await storedBatches(partition)).toEqual(expected)
          await partition.close()
          partition = await openPartition(directory)
          expect(await storedBatches(partition)).toEqual(expected)
        } finally {
          await partition.close()
        }
      })
    }, 300_000)

  describe('restart', () => {
    it.each([['with a snapshot (clean close)', false],
      ['without a snapshot (state rebuilt from the log)', true]])(
      'dedup survives close and reopen %s: a retry of a batch appended before the restart '
      + 'returns the original offsets and writes nothing', async (_name, withoutSnapshot) => {
        await withTempDir('weir-partition-', async directory => {
          let partition = await openPartition(directory)
          try {
            // Two producers, enough batches to roll segments and to push some out of the cache.
            const a = await appendHistory(partition, 1, 9, 4)
            const b = await appendHistory(partition, 2, 3, 2)
            const end = partition.log.logEndOffset
            const before = stateOf(partition)
            await partition.close()
            expect(await snapshotFiles(directory)).toHaveLength(1)
            if (withoutSnapshot) await deleteSnapshots(directory)
            partition = await openPartition(directory)
            expect(partition.log.segmentCount).toBeGreaterThan(1)
            expect(stateOf(partition)).toEqual(before)
            for (const { spec, result } of [...a.slice(-5).reverse(), ...b]) {
              expect(await partition.produce(encode(spec), 'all'))
                .toEqual({ ...result, duplicate: true })
            }
            expect(partition.log.logEndOffset).toBe(end)
            // Older than the last 5: not recognised, refused as out of order, nothing written.
            await expectCode(partition.produce(encode(a[3]!.spec), 'all'), 'OUT_OF_ORDER_SEQUENCE')
            expect(partition.log.logEndOffset).toBe(end)
            // The producers continue where they left off.
            const next = a[8]!.spec.sequence + a[8]!.spec.values.length
            expect(await partition.produce(encode({ producerId: 1, epoch: 0, sequence: next,
              values: ['after'] }), 'all')).toEqual({ baseOffset: end, lastOffset: end,
              duplicate: false })
            expect((await storedBatches(partition)).map(batch => batch.values.join()))
              .toEqual([...a, ...b].map(({ spec }) => spec.values.join()).concat('after'))
          } finally {
            await partition.close()
          }
        })
      })

    it.each([['kept', false], ['deleted', true]])(
      'a snapshot beyond the log end is ignored and removed (newer real snapshot %s)',
      async (_name, deleteReal) => {
        await withTempDir('weir-partition-', async directory => {
          let partition = await openPartition(directory)
          try {
            const history = await appendHistory(partition, 1, 4)
            const end = partition.log.logEndOffset
            const before = stateOf(partition)
            await partition.close()
            if (deleteReal) await deleteSnapshots(directory)
            // What a crash leaves when the log lost its unsynced tail after a snapshot was taken:
            // state describing batches (and an epoch) the log no longer has.
            await writeProducerSnapshot(fs, directory, end + 100, [
              { producerId: 1, epoch: 3, batches: [] },
              { producerId: 77, epoch: 0, batches: [{ firstSequence: 0, lastSequence: 0,
                baseOffset: end + 50, lastOffset: end + 50 }] },
            ], { ongoing: [[77, end + 50]], aborted: [] })
            partition = await openPartition(directory)
            expect(stateOf(partition)).toEqual(before)
            expect(await snapshotFiles(directory)).toHaveLength(deleteReal ? 0 : 1)
            const last = history[3]!
            expect(await partition.produce(encode(last.spec), 'all'))
              .toEqual({ ...last.result, duplicate: true })
            // Epoch 0 is not fenced, and producer 77 is unknown, so it must start at 0.
            const next = last.spec.sequence + last.spec.values.length
            expect((await partition.produce(encode({ producerId: 1, epoch: 0, sequence: next,
              values: ['x'] }), 'all')).baseOffset).toBe(end)
            await expectCode(partition.produce(encode({ producerId: 77, epoch: 0, sequence: 1,
              values: ['y'] }), 'all'), 'OUT_OF_ORDER_SEQUENCE')
          } finally {
            await partition.close()
          }
        })
      })

    it.each<[string, (text: string) => string]>([
      ['a changed offset (valid JSON, wrong checksum)',
        text => text.replace(/"baseOffset":\d+/, '"baseOffset":7777')],
      ['a torn write (first half only)', text => text.slice(0, text.length >> 1)],
      ['bytes that are not JSON', () => 'not a snapshot'],
      ['an empty file', () => ''],
      ['JSON null', () => 'null'],
      ['JSON without producers', () => '{"version":1,"offset":0,"crc":0}'],
    ])('a corrupt snapshot is ignored and the state is rebuilt from the log: %s',
      async (_name, corrupt) => {
        await withTempDir('weir-partition-', async directory => {
          let partition = await openPartition(directory)
          try {
            const history = await appendHistory(partition, 1, 7)
            const end = partition.log.logEndOffset
            const before = stateOf(partition)
            await partition.close()
            const [name] = await snapshotFiles(directory)
            const path = join(directory, name!)
            await writeFile(path, corrupt(await readFile(path, 'utf8')))
            partition = await openPartition(directory)
            expect(stateOf(partition)).toEqual(before)
            for (const { spec, result } of history.slice(-5)) {
              expect(await partition.produce(encode(spec), 'all'))
                .toEqual({ ...result, duplicate: true })
            }
            expect(partition.log.logEndOffset).toBe(end)
          } finally {
            await partition.close()
          }
        })
      })

    it('a snapshot taken while appends are in flight covers them, and the state after it is '
      + 'replayed from the log', async () => {
      await withTempDir('weir-partition-', async directory => {
        let partition = await openPartition(directory)
        try {
          const first = await appendHistory(partition, 1, 3)
          const spec = { producerId: 1, epoch: 0, sequence: 4, values: ['in-flight'] }
          const inFlight = partition.produce(encode(spec), 0)
          await partition.snapshotProducerState()
          const snapshotted = await snapshotFiles(directory)
          expect(snapshotted).toHaveLength(1)
          await inFlight
          // Appended after the snapshot: only the log knows about producer 2.
          const second = await appendHistory(partition, 2, 2)
          const before = stateOf(partition)
          // Closing the log alone takes no new snapshot, as after a crash.
          await partition.log.close()
          expect(await snapshotFiles(directory)).toEqual(snapshotted)
          partition = await openPartition(directory)
          expect(stateOf(partition)).toEqual(before)
          for (const { spec: retry, result } of [...first, ...second]) {
            expect(await partition.produce(encode(retry), 'all'))
              .toEqual({ ...result, duplicate: true })
          }
        } finally {
          await partition.close()
        }
      })
    })
  })

  it('refused batches write nothing: a gap, a retry older than the last 5, an older epoch, a new '
    + 'epoch not at 0, an unknown producer not at 0', async () => {
    await withTempDir('weir-partition-', async directory => {
      const partition = await openPartition(directory)
      try {
        const history = await appendHistory(partition, 1, 6)
        const next = history[5]!.spec.sequence + history[5]!.spec.values.length
        await partition.produce(encode({ producerId: 1, epoch: 1, sequence: 0, values: ['e1'] }),
          'all')
        const end = partition.log.logEndOffset
        const refused: Array<[ProducerBatchSpec, string]> = [
          [{ producerId: 1, epoch: 1, sequence: 2, values: ['gap'] }, 'OUT_OF_ORDER_SEQUENCE'],
          [history[0]!.spec, 'PRODUCER_FENCED'],
          [{ producerId: 1, epoch: 0, sequence: next, values: ['old epoch'] }, 'PRODUCER_FENCED'],
          [{ producerId: 1, epoch: 2, sequence: 1, values: ['new epoch'] },
            'OUT_OF_ORDER_SEQUENCE'],
          [{ producerId: 9, epoch: 0, sequence: 3, values: ['unknown'] }, 'OUT_OF_ORDER_SEQUENCE'],
        ]
        for (const [spec, code] of refused) {
          for (const acks of [0, 1, 'all'] as const) {
            await expectCode(partition.produce(encode(spec), acks), code)
          }
        }
        expect(partition.log.logEndOffset).toBe(end)
        const other = await appendHistory(partition, 2, 7)
        await expectCode(partition.produce(encode(other[1]!.spec), 'all'), 'OUT_OF_ORDER_SEQUENCE')
        expect(partition.log.logEndOffset).toBe(end + 10)
        expect((await storedBatches(partition)).length).toBe(6 + 1 + 7)
      } finally {
        await partition.close()
      }
    })
  })

  it('batches without a producer id are not deduplicated: each send is appended', async () => {
    await withTempDir('weir-partition-', async directory => {
      const partition = await openPartition(directory)
      try {
        const batch = (): Buffer => encodeBatch([{ value: Buffer.from('v') }], { timestamp: 1 })
        expect(await partition.produce(batch(), 'all'))
          .toEqual({ baseOffset: 0, lastOffset: 0, duplicate: false })
        expect(await partition.produce(batch(), 1))
          .toEqual({ baseOffset: 1, lastOffset: 1, duplicate: false })
        expect(partition.producerState.size).toBe(0)
        await expectCode(partition.produce(Buffer.alloc(10), 'all'), 'CORRUPT_MESSAGE')
        expect(partition.log.logEndOffset).toBe(2)
      } finally {
        await partition.close()
      }
    })
  })

  it('once retention has removed the log start, an unknown producer is accepted at any '
    + 'sequence (its state may have gone with the deleted segments)', async () => {
    await withTempDir('weir-partition-', async directory => {
      const config = { ...smallLogConfig, retentionBytes: 0 }
      let partition = await openPartition(directory, config)
      try {
        await appendHistory(partition, 1, 3)
        const unknown = { producerId: 2, epoch: 0, sequence: 10, values: ['late'] }
        await expectCode(partition.produce(encode(unknown), 'all'), 'OUT_OF_ORDER_SEQUENCE')
        await partition.log.roll()
        expect(await partition.log.deleteOldSegments()).toBe(1)
        expect(partition.log.logStartOffset).toBe(4)
        await partition.close()
        await deleteSnapshots(directory)
        partition = await openPartition(directory, config)
        // Producer 1's batches are gone with the segment: it is unknown now, like producer 2.
        expect(partition.producerState.size).toBe(0)
        expect(await partition.produce(encode(unknown), 'all'))
          .toEqual({ baseOffset: 4, lastOffset: 4, duplicate: false })
        expect(await partition.produce(encode(unknown), 'all'))
          .toEqual({ baseOffset: 4, lastOffset: 4, duplicate: true })
        expect(await partition.produce(encode({ producerId: 1, epoch: 0, sequence: 4,
          values: ['back'] }), 'all')).toEqual({ baseOffset: 5, lastOffset: 5, duplicate: false })
      } finally {
        await partition.close()
      }
    })
  })

  it('waitForData resolves when an append completes, and at once when cancelled', async () => {
    await withTempDir('weir-partition-', async directory => {
      const partition = await openPartition(directory)
      try {
        const woken = partition.waitForData()
        let settled = false
        void woken.promise.then(() => { settled = true })
        await partition.log.flush()
        expect(settled).toBe(false)
        await partition.produce(encode({ producerId: 1, epoch: 0, sequence: 0, values: ['a'] }),
          'all')
        await woken.promise
        const cancelled = partition.waitForData()
        cancelled.cancel()
        await cancelled.promise
      } finally {
        await partition.close()
      }
    })
  })
})
