/**
 * Goal (issue 8): the money-transfer saga (topologies/transfer-saga.ts) over the account
 * aggregate (topologies/accounts.ts) moves money exactly once, even when its app and the
 * account writer's app crash at any processing step.
 *
 * Property: with crashes injected at any step of the saga and of the account writer, total
 * money is conserved, every transfer ends completed, failed or compensated exactly once, and no
 * command is applied twice. Checked on what read_committed readers see: the sum of all account
 * events equals the initial deposits; each account's stream has versions 1..n and no request
 * id on two events; no balance ever goes below 0; `transfer-outcomes` holds each transfer id
 * once; a completed transfer withdrew exactly `amount` from `from` and deposited it on `to`, a
 * failed one moved nothing, a compensated one withdrew and refunded `amount` on `from` only.
 * Examples: a transfer that completes, one that fails for insufficient funds, one compensated
 * because its target is closed, balances read with AggregateClient.load; a debit answered after
 * the deadline (stream time) is refunded, not credited; a credit answered after the deadline is
 * not refunded (the credit is held back by an open transaction on its requests partition); an
 * ended transfer's entry ignores repeats until its retention has passed, then is deleted.
 *
 * Method: both apps run on an embedded broker; the property drives them with
 * apps-through-crashes.ts (each app its own crash schedule, state lost at some crashes,
 * restarts with the same instanceId) and counts the crashes that really happened, failing if
 * there were none. Replay a failure with WEIR_SEED=<seed> WEIR_PATH=<path>.
 */
import { fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  AggregateClient, aggregateAppId, aggregateTopology, eventsTopic, type StoredEvent, type Weir,
} from '../../src/index.ts'
import {
  type AccountEvent, accounts, accountType, balanceChange,
} from '../../topologies/accounts.ts'
import {
  accountRepliesTopic, accountRequestsTopic, type TransferOutcome, transferOutcomesTopic,
  type TransferRequested, type TransferSaga, transferSaga, transferSagasStore,
  transferSagaTopics, transfersTopic,
} from '../../topologies/transfer-saga.ts'
import { runAppsThroughCrashes } from '../helpers/apps-through-crashes.ts'
import {
  chunked, type CrashPoint, crashPointArbitrary, PARTITIONS as CRASH_PARTITIONS,
  propertyParameters, propertyTimeoutMs, withWorld,
} from '../helpers/streams-fixtures.ts'
import { harness } from '../helpers/topology-runner.ts'
import { waitFor } from '../helpers/topologies-fixtures.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

const PARTITIONS = 2

async function committedOutcomes(weir: Weir, partitions: number): Promise<TransferOutcome[]> {
  const outcomes: TransferOutcome[] = []
  for (let partition = 0; partition < partitions; partition++) {
    for (const record of await readCommitted(weir.transport, transferOutcomesTopic, partition)) {
      outcomes.push(JSON.parse(record.value!.toString()) as TransferOutcome)
    }
  }
  return outcomes
}

/** Every account's committed events, in stream order. */
async function committedEvents(weir: Weir, partitions: number):
Promise<Map<string, Array<StoredEvent<AccountEvent>>>> {
  const byAccount = new Map<string, Array<StoredEvent<AccountEvent>>>()
  for (let partition = 0; partition < partitions; partition++) {
    for (const record of await readCommitted(weir.transport, eventsTopic(accountType),
      partition)) {
      const id = record.key!.toString()
      byAccount.set(id, [...byAccount.get(id) ?? [],
        JSON.parse(record.value!.toString()) as StoredEvent<AccountEvent>])
    }
  }
  return byAccount
}

const transferRecord = (transfer: TransferRequested, timestamp?: number) => ({
  key: transfer.transferId, value: JSON.stringify(transfer),
  ...(timestamp === undefined ? {} : { timestamp }) })

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

const OPEN_ACCOUNTS = ['a', 'b', 'c', 'd']
/** Gets 20 at first, then is closed: transfers to it are compensated. */
const CLOSED_ACCOUNT = 'z'

interface Scenario {
  readonly initial: readonly number[]
  readonly transfers: TransferRequested[]
  /** The transfer records in the order produced: some requested twice. */
  readonly records: TransferRequested[]
}

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  initial: fc.array(fc.integer({ min: 0, max: 150 }), { minLength: OPEN_ACCOUNTS.length,
    maxLength: OPEN_ACCOUNTS.length }),
  moves: fc.array(fc.record({
    from: fc.constantFrom(...OPEN_ACCOUNTS, ...OPEN_ACCOUNTS, CLOSED_ACCOUNT),
    to: fc.constantFrom(...OPEN_ACCOUNTS, ...OPEN_ACCOUNTS, CLOSED_ACCOUNT),
    amount: fc.integer({ min: 1, max: 60 }),
    repeated: fc.boolean() }), { minLength: 4, maxLength: 20 }),
}).map(({ initial, moves }) => {
  const transfers = moves.map(({ from, to, amount }, i) => ({ transferId: `t${i}`, from, to,
    amount }))
  return { initial, transfers, records: [...transfers,
    ...transfers.filter((_, i) => moves[i]!.repeated)] }
})

/** Requests that open the accounts, produced before the apps start (no replies). */
function setupRequests(initial: readonly number[]): Array<{ key: string, value: string }> {
  const request = (account: string, step: string, command: unknown) => ({ key: account,
    value: JSON.stringify({ requestId: `init:${account}:${step}`, expectedVersion: 'any',
      body: { kind: 'command', command } }) })
  return [...initial.flatMap((amount, i) => amount === 0 ? []
    : [request(OPEN_ACCOUNTS[i]!, 'deposit', { type: 'deposit', amount })]),
  request(CLOSED_ACCOUNT, 'deposit', { type: 'deposit', amount: 20 }),
  request(CLOSED_ACCOUNT, 'close', { type: 'close' })]
}

/** What each transfer outcome must have moved: [account, balance change] pairs, sorted. */
function expectedMoves(transfer: TransferRequested, outcome: TransferOutcome['outcome']):
string[] {
  const { from, to, amount } = transfer
  const moves = outcome === 'completed' ? [[from, -amount], [to, amount]]
    : outcome === 'compensated' ? [[from, -amount], [from, amount]] : []
  return moves.map(move => JSON.stringify(move)).sort()
}

/** Everything wrong with what the read_committed readers see; empty when all is right. */
function problems(scenario: Scenario, events: Map<string, Array<StoredEvent<AccountEvent>>>,
  outcomes: readonly TransferOutcome[]): string[] {
  const found: string[] = []
  const initialTotal = scenario.initial.reduce((a, b) => a + b, 20)
  let total = 0
  const requestIds = new Set<string>()
  const moved = new Map<string, string[]>()
  for (const [account, stream] of events) {
    let balance = 0
    stream.forEach(({ version, event, requestId }, i) => {
      if (version !== i + 1) found.push(`${account}: event ${i + 1} has version ${version}`)
      if (requestIds.has(requestId)) found.push(`${requestId} applied twice`)
      requestIds.add(requestId)
      balance += balanceChange(event)
      if (balance < 0) found.push(`${account}: balance ${balance} at version ${version}`)
      if (event.type !== 'closed' && event.transferId !== undefined) {
        moved.set(event.transferId, [...moved.get(event.transferId) ?? [],
          JSON.stringify([account, balanceChange(event)])])
      }
    })
    total += balance
  }
  if (total !== initialTotal) found.push(`total ${total}, initially ${initialTotal}`)
  const outcomeOf = new Map<string, TransferOutcome>()
  for (const outcome of outcomes) {
    if (outcomeOf.has(outcome.transferId)) found.push(`${outcome.transferId} ended twice`)
    outcomeOf.set(outcome.transferId, outcome)
  }
  for (const transfer of scenario.transfers) {
    const outcome = outcomeOf.get(transfer.transferId)
    if (outcome === undefined) {
      found.push(`${transfer.transferId} has no outcome`)
      continue
    }
    const actual = JSON.stringify((moved.get(transfer.transferId) ?? []).sort())
    const expected = JSON.stringify(expectedMoves(transfer, outcome.outcome))
    if (actual !== expected) {
      found.push(`${transfer.transferId} ${outcome.outcome}: moved ${actual}, not ${expected}`)
    }
  }
  if (outcomeOf.size !== scenario.transfers.length) found.push(`${outcomeOf.size} outcomes`)
  return found
}

/** The requests, replies and events of the transfers without an outcome. */
async function diagnose(weir: Weir, scenario: Scenario): Promise<string> {
  const ended = new Set((await committedOutcomes(weir, CRASH_PARTITIONS))
    .map(outcome => outcome.transferId))
  const missing = scenario.transfers.filter(t => !ended.has(t.transferId)).map(t => t.transferId)
  const lines = [`missing: ${missing.join(', ')}`]
  for (const topic of [accountRequestsTopic, accountRepliesTopic, eventsTopic(accountType)]) {
    for (let partition = 0; partition < CRASH_PARTITIONS; partition++) {
      for (const record of await readCommitted(weir.transport, topic, partition)) {
        const value = record.value?.toString() ?? ''
        if (missing.some(id => value.includes(`"${id}:`) || value.includes(`"${id}"`))) {
          lines.push(`${topic}/${partition}@${record.offset} ${record.key?.toString()} ${value}`)
        }
      }
    }
  }
  for (const group of ['transfer-saga', aggregateAppId(accountType)]) {
    const behind = (await weir.admin().lag(group)).filter(partition => partition.lag > 0)
    lines.push(`lag of ${group}: ${behind.map(p => `${p.topic}/${p.partition}=${p.lag}`)
      .join(', ') || 'none'}`)
  }
  return lines.join('\n')
}

interface RunResult {
  readonly crashes: CrashPoint[][]
  readonly outcomes: TransferOutcome[]
}

async function runSaga(scenario: Scenario, cuts: readonly number[], timeoutMs: number,
  crashPoints: readonly [readonly CrashPoint[], readonly CrashPoint[]]): Promise<RunResult> {
  const topics = transferSagaTopics(CRASH_PARTITIONS).map(({ topic }) => topic)
  return withWorld(topics, async world => {
    const producer = world.weir.producer()
    try {
      await producer.send({ topic: accountRequestsTopic, messages:
        setupRequests(scenario.initial) })
      const run = await runAppsThroughCrashes({ weir: world.weir, dir: world.stateDir,
        apps: [{ topology: aggregateTopology(accounts(3)), crashPoints: crashPoints[0] },
          { topology: transferSaga({ timeoutMs }), crashPoints: crashPoints[1] }],
        chunks: chunked(scenario.records, cuts),
        produce: chunk => producer.send({ topic: transfersTopic,
          messages: chunk.map(transfer => transferRecord(transfer)) }).then(() => undefined),
        finished: async () => new Set((await committedOutcomes(world.weir, CRASH_PARTITIONS))
          .map(outcome => outcome.transferId)).size >= scenario.transfers.length,
        diagnose: () => diagnose(world.weir, scenario) })
      await Promise.allSettled(run.apps.map(app => app.close()))
      let found: string[] = []
      let outcomes: TransferOutcome[] = []
      await waitFor(async () => {
        outcomes = await committedOutcomes(world.weir, CRASH_PARTITIONS)
        found = problems(scenario, await committedEvents(world.weir, CRASH_PARTITIONS),
          outcomes)
        return found
      }, current => current.length === 0)
      expect(found).toEqual([])
      return { crashes: run.crashes, outcomes }
    } finally {
      await producer.close()
    }
  })
}

const crashSchedule = fc.array(crashPointArbitrary, { minLength: 1, maxLength: 3 })
const sagaRuns = propertyParameters(20)

/**
 * 20 runs in `npm test`; `npm run test:crash` soaks it (WEIR_NUM_RUNS). A hang once seen here
 * (1 run in about 200) was the harness's, not the runtime's: with both apps restarting at once
 * its catch-up loop spun in microtasks on the dead instances and starved their successors'
 * start (test/helpers/apps-through-crashes.ts now waits for the successor). 800 soak runs since
 * passed.
 */
describe('the transfer saga under crashes', () => {
  it('with crashes injected at any step of the saga and of the account writer, total money is '
    + 'conserved, every transfer ends completed, failed or compensated exactly once, and no '
    + 'command is applied twice', async () => {
    const results: RunResult[] = []
    await fc.assert(fc.asyncProperty(scenarioArbitrary,
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
      fc.constantFrom(0, 60_000), crashSchedule, crashSchedule,
      async (scenario, cuts, timeoutMs, writerCrashes, sagaCrashes) => {
        results.push(await runSaga(scenario, cuts, timeoutMs, [writerCrashes, sagaCrashes]))
      }), sagaRuns)
    const writerCrashes = results.flatMap(result => result.crashes[0]!).length
    const sagaCrashes = results.flatMap(result => result.crashes[1]!).length
    const outcomes = results.flatMap(result => result.outcomes)
    const count = (kind: string) => outcomes.filter(o => o.outcome === kind).length
    console.info(`transfer saga: ${writerCrashes} writer crashes, ${sagaCrashes} saga crashes `
      + `in ${results.length} runs; outcomes: ${count('completed')} completed, `
      + `${count('failed')} failed, ${count('compensated')} compensated`)
    expect(writerCrashes, 'no crash of the account writer happened').toBeGreaterThan(0)
    expect(sagaCrashes, 'no crash of the saga happened').toBeGreaterThan(0)
    // (A replayed counterexample, WEIR_PATH, may have none.)
    if (process.env.WEIR_PATH === undefined) {
      expect(count('compensated'), 'no transfer was compensated').toBeGreaterThan(0)
    }
  }, propertyTimeoutMs(sagaRuns))
})
