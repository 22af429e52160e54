/**
 * Goal (issue 8): the money-transfer saga (topologies/transfer-saga.ts) over the account
 * aggregate (topologies/accounts.ts), by examples; transfer-saga-crash.test.ts checks it under
 * crashes. A transfer that completes, one that fails for insufficient funds, one compensated
 * because its target is closed, balances read with AggregateClient.load; a debit answered after
 * the deadline (stream time) is refunded, not credited; a credit answered after the deadline is
 * not refunded (the credit is held back by an open transaction on its requests partition); an
 * ended transfer's entry ignores repeats until its retention has passed, then is deleted.
 * Method: the apps on an embedded broker (topology-runner.ts), outcomes read read_committed.
 */
import { describe, expect, it } from 'vitest'
import { AggregateClient, aggregateTopology } from '../../src/index.ts'
import { accounts } from '../../topologies/accounts.ts'
import {
  accountRequestsTopic, type TransferSaga, transferSaga, transferSagasStore, transferSagaTopics,
  transfersTopic,
} from '../../topologies/transfer-saga.ts'
import { harness } from '../helpers/topology-runner.ts'
import { waitFor } from '../helpers/topologies-fixtures.ts'
import { committedOutcomes, transferRecord } from './transfer-saga-reads.ts'

const PARTITIONS = 2

describe('the transfer saga', () => {
  it('completes a transfer, fails one for insufficient funds, compensates one to a closed '
    + 'account', async () => {
    const h = await harness(transferSagaTopics(PARTITIONS))
    const client = await AggregateClient.open(h.weir, accounts())
    try {
      await h.start(aggregateTopology(accounts()))
      await client.execute('alice', { type: 'deposit', amount: 100 })
      await client.execute('bob', { type: 'deposit', amount: 50 })
      await client.execute('carol', { type: 'deposit', amount: 10 })
      await client.execute('carol', { type: 'close' })
      await h.start(transferSaga())
      await h.produce(transfersTopic, [
        transferRecord({ transferId: 't1', from: 'alice', to: 'bob', amount: 30 }),
        transferRecord({ transferId: 't2', from: 'bob', to: 'alice', amount: 500 }),
        transferRecord({ transferId: 't3', from: 'alice', to: 'carol', amount: 20 }),
        transferRecord({ transferId: 't1', from: 'alice', to: 'bob', amount: 30 })])
      const outcomes = await waitFor(() => committedOutcomes(h.weir, PARTITIONS),
        found => found.length >= 3)
      expect(outcomes.sort((a, b) => a.transferId.localeCompare(b.transferId))).toEqual([
        { transferId: 't1', from: 'alice', to: 'bob', amount: 30, outcome: 'completed' },
        { transferId: 't2', from: 'bob', to: 'alice', amount: 500, outcome: 'failed',
          reason: 'insufficient-funds' },
        { transferId: 't3', from: 'alice', to: 'carol', amount: 20, outcome: 'compensated',
          reason: 'account-closed' }])
      expect(await client.load('alice')).toMatchObject({ state: { balance: 70, closed: false } })
      expect(await client.load('bob')).toMatchObject({ state: { balance: 80, closed: false } })
      expect(await client.load('carol')).toMatchObject({ state: { balance: 10, closed: true } })
      // alice: deposit, t1 debit, t3 debit, t3 refund.
      expect((await client.load('alice')).version).toBe(4)
    } finally {
      await client.close()
      await h.close()
    }
  }, 60_000)

  it('refunds a debit answered after the deadline (stream time) instead of crediting it',
    async () => {
      const h = await harness(transferSagaTopics(1))
      const client = await AggregateClient.open(h.weir, accounts())
      try {
        const writer = await h.start(aggregateTopology(accounts()))
        await client.execute('alice', { type: 'deposit', amount: 100 })
        await client.execute('bob', { type: 'deposit', amount: 100 })
        await writer.close()
        const saga = await h.start(transferSaga({ timeoutMs: 1000 }))
        // The writer is down: both debits wait; t-tick moves stream time past t-late's deadline.
        // (Ahead of the clock: the replies to the deposits above count for stream time too.)
        const at = Date.now() + 60_000
        await h.produce(transfersTopic, [
          transferRecord({ transferId: 't-late', from: 'alice', to: 'bob', amount: 10 }, at),
          transferRecord({ transferId: 't-tick', from: 'bob', to: 'alice', amount: 5 },
            at + 1500)])
        await saga.caughtUp()
        await h.start(aggregateTopology(accounts()))
        const outcomes = await waitFor(() => committedOutcomes(h.weir, 1),
          found => found.length >= 2)
        expect(outcomes.map(o => [o.transferId, o.outcome, o.reason])).toEqual([
          ['t-late', 'compensated', 'timed-out'], ['t-tick', 'completed', undefined]])
        expect((await client.load('alice')).state.balance).toBe(105)
        expect((await client.load('bob')).state.balance).toBe(95)
      } finally {
        await client.close()
        await h.close()
      }
    }, 60_000)

  it('completes a transfer whose credit is answered after the deadline: a sent credit is never '
    + 'refunded', async () => {
    // Keys chosen by partition (2 partitions): alice → 1; bob, t-late and t-tick → 0.
    const h = await harness(transferSagaTopics(2))
    const client = await AggregateClient.open(h.weir, accounts())
    const blocker = h.weir.producer({ transactionalId: 'credit-blocker' })
    try {
      await h.start(aggregateTopology(accounts()))
      await client.execute('alice', { type: 'deposit', amount: 100 })
      await client.execute('bob', { type: 'deposit', amount: 100 })
      const saga = await h.start(transferSaga({ timeoutMs: 1000 }))
      // An open transaction on bob's requests partition holds the credit back from the
      // read_committed writer (the last stable offset stops before it); the debit, on alice's
      // partition, goes through at once.
      await blocker.initTransactions()
      blocker.beginTransaction()
      await blocker.send({ topic: accountRequestsTopic, messages: [{ key: 'bob', partition: 0,
        value: JSON.stringify({ requestId: 'held', expectedVersion: 'any',
          body: { kind: 'command', command: { type: 'deposit', amount: 1 } } }) }] })
      const at = Date.now() + 60_000
      await h.produce(transfersTopic, [
        transferRecord({ transferId: 't-late', from: 'alice', to: 'bob', amount: 10 }, at)])
      const sagas = saga.query<TransferSaga>(transferSagasStore)
      await waitFor(() => sagas.get('t-late'), found => found?.status === 'crediting')
      expect((await sagas.get('t-late'))?.status).toBe('crediting')
      // Stream time passes the deadline while the credit is in flight.
      await h.produce(transfersTopic, [
        transferRecord({ transferId: 't-tick', from: 'bob', to: 'bob', amount: 1 }, at + 1500)])
      await saga.caughtUp()
      await blocker.abortTransaction()
      const outcomes = await waitFor(() => committedOutcomes(h.weir, 2),
        found => found.length >= 2)
      expect(outcomes.map(o => [o.transferId, o.outcome, o.reason ?? null]).sort()).toEqual([
        ['t-late', 'completed', null], ['t-tick', 'failed', 'invalid-transfer']])
      expect((await client.load('alice')).state.balance).toBe(90)
      expect((await client.load('bob')).state.balance).toBe(110)
    } finally {
      await blocker.close()
      await client.close()
      await h.close()
    }
  }, 60_000)

  it('ignores a repeated transfer while its ended entry is kept, and forgets the entry '
    + 'retentionMs of stream time after the transfer ended', async () => {
    const h = await harness(transferSagaTopics(1))
    const client = await AggregateClient.open(h.weir, accounts())
    try {
      await h.start(aggregateTopology(accounts()))
      await client.execute('alice', { type: 'deposit', amount: 100 })
      const saga = await h.start(transferSaga({ retentionMs: 10_000 }))
      const sagas = saga.query<TransferSaga>(transferSagasStore)
      const t1 = { transferId: 't1', from: 'alice', to: 'bob', amount: 10 }
      const at = Date.now() + 60_000
      await h.produce(transfersTopic, [transferRecord(t1, at)])
      await waitFor(() => sagas.get('t1'), found => found?.status === 'completed')
      expect((await sagas.get('t1'))?.endedAtMs).toBeGreaterThanOrEqual(at)
      // Within the retention: a repeat changes nothing; the tick moves stream time to at + 9 s.
      await h.produce(transfersTopic, [transferRecord(t1, at + 5_000),
        transferRecord({ transferId: 'tick-1', from: 'x', to: 'x', amount: 1 }, at + 9_000)])
      await saga.caughtUp()
      expect((await sagas.get('t1'))?.status).toBe('completed')
      // Past it: the sweep deletes the entry, and the next repeat is a new transfer.
      await h.produce(transfersTopic, [
        transferRecord({ transferId: 'tick-2', from: 'x', to: 'x', amount: 1 }, at + 20_000)])
      await waitFor(() => sagas.get('t1'), found => found === undefined)
      expect(await sagas.get('t1')).toBeUndefined()
      await h.produce(transfersTopic, [transferRecord(t1, at + 21_000)])
      const outcomes = await waitFor(() => committedOutcomes(h.weir, 1),
        found => found.filter(o => o.transferId === 't1').length >= 2)
      expect(outcomes.filter(o => o.transferId === 't1').map(o => o.outcome))
        .toEqual(['completed', 'completed'])
      // The saga ran t1 again, but with the same request ids: the account writer still had them
      // among its recent requests and answered without moving the money twice.
      expect((await client.load('alice')).state.balance).toBe(90)
      expect((await client.load('alice')).version).toBe(2)
    } finally {
      await client.close()
      await h.close()
    }
  }, 60_000)
})
