/**
 * Exactly-once copy on an embedded broker: a consumer reads `orders` (read_committed), and each
 * batch is copied to `orders-copy` in one transaction together with the consumed offsets. A
 * transaction that throws is aborted: its records are never seen by a read_committed reader and
 * its offsets are not committed, so the batch is copied again by the next attempt.
 * Run: npx tsx examples/transactions.ts [dir]
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Weir } from '../src/index.ts'

const dir = process.argv[2] ?? await mkdtemp(join(tmpdir(), 'weir-example-'))
const weir = await Weir.open({ dir })
try {
  await weir.admin().createTopics([{ topic: 'orders', partitions: 1 },
    { topic: 'orders-copy', partitions: 1 }])
  await weir.producer().send({ topic: 'orders', messages: ['o1', 'o2', 'o3']
    .map(id => ({ key: id, value: JSON.stringify({ id }) })) })

  const producer = weir.producer({ transactionalId: 'orders-copier' })
  await producer.initTransactions() // fences older instances, ends what they left open
  const consumer = weir.consumer({ groupId: 'copier', autoCommit: false,
    autoOffsetReset: 'earliest' })
  consumer.subscribe({ topics: ['orders'] })
  let copied = 0
  let failOnce = true
  for await (const batch of consumer) {
    try {
      await producer.transaction(async tx => {
        await tx.send({ topic: 'orders-copy',
          messages: batch.records.map(r => ({ key: r.key, value: r.value })) })
        if (failOnce) {
          failOnce = false
          throw new Error('simulated failure after sending')
        }
        await tx.sendOffsets([{ topic: batch.topic, partition: batch.partition,
          offset: batch.nextOffset }], consumer.groupMetadata())
      })
      copied += batch.records.length
      console.log(`committed ${batch.records.length} records, input offset ${batch.nextOffset}`)
    } catch (error) {
      console.log(`aborted: ${(error as Error).message}; reading the batch again`)
      consumer.seek({ topic: batch.topic, partition: batch.partition,
        offset: batch.records[0]!.offset })
    }
    if (copied >= 3) break
  }
  await consumer.close()

  const reader = weir.consumer({ groupId: 'reader', autoOffsetReset: 'earliest' })
  reader.subscribe({ topics: ['orders-copy'] })
  for await (const batch of reader) {
    for (const record of batch.records) console.log(`copy: ${record.value?.toString()}`)
    break
  }
  // requireStable: wait for the commit marker of the last transaction's offsets
  const [offset] = await weir.admin().fetchOffsets('copier', undefined, { requireStable: true })
  console.log(`copier committed offset: ${offset?.offset}`)
} finally {
  await weir.close()
}
