/**
 * Goal: once a transaction's group offsets can be read as stable, every record it wrote is
 * decided (below the last stable offset). A streams task that takes over a partition reads the
 * stable offsets, then restores its changelog up to the last stable offset; if the offsets came
 * first it would resume past state it never restored. Method: slow down the markers of data
 * partitions and watch what a new owner would see the moment the offsets are stable.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, test } from 'vitest'
import { EmbeddedTransport, Weir, WeirError } from '../../src/index.ts'

test('the offsets marker is written after the data markers: stable offsets imply decided records',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-marker-order-'))
    const weir = await Weir.open({ dir })
    try {
      const broker = (weir.transport as EmbeddedTransport).broker
      const writeTxnMarker = broker.writeTxnMarker.bind(broker)
      broker.writeTxnMarker = async (topic, partition, marker) => {
        await sleep(200)
        return writeTxnMarker(topic, partition, marker)
      }
      await weir.admin().createTopics([{ topic: 'in' }, { topic: 'changelog' }])
      const producer = weir.producer({ transactionalId: 'task-0' })
      await producer.initTransactions()
      producer.beginTransaction()
      const [written] = await producer.send({ topic: 'changelog', messages: [{ key: 'k', value: 'v' }] })
      await producer.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 7 }],
        { groupId: 'app' })
      await producer.commitTransaction()
      for (;;) {
        try {
          const [committed] = await weir.transport.fetchOffsets({ groupId: 'app',
            partitions: [{ topic: 'in', partition: 0 }], requireStable: true })
          if (committed!.offset === 7) break
        } catch (error) {
          if (!WeirError.is(error, 'UNSTABLE_OFFSET_COMMIT')) throw error
        }
        await sleep(5)
      }
      const [end] = await weir.transport.listOffsets([{ topic: 'changelog', partition: 0,
        spec: 'latest', isolationLevel: 'read_committed' }])
      expect(end!.offset).toBeGreaterThan(written!.offset)
      await producer.close()
    } finally {
      await weir.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
