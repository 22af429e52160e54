/** Producer.addPartitionsToTransaction: partitions join the transaction before any send. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { Weir, WeirError } from '../../src/index.ts'

test('partitions added before any send are part of the transaction, in one request', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-add-partitions-'))
  const weir = await Weir.open({ dir })
  try {
    await weir.admin().createTopics([{ topic: 'a', partitions: 2 }, { topic: 'b' }])
    let requests = 0
    const addPartitionsToTxn = weir.transport.addPartitionsToTxn.bind(weir.transport)
    weir.transport.addPartitionsToTxn = request => {
      requests++
      return addPartitionsToTxn(request)
    }
    const producer = weir.producer({ transactionalId: 'early' })
    await producer.initTransactions()
    await expect(producer.addPartitionsToTransaction([{ topic: 'a', partition: 0 }])).rejects
      .toSatisfy(error => WeirError.is(error, 'INVALID_TXN_STATE'))
    producer.beginTransaction()
    await producer.addPartitionsToTransaction([{ topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 }, { topic: 'b', partition: 0 }])
    expect(requests).toBe(1)
    const [described] = await weir.admin().describeTransactions(['early'])
    expect(described!.state).toBe('Ongoing')
    expect(described!.partitions.map(p => `${p.topic}/${p.partition}`).sort())
      .toEqual(['a/0', 'a/1', 'b/0'])
    await producer.send({ topic: 'b', messages: [{ value: 'x' }] })
    expect(requests).toBe(1) // already added: the send does not ask again
    await producer.commitTransaction()
    await producer.close()
  } finally {
    await weir.close()
    await rm(dir, { recursive: true, force: true })
  }
})

test('a commit waits for an addition still in flight: the producer is not fenced by its own '
  + 'late AddPartitionsToTxn, and no transaction is left open', async () => {
  // Found by the test kit: a stream thread adds changelog partitions without awaiting; a
  // commit with only offsets sent EndTxn first, moved the epoch, and the late addition was
  // refused as fenced, which stopped the app.
  const dir = await mkdtemp(join(tmpdir(), 'weir-add-partitions-'))
  const weir = await Weir.open({ dir })
  try {
    await weir.admin().createTopics([{ topic: 'in' }, { topic: 'changelog' }])
    const addPartitionsToTxn = weir.transport.addPartitionsToTxn.bind(weir.transport)
    weir.transport.addPartitionsToTxn = async request => {
      await new Promise(resolve => setTimeout(resolve, 50))
      return addPartitionsToTxn(request)
    }
    const producer = weir.producer({ transactionalId: 'late-add' })
    await producer.initTransactions()
    producer.beginTransaction()
    const added = producer.addPartitionsToTransaction([{ topic: 'changelog', partition: 0 }])
    await producer.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 1 }],
      { groupId: 'late-add-group' })
    await producer.commitTransaction()
    await added
    producer.beginTransaction()
    await producer.send({ topic: 'changelog', messages: [{ value: 'next' }] })
    await producer.commitTransaction()
    const [described] = await weir.admin().describeTransactions(['late-add'])
    expect(described!.state).not.toBe('Ongoing')
    await producer.close()
  } finally {
    await weir.close()
    await rm(dir, { recursive: true, force: true })
  }
})
