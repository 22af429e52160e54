/**
 * Goal (issue 8): a saga whose timeout is a wall-clock punctuator's (the pending-transfer saga,
 * topologies/pending-transfer-saga.ts) moves money exactly once when its app and the account
 * writer's app crash at any processing step, punctuations included.
 *
 * Property: for random transfers (some invalid, some to a closed account, some requested
 * twice), each answered by its recipient with an accept, a decline or nothing, and any crash
 * schedules, read_committed readers see: total money conserved; each account's versions 1..n,
 * no request id on two events, no balance below 0; one outcome per transfer; a completed
 * transfer withdrew `amount` from `from` and deposited it on `to`; a declined, expired or
 * compensated one withdrew and refunded it on `from`; a failed one moved nothing; completed
 * only after an accept, declined only after a decline, and a transfer nobody answered expired
 * (or failed). Whether an answer beats the 400 ms deadline depends on timing, so the property
 * allows expiry for every transfer; the runs count how many of each outcome there were.
 *
 * Method: both apps on an embedded broker through apps-through-crashes.ts (each app its own
 * crash schedule, state lost at some crashes). Replay with WEIR_SEED=<seed> WEIR_PATH=<path>.
 */
import { fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { aggregateTopology, type StoredEvent } from '../../src/index.ts'
import { type AccountEvent, accounts } from '../../topologies/accounts.ts'
import {
  pendingOutcomesTopic, pendingTransferSaga, type PendingTransferOutcome,
  pendingTransferSagaTopics, pendingTransfersTopic, transferDecisionsTopic,
} from '../../topologies/pending-transfer-saga.ts'
import {
  accountRequestsTopic, type TransferRequested,
} from '../../topologies/transfer-saga.ts'
import { runAppsThroughCrashes } from '../helpers/apps-through-crashes.ts'
import { fraction } from '../helpers/num-runs.ts'
import {
  chunked, type CrashPoint, crashPointArbitrary, PARTITIONS, propertyParameters,
  propertyTimeoutMs, withWorld,
} from '../helpers/streams-fixtures.ts'
import { waitFor } from '../helpers/topologies-fixtures.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'
import { accountStreams, committedEvents } from './transfer-saga-reads.ts'

const ACCOUNTS = ['a', 'b', 'c', 'z']
const ACCEPT_WITHIN_MS = 400
type Answer = 'accept' | 'decline' | 'none'

interface Plan {
  readonly transfer: TransferRequested
  readonly answer: Answer
  readonly repeated: boolean
}

/** A record to produce: a transfer request or a recipient's answer. */
type Item = { readonly topic: string, readonly key: string, readonly value: unknown }

const plans: fc.Arbitrary<Plan[]> = fc.array(fc.record({
  from: fc.constantFrom(...ACCOUNTS), to: fc.constantFrom(...ACCOUNTS),
  amount: fc.integer({ min: 1, max: 60 }),
  answer: fc.constantFrom<Answer>('accept', 'accept', 'decline', 'none'),
  repeated: fc.boolean() }), { minLength: 3, maxLength: 10 })
  .map(drawn => drawn.map(({ from, to, amount, answer, repeated }, i) => ({
    transfer: { transferId: `p${i}`, from, to, amount }, answer, repeated })))

/** Transfers first, then the repeats and the answers, in plan order. */
function items(plan: readonly Plan[]): Item[] {
  const request = (t: TransferRequested): Item => ({ topic: pendingTransfersTopic,
    key: t.transferId, value: t })
  return [...plan.map(p => request(p.transfer)),
    ...plan.filter(p => p.repeated).map(p => request(p.transfer)),
    ...plan.filter(p => p.answer !== 'none').map(p => ({ topic: transferDecisionsTopic,
      key: p.transfer.transferId, value: { transferId: p.transfer.transferId,
        decision: p.answer } }))]
}

/** Opens a, b and c with 100 each and z with 20, then closes z: credits to it are refused. */
function setupRequests(): Array<{ key: string, value: string }> {
  const request = (account: string, step: string, command: unknown) => ({ key: account,
    value: JSON.stringify({ requestId: `init:${account}:${step}`, expectedVersion: 'any',
      body: { kind: 'command', command } }) })
  return [...['a', 'b', 'c'].map(account => request(account, 'deposit',
    { type: 'deposit', amount: 100 })), request('z', 'deposit', { type: 'deposit', amount: 20 }),
  request('z', 'close', { type: 'close' })]
}

const allowed: Record<Answer, ReadonlyArray<PendingTransferOutcome['outcome']>> = {
  accept: ['completed', 'compensated', 'expired', 'failed'],
  decline: ['declined', 'expired', 'failed'],
  none: ['expired', 'failed'],
}

function expectedMoves({ from, to, amount }: TransferRequested,
  outcome: PendingTransferOutcome['outcome']): string {
  const moves = outcome === 'completed' ? [[from, -amount], [to, amount]]
    : outcome === 'failed' ? [] : [[from, -amount], [from, amount]]
  return JSON.stringify(moves.map(move => JSON.stringify(move)).sort())
}

/** Everything wrong with what read_committed readers see; empty when all is right. */
function problems(plan: readonly Plan[], events: Map<string, Array<StoredEvent<AccountEvent>>>,
  outcomes: readonly PendingTransferOutcome[]): string[] {
  const { found, total, moved } = accountStreams(events)
  if (total !== 320) found.push(`total ${total}, initially 320`)
  const outcomeOf = new Map<string, PendingTransferOutcome>()
  for (const outcome of outcomes) {
    if (outcomeOf.has(outcome.transferId)) found.push(`${outcome.transferId} ended twice`)
    outcomeOf.set(outcome.transferId, outcome)
  }
  for (const { transfer, answer } of plan) {
    const outcome = outcomeOf.get(transfer.transferId)?.outcome
    if (outcome === undefined) found.push(`${transfer.transferId} has no outcome`)
    else if (!allowed[answer].includes(outcome)) {
      found.push(`${transfer.transferId} ${outcome} after answer ${answer}`)
    } else {
      const actual = JSON.stringify((moved.get(transfer.transferId) ?? []).sort())
      const expected = expectedMoves(transfer, outcome)
      if (actual !== expected) found.push(`${transfer.transferId} ${outcome}: moved ${actual}`)
    }
  }
  return found
}

async function committedOutcomes(weir: Parameters<Parameters<typeof withWorld>[1]>[0]['weir']):
Promise<PendingTransferOutcome[]> {
  const outcomes: PendingTransferOutcome[] = []
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (const record of await readCommitted(weir.transport, pendingOutcomesTopic, partition)) {
      outcomes.push(JSON.parse(record.value!.toString()) as PendingTransferOutcome)
    }
  }
  return outcomes
}

interface RunResult {
  readonly crashes: CrashPoint[][]
  readonly outcomes: PendingTransferOutcome[]
}

async function run(plan: readonly Plan[], cuts: readonly number[],
  crashPoints: readonly [readonly CrashPoint[], readonly CrashPoint[]]): Promise<RunResult> {
  const topics = pendingTransferSagaTopics(PARTITIONS).map(({ topic }) => topic)
  return withWorld(topics, async world => {
    const producer = world.weir.producer()
    try {
      await producer.send({ topic: accountRequestsTopic, messages: setupRequests() })
      const ended = async () => new Set((await committedOutcomes(world.weir))
        .map(outcome => outcome.transferId)).size >= plan.length
      const apps = await runAppsThroughCrashes({ weir: world.weir, dir: world.stateDir,
        apps: [{ topology: aggregateTopology(accounts(3)), crashPoints: crashPoints[0] },
          { topology: pendingTransferSaga({ acceptWithinMs: ACCEPT_WITHIN_MS,
            checkEveryMs: 50 }), crashPoints: crashPoints[1] }],
        chunks: chunked(items(plan), cuts),
        produce: async chunk => {
          for (const item of chunk) {
            await producer.send({ topic: item.topic, messages: [{ key: item.key,
              value: JSON.stringify(item.value) }] })
          }
        },
        finished: ended })
      await Promise.allSettled(apps.apps.map(app => app.close()))
      let found: string[] = []
      let outcomes: PendingTransferOutcome[] = []
      await waitFor(async () => {
        outcomes = await committedOutcomes(world.weir)
        found = problems(plan, await committedEvents(world.weir, PARTITIONS), outcomes)
        return found
      }, current => current.length === 0)
      expect(found).toEqual([])
      return { crashes: apps.crashes, outcomes }
    } finally {
      await producer.close()
    }
  })
}

const crashSchedule = fc.array(crashPointArbitrary, { minLength: 1, maxLength: 3 })
/** 8 runs in `npm test` (about 1.5 s each); `npm run test:crash` soaks it. */
const runs = propertyParameters(8)

describe('the pending-transfer saga under crashes', () => {
  it('with crashes injected at any step of the saga (the commits of punctuations included) and of '
    + 'the account writer, money is conserved, every transfer ends once as its answer and the '
    + 'clock allow, and no command is applied twice', async () => {
    const results: RunResult[] = []
    await fc.assert(fc.asyncProperty(plans, fc.array(fraction, { maxLength: 3 }),
      crashSchedule, crashSchedule, async (plan, cuts, writerCrashes, sagaCrashes) => {
        results.push(await run(plan, cuts, [writerCrashes, sagaCrashes]))
      }), runs)
    const crashes = [0, 1].map(app => results.flatMap(r => r.crashes[app]!).length)
    const counts = new Map<string, number>()
    for (const { outcome } of results.flatMap(r => r.outcomes)) {
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
    }
    console.info(`pending-transfer saga: ${crashes[0]} writer crashes, ${crashes[1]} saga `
      + `crashes in ${results.length} runs; outcomes: ${JSON.stringify(Object.fromEntries(
        counts))}`)
    expect(crashes[0], 'no crash of the account writer happened').toBeGreaterThan(0)
    expect(crashes[1], 'no crash of the saga happened').toBeGreaterThan(0)
    if (process.env.WEIR_PATH === undefined) {
      expect(counts.get('expired') ?? 0, 'no transfer expired').toBeGreaterThan(0)
    }
  }, propertyTimeoutMs(runs))
})
