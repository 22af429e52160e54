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
 *
 * Method: both apps run on an embedded broker; the property drives them with
 * apps-through-crashes.ts (each app its own crash schedule, state lost at some crashes,
 * restarts with the same instanceId) and counts the crashes that really happened, failing if
 * there were none. Replay a failure with WEIR_SEED=<seed> WEIR_PATH=<path>.
 */
import { fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  aggregateAppId, aggregateTopology, eventsTopic, type StoredEvent, type Weir,
} from '../../src/index.ts'
import { type AccountEvent, accounts, accountType } from '../../topologies/accounts.ts'
import {
  accountRepliesTopic, accountRequestsTopic, type TransferOutcome, type TransferRequested,
  transferSaga, transferSagaTopics, transfersTopic,
} from '../../topologies/transfer-saga.ts'
import { runAppsThroughCrashes } from '../helpers/apps-through-crashes.ts'
import {
  chunked, type CrashPoint, crashPointArbitrary, PARTITIONS as CRASH_PARTITIONS,
  propertyParameters, propertyTimeoutMs, withWorld,
} from '../helpers/streams-fixtures.ts'
import { waitFor } from '../helpers/topologies-fixtures.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'
import {
  accountStreams, committedEvents, committedOutcomes, transferRecord,
} from './transfer-saga-reads.ts'
import { fraction } from '../helpers/num-runs.ts'

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
  const initialTotal = scenario.initial.reduce((a, b) => a + b, 20)
  const { found, total, moved } = accountStreams(events)
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
      fc.array(fraction, { maxLength: 3 }),
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
