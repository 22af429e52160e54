/**
 * Goal: the transactional producer and the broker's transaction coordinator keep Kafka's promises
 * end to end: atomic visibility under read_committed, the LSO, fencing, offsets committed only
 * with the transaction, server-side checks of transactional writes, CONCURRENT_TRANSACTIONS
 * retried by the client, timeouts, and recovery on restart.
 *
 * Method: the client runs over the transport under test (embedded, or a WeirServer over HTTP in
 * the 'remote' project) and everything it checks is read through that client. The broker behind
 * it (in this process either way) is used only for broker-side work: waiting until markers are
 * written (`transactions.settled()`), rolling and compacting a log, and writing a transaction
 * log record to leave the state a crash would. A restart closes the client (and so the server)
 * and opens a new one on the same directory.
 */
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import { Weir } from '../../src/client/weir.ts'
import type { EmbeddedTransport } from '../../src/client/transport/embedded.ts'
import type { Transport } from '../../src/client/transport/transport.ts'
import { encodeBatch } from '../../src/log/record-batch.ts'
import { TransactionLog, TRANSACTION_STATE_TOPIC } from '../../src/txn/transaction-log.ts'
import { ManualClock } from '../../src/util/clock.ts'
import { immediateScheduler, interceptedTransport, readPartition } from
  '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { openBrokerUnderTest, overKafka } from '../helpers/remote-fixtures.ts'
import { committedValues, manualTicks } from '../helpers/txn-fixtures.ts'

const values = (strings: readonly string[]) => strings.map(value => ({ value }))

/**
 * Runs `run` with a client over the transport under test (`weir.transport` is what the checks
 * read through) and the broker behind it, with topic 'out' of 2 partitions.
 */
async function withBroker(run: (weir: Weir, broker: EmbeddedTransport) => Promise<void>):
Promise<void> {
  await withTempDir('weir-txn-', async dir => {
    const { weir, broker } = await openBrokerUnderTest(dir)
    try {
      await weir.admin().createTopics([{ topic: 'out', partitions: 2 }])
      await run(weir, broker)
    } finally {
      await weir.close()
    }
  })
}

describe('transactions end to end', () => {
  it('a commit makes every record visible to read_committed at once; an abort never does', async () => {
    await withBroker(async (weir, broker) => {
      const transport = weir.transport
      const producer = weir.producer({ transactionalId: 'tx' })
      await producer.initTransactions()
      producer.beginTransaction()
      await producer.send({ topic: 'out', messages: values(['a1', 'a2']).map(m => ({ ...m, partition: 0 })) })
      await producer.send({ topic: 'out', messages: [{ value: 'a3', partition: 1 }] })
      expect(await committedValues(transport, 'out', 0)).toEqual([])
      await producer.commitTransaction()
      await broker.transactions.settled()
      expect(await committedValues(transport, 'out', 0)).toEqual(['a1', 'a2'])
      expect(await committedValues(transport, 'out', 1)).toEqual(['a3'])

      producer.beginTransaction()
      await producer.send({ topic: 'out', messages: [{ value: 'b1', partition: 0 }] })
      await producer.abortTransaction()
      await producer.transaction(async tx => {
        await tx.send({ topic: 'out', messages: [{ value: 'c1', partition: 0 }] })
      })
      await broker.transactions.settled()
      expect(await committedValues(transport, 'out', 0)).toEqual(['a1', 'a2', 'c1'])
      const uncommitted = await readPartition(transport, 'out', 0)
      expect(uncommitted.map(r => r.value?.toString())).toEqual(['a1', 'a2', 'b1', 'c1'])
      expect(await weir.admin().listTransactions()).toMatchObject([
        { transactionalId: 'tx', state: 'CompleteCommit', partitions: [] }])
      await expect(weir.admin().describeTransactions(['nope']))
        .rejects.toMatchObject({ code: 'TRANSACTIONAL_ID_NOT_FOUND' })
    })
  })

  it('an open transaction holds the last stable offset: later records wait for its end', async () => {
    await withBroker(async (weir, broker) => {
      const transport = weir.transport
      const producer = weir.producer({ transactionalId: 'tx' })
      await producer.initTransactions()
      producer.beginTransaction()
      await producer.send({ topic: 'out', messages: [{ value: 'open', partition: 0 }] })
      const plain = weir.producer()
      await plain.send({ topic: 'out', messages: [{ value: 'plain', partition: 0 }] })
      expect(await committedValues(transport, 'out', 0)).toEqual([])
      const [stable] = await transport.listOffsets([{ topic: 'out', partition: 0, spec: 'latest',
        isolationLevel: 'read_committed' }])
      const [end] = await transport.listOffsets([{ topic: 'out', partition: 0, spec: 'latest' }])
      expect(stable!.offset).toBe(0)
      expect(end!.offset).toBe(2)
      await producer.commitTransaction()
      await broker.transactions.settled()
      expect(await committedValues(transport, 'out', 0)).toEqual(['open', 'plain'])
    })
  })

  it('initTransactions fences the older instance and aborts what it left open', async () => {
    await withBroker(async (weir, broker) => {
      const transport = weir.transport
      const zombie = weir.producer({ transactionalId: 'tx' })
      await zombie.initTransactions()
      zombie.beginTransaction()
      await zombie.send({ topic: 'out', messages: [{ value: 'zombie', partition: 0 }] })
      const fresh = weir.producer({ transactionalId: 'tx' })
      await fresh.initTransactions() // retries CONCURRENT_TRANSACTIONS while the abort completes
      await expect(zombie.send({ topic: 'out', messages: [{ value: 'late', partition: 0 }] }))
        .rejects.toMatchObject({ code: 'PRODUCER_FENCED' })
      await expect(zombie.commitTransaction()).rejects.toMatchObject({ code: 'PRODUCER_FENCED' })
      expect(() => zombie.beginTransaction()).toThrow(/fenced/)
      await fresh.transaction(async tx => {
        await tx.send({ topic: 'out', messages: [{ value: 'fresh', partition: 0 }] })
      })
      await broker.transactions.settled()
      expect(await committedValues(transport, 'out', 0)).toEqual(['fresh'])
    })
  })

  it('offsets sent to a transaction become the group\'s only when it commits', async () => {
    await withBroker(async (weir, broker) => {
      const transport = weir.transport
      const producer = weir.producer({ transactionalId: 'tx' })
      await producer.initTransactions()
      const group = { groupId: 'copier' }
      const committed = async () => (await transport.fetchOffsets({ groupId: 'copier' }))
        .map(entry => `${entry.topic}/${entry.partition}@${entry.offset}`)
      await producer.transaction(async tx => {
        await tx.send({ topic: 'out', messages: [{ value: 'x', partition: 0 }] })
        await tx.sendOffsets([{ topic: 'out', partition: 1, offset: 5 }], group)
        expect(await committed()).toEqual([])
        await expect(transport.fetchOffsets({ groupId: 'copier', requireStable: true }))
          .rejects.toMatchObject({ code: 'UNSTABLE_OFFSET_COMMIT' })
      })
      await broker.transactions.settled()
      expect(await committed()).toEqual(['out/1@5'])

      producer.beginTransaction()
      await producer.sendOffsetsToTransaction([{ topic: 'out', partition: 1, offset: 9 }], group)
      await producer.abortTransaction()
      await broker.transactions.settled()
      expect(await committed()).toEqual(['out/1@5'])
      expect(await transport.fetchOffsets({ groupId: 'copier', requireStable: true }))
        .toHaveLength(1)
    })
  })

  it('the broker refuses transactional writes outside the transaction (KIP-890 part 1)', async () => {
    await withBroker(async (weir, broker) => {
      const transport = weir.transport
      const producer = weir.producer({ transactionalId: 'tx' })
      await producer.initTransactions()
      const { producerId, producerEpoch } = (await transport.describeTransactions(['tx']))[0]!
      const batch = (transactional: boolean) => encodeBatch([{ key: null, value: Buffer.from('v') }],
        { timestamp: 0, producerId, producerEpoch, baseSequence: 0, transactional })
      // No transaction is open: a transactional batch has no partition to belong to.
      await expect(transport.produce({ topic: 'out', partition: 0, batch: batch(true),
        acks: 'all' })).rejects.toMatchObject({ code: 'INVALID_TXN_STATE' })
      producer.beginTransaction()
      await producer.send({ topic: 'out', messages: [{ value: 'in', partition: 0 }] })
      // Partition 1 was never added to the transaction.
      await expect(transport.produce({ topic: 'out', partition: 1, batch: batch(true),
        acks: 'all' })).rejects.toMatchObject({ code: 'INVALID_TXN_STATE' })
      // A transactional producer's id may not write outside its transaction.
      await expect(transport.produce({ topic: 'out', partition: 0, batch: batch(false),
        acks: 'all' })).rejects.toMatchObject({ code: 'INVALID_TXN_STATE' })
      await producer.commitTransaction()
      await broker.transactions.settled()
      expect(await committedValues(transport, 'out', 1)).toEqual([])
      expect(await committedValues(transport, 'out', 0)).toEqual(['in'])
    })
  })

  it('CONCURRENT_TRANSACTIONS is retried by the producer on every coordinator request', async () => {
    await withBroker(async (client, broker) => {
      const inner = client.transport
      const calls: Record<string, number> = {}
      const busyTwice = <T>(name: string, next: () => Promise<T>): Promise<T> => {
        calls[name] = (calls[name] ?? 0) + 1
        if (calls[name] <= 2) {
          return Promise.reject(new WeirError('CONCURRENT_TRANSACTIONS', 'completing'))
        }
        return next()
      }
      const transport: Transport = interceptedTransport(inner, {
        initProducerId: (next, request) => busyTwice('init', () => next(request)),
        addPartitionsToTxn: (next, request) => busyTwice('partitions', () => next(request)),
        addOffsetsToTxn: (next, request) => busyTwice('offsets', () => next(request)),
        txnOffsetCommit: (next, request) => busyTwice('commitOffsets', () => next(request)),
        endTxn: (next, request) => busyTwice('end', () => next(request)),
      })
      const weir = new Weir(transport, undefined, immediateScheduler)
      const producer = weir.producer({ transactionalId: 'tx' })
      await producer.initTransactions()
      await producer.transaction(async tx => {
        await tx.send({ topic: 'out', messages: [{ value: 'v', partition: 0 }] })
        await tx.sendOffsets([{ topic: 'out', partition: 0, offset: 1 }], { groupId: 'g' })
      })
      expect(calls).toEqual({ init: 3, partitions: 3, offsets: 3, commitOffsets: 3, end: 3 })
      await broker.transactions.settled()
      expect(await committedValues(inner, 'out', 0)).toEqual(['v'])
    })
  })
})

describe('adding partitions', () => {
  it('partitions asked for while AddPartitionsToTxn is retrying join that request', async () => {
    await withBroker(async (client, broker) => {
      const inner = client.transport
      const accepted: string[][] = []
      let busy = 1
      const transport: Transport = interceptedTransport(inner, {
        addPartitionsToTxn: async (next, request) => {
          if (busy-- > 0) throw new WeirError('CONCURRENT_TRANSACTIONS', 'completing')
          await next(request)
          accepted.push(request.partitions.map(tp => `${tp.topic}/${tp.partition}`))
        },
      })
      const weir = new Weir(transport, undefined, immediateScheduler)
      const producer = weir.producer({ transactionalId: 'tx' })
      await producer.initTransactions()
      await producer.transaction(async tx => {
        await Promise.all([0, 1].map(partition =>
          tx.send({ topic: 'out', messages: [{ value: `v${partition}`, partition }] })))
      })
      expect(accepted).toEqual([['out/0', 'out/1']])
    })
  })
})

describe('transactions and the log cleaner', () => {
  it('compaction drops aborted data, keeps committed data and never cleans an open transaction', async () => {
    await withBroker(async (weir, broker) => {
      const transport = weir.transport
      await weir.admin().createTopics([{ topic: 'table', partitions: 1,
        config: { cleanupPolicy: 'compact' } }])
      const producer = (id: string) => weir.producer({ transactionalId: id })
      const write = async (id: string, key: string, value: string, commit: boolean | 'open') => {
        const p = producer(id)
        await p.initTransactions()
        p.beginTransaction()
        await p.send({ topic: 'table', messages: [{ key, value }] })
        if (commit === 'open') return p
        if (commit) await p.commitTransaction()
        else await p.abortTransaction()
        await broker.transactions.settled()
        return p
      }
      const log = broker.broker.partition('table', 0).log
      await write('a', 'k1', 'a', true)
      await write('b', 'k1', 'b', false)
      await log.roll() // the cleaner works on whole segments: this one holds no open transaction
      const open = await write('c', 'k2', 'c', 'open')
      await weir.producer().send({ topic: 'table', messages: [{ key: 'k1', value: 'd' }] })
      const compact = async () => {
        await log.roll()
        await log.compact()
      }
      const everything = async () => (await readPartition(transport, 'table', 0))
        .map(r => r.value?.toString())
      await compact()
      // 'b' was aborted: gone. 'a' lies before the open transaction and 'd' (which replaces it)
      // after it: the cleaner stops at the open transaction, so 'a' stays.
      expect(await everything()).toEqual(['a', 'c', 'd'])
      expect(await committedValues(transport, 'table', 0)).toEqual(['a'])
      await open.commitTransaction()
      await broker.transactions.settled()
      await compact()
      expect(await everything()).toEqual(['c', 'd'])
      expect(await committedValues(transport, 'table', 0)).toEqual(['c', 'd'])
    })
  })
})

describe('transaction timeouts and recovery', () => {
  // Kafka (transaction version 1) fences a producer whose transaction timed out: over
  // Weir.kafka it cannot carry on, as with any Kafka client.
  it.skipIf(overKafka)('the broker aborts a transaction past its timeout; the producer learns '
    + 'it and carries on', async () => {
    await withTempDir('weir-txn-', async dir => {
      const clock = new ManualClock(Date.now())
      const scheduler = manualTicks()
      const { weir, broker } = await openBrokerUnderTest(dir, { clock, scheduler })
      const transport = weir.transport
      try {
        await weir.admin().createTopics([{ topic: 'out', partitions: 1 }])
        const producer = weir.producer({ transactionalId: 'tx', transactionTimeoutMs: 1000 })
        await producer.initTransactions()
        producer.beginTransaction()
        await producer.send({ topic: 'out', messages: [{ value: 'slow', partition: 0 }] })
        clock.advance(1001)
        scheduler.tick()
        await new Promise(resolve => setImmediate(resolve))
        await broker.transactions.settled()
        expect((await transport.describeTransactions(['tx']))[0]!.state).toBe('CompleteAbort')
        await expect(producer.send({ topic: 'out', messages: [{ value: 'late', partition: 0 }] }))
          .rejects.toMatchObject({ code: 'TRANSACTION_TIMED_OUT' })
        await expect(producer.commitTransaction())
          .rejects.toMatchObject({ code: 'WEIR_ERR_TRANSACTION_ABORTABLE' })
        await producer.abortTransaction()
        await producer.transaction(async tx => {
          await tx.send({ topic: 'out', messages: [{ value: 'next', partition: 0 }] })
        })
        await broker.transactions.settled()
        expect(await committedValues(transport, 'out', 0)).toEqual(['next'])
      } finally {
        await weir.close()
      }
    })
  })

  it('on open, a prepared transaction is completed and an ongoing one aborted or kept as configured', async () => {
    await withTempDir('weir-txn-', async dir => {
      const { weir, broker } = await openBrokerUnderTest(dir)
      await weir.admin().createTopics([{ topic: 'out', partitions: 1 }])
      const prepared = weir.producer({ transactionalId: 'prepared' })
      const ongoing = weir.producer({ transactionalId: 'ongoing' })
      for (const [producer, value] of [[prepared, 'p'], [ongoing, 'o']] as const) {
        await producer.initTransactions()
        producer.beginTransaction()
        await producer.send({ topic: 'out', messages: [{ value, partition: 0 }] })
        await producer.flush()
      }
      // What a crash right after the commit decision leaves: PrepareCommit durable, no marker.
      const [state] = broker.transactions.describeTransactions(['prepared'])
      const txnLog = new TransactionLog(broker.broker.partitionsOf(TRANSACTION_STATE_TOPIC)
        .map(partition => partition.log))
      await txnLog.write({ transactionalId: 'prepared', producerId: state!.producerId,
        producerEpoch: state!.producerEpoch + 1, lastProducerId: state!.producerId,
        lastProducerEpoch: state!.producerEpoch, timeoutMs: state!.timeoutMs,
        state: 'PrepareCommit', partitions: state!.partitions, startedAtMs: state!.startedAtMs,
        updatedAtMs: Date.now(), timedOut: false })
      // The broker goes away under the producers, which end nothing.
      await weir.transport.close()

      // 'timeout' (the default): the ongoing transaction stays open and holds the LSO.
      const kept = await openBrokerUnderTest(dir)
      try {
        await kept.broker.transactions.settled()
        const describe = async (id: string) =>
          (await kept.weir.transport.describeTransactions([id]))[0]!.state
        expect(await describe('prepared')).toBe('CompleteCommit')
        expect(await describe('ongoing')).toBe('Ongoing')
        expect(await committedValues(kept.weir.transport, 'out', 0)).toEqual(['p'])
      } finally {
        await kept.weir.close()
      }

      const aborted = await openBrokerUnderTest(dir, { transactions: { recoveredOngoing: 'abort' } })
      try {
        await aborted.broker.transactions.settled()
        expect((await aborted.weir.transport.describeTransactions(['ongoing']))[0]!.state)
          .toBe('CompleteAbort')
        const [end] = await aborted.weir.transport.listOffsets([{ topic: 'out', partition: 0,
          spec: 'latest', isolationLevel: 'read_committed' }])
        expect(end!.offset).toBe(4) // p, o, commit marker, abort marker
        expect(await committedValues(aborted.weir.transport, 'out', 0)).toEqual(['p'])
      } finally {
        await aborted.weir.close()
      }
    })
  })
})
