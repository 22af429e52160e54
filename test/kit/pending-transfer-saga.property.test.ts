/**
 * Goal (issues 8 and 10): the pending-transfer saga (topologies/pending-transfer-saga.ts) sends
 * each of its requests exactly once and ends each transfer with exactly one outcome, the one
 * its replies and its recipient's answer call for, under any of the kit's faults.
 * Written only with the public kit.
 *
 * Property: for random transfers (some invalid, some requested twice), scripted account
 * replies (debits appended or refused for funds, credits appended or refused for a closed
 * account, refunds appended; repeated answers and other clients' replies mixed in) and one
 * recipient's answer each (accept, decline, or an accept stamped after the deadline, which is
 * the expiry; sent before or after the debit's reply), and any fault schedule, read_committed:
 * - `account-requests` holds each request the saga must send exactly once, with its command;
 * - `pending-transfer-outcomes` holds one outcome per transfer: completed, declined, expired,
 *   compensated or failed, with its reason;
 * - the store `pending-transfer-sagas` holds each transfer in its final status.
 *
 * Method: `simulate` runs the saga alone, so the account writer is scripted, as in
 * transfer-saga.property.test.ts; the model below plays the saga's table while it scripts. The
 * deadline is an hour after the transfers, so the wall-clock punctuator never fires within a
 * run (the TopologyTestDriver examples test it): an answer decides each transfer, which keeps
 * the outcomes a function of the inputs. Barriers (the run waits until the app has caught up)
 * after the transfers and after each answer keep the replies that follow behind them, as a
 * real writer does: the runtime does not order a task's input topics by timestamp.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import type { Reply } from 'weir'
import {
  assertValid, exactlyOnce, FAULT_KINDS, faultSchedules, propertyParameters,
  type ScheduledFault, simulate, stateEqualsFold,
} from 'weir/testing'
import {
  pendingOutcomesTopic, pendingSagasStore, pendingTransferSaga, type PendingTransferOutcome,
  pendingTransfersTopic, transferDecisionsTopic,
} from '../../topologies/pending-transfer-saga.ts'
import type { PendingStatus } from '../../topologies/pending-transfer-steps.ts'
import {
  accountRepliesTopic, accountRequestsTopic, type TransferRequested,
} from '../../topologies/transfer-saga.ts'

const ACCOUNTS = ['a', 'b', 'c']
const ACCEPT_WITHIN_MS = 3_600_000
/** Near the wall clock, so the punctuator finds no deadline passed during a run. */
const START_MS = Date.now()
/** Past every transfer's deadline (transfers are stamped START_MS + their index). */
const LATE_MS = START_MS + ACCEPT_WITHIN_MS + 60_000

type Answer = 'accept' | 'decline' | 'late-accept'
type Step = 'debit' | 'credit' | 'refund'

interface Plan {
  readonly transfer: TransferRequested
  readonly answer: Answer
  readonly answerFirst: boolean
  readonly debitRefused: boolean
  readonly creditRefused: boolean
  readonly requestedTwice: boolean
}

const sometimes = (n: number): fc.Arbitrary<boolean> =>
  fc.integer({ min: 1, max: n }).map(draw => draw === 1)

const plan = (i: number): fc.Arbitrary<Plan> => fc.record({
  transfer: fc.record({ from: fc.nat({ max: 2 }), next: fc.constantFrom(1, 1, 1, 2, 2, 2, 0),
    amount: fc.integer({ min: 1, max: 100 }) }).map(({ from, next, amount }) => ({
    transferId: `p${i}`, from: ACCOUNTS[from]!, to: ACCOUNTS[(from + next) % 3]!, amount })),
  answer: fc.constantFrom<Answer>('accept', 'accept', 'decline', 'late-accept'),
  answerFirst: sometimes(3), debitRefused: sometimes(4), creditRefused: sometimes(3),
  requestedTwice: sometimes(3) })

interface TimedRecord { key: string, value: unknown, timestamp: number }
type Input = { readonly topic: string, readonly record: TimedRecord }

interface Expected {
  readonly requests: Array<{ key: string, value: unknown }>
  readonly outcomes: Array<{ key: string, value: PendingTransferOutcome }>
  readonly statuses: Array<{ key: string, status: PendingStatus }>
}

/** A transfer as the model runs it. */
interface Running {
  readonly plan: Plan
  status: PendingStatus
  decision?: 'accepted' | 'declined' | 'expired'
  reason?: string
  answered: boolean
  lastReply?: Reply<unknown, string>
}

function request({ transferId, from, to, amount }: TransferRequested, step: Step):
{ key: string, value: unknown } {
  const type = step === 'debit' ? 'withdraw' : step === 'credit' ? 'deposit' : 'refund'
  return { key: step === 'credit' ? to : from, value: { requestId: `pending:${transferId}:${step}`,
    replyTo: transferId, expectedVersion: 'any',
    body: { kind: 'command', command: { type, amount, transferId } } } }
}

/** The saga's table, played by the model. */
class Model {
  readonly expected: Expected = { requests: [], outcomes: [], statuses: [] }

  end(run: Running, outcome: PendingTransferOutcome['outcome'], reason?: string): void {
    run.status = outcome
    const why = reason === undefined ? {} : { reason }
    const { transferId } = run.plan.transfer
    this.expected.outcomes.push({ key: transferId, value: { ...run.plan.transfer, outcome,
      ...why } })
    this.expected.statuses.push({ key: transferId, status: outcome })
  }

  send(run: Running, status: PendingStatus, step: Step): void {
    run.status = status
    this.expected.requests.push(request(run.plan.transfer, step))
  }

  act(run: Running): void {
    if (run.decision === 'accepted') this.send(run, 'crediting', 'credit')
    else {
      run.reason = run.decision
      this.send(run, 'refunding', 'refund')
    }
  }

  answer(run: Running): void {
    run.answered = true
    if (run.decision !== undefined) return
    const { answer } = run.plan
    const decision = answer === 'accept' ? 'accepted' : answer === 'decline' ? 'declined'
      : 'expired'
    if (run.status === 'debiting') run.decision = decision
    else if (run.status === 'awaiting') {
      run.decision = decision
      this.act(run)
    }
  }

  /** The writer's answer to the step `run` awaits. */
  reply(run: Running): Reply<unknown, string> {
    const { transfer, debitRefused, creditRefused } = run.plan
    const step: Step = run.status === 'debiting' ? 'debit' : run.status === 'crediting'
      ? 'credit' : 'refund'
    const refused = step === 'debit' ? debitRefused : step === 'credit' && creditRefused
    const rejection = step === 'debit' ? 'insufficient-funds' : 'account-closed'
    if (step === 'debit' && refused) this.end(run, 'failed', rejection)
    else if (step === 'debit' && run.decision === undefined) run.status = 'awaiting'
    else if (step === 'debit') this.act(run)
    else if (step === 'credit' && refused) {
      run.reason = rejection
      this.send(run, 'refunding', 'refund')
    } else if (step === 'credit') this.end(run, 'completed')
    else {
      this.end(run, run.reason === 'declined' || run.reason === 'expired' ? run.reason
        : 'compensated', run.reason)
    }
    return { requestId: `pending:${transfer.transferId}:${step}`, aggregateId: transfer.from,
      outcome: refused ? { kind: 'rejected', rejection }
        : { kind: 'appended', firstVersion: 1, lastVersion: 1 } }
  }
}

const waitsForReply = (run: Running): boolean =>
  run.status === 'debiting' || run.status === 'crediting' || run.status === 'refunding'

/**
 * The inputs and what the saga must write: transfers, then with n transfers a pick p < n
 * gives transfer p its next input (its answer when due, else the reply to its awaited step),
 * n ≤ p < 2n repeats its last reply, 2n ≤ p sends another client's reply; then the rest.
 */
function script(plans: readonly Plan[], picks: readonly number[]):
{ inputs: Input[], expected: Expected, barriers: number[] } {
  const model = new Model()
  const inputs: Input[] = []
  const runs: Running[] = []
  for (const p of plans) {
    const run: Running = { plan: p, status: 'debiting', answered: false }
    runs.push(run)
    if (p.transfer.from === p.transfer.to) model.end(run, 'failed', 'invalid-transfer')
    else model.expected.requests.push(request(p.transfer, 'debit'))
    for (let i = 0; i < (p.requestedTwice ? 2 : 1); i++) {
      inputs.push({ topic: pendingTransfersTopic, record: { key: p.transfer.transferId,
        value: p.transfer, timestamp: START_MS + inputs.length } })
    }
  }
  const barriers = [inputs.length]
  const push = (topic: string, key: string, value: unknown, late = false): void => {
    inputs.push({ topic, record: { key, value,
      timestamp: late ? LATE_MS : START_MS + 1_000 + 10 * inputs.length } })
  }
  const next = (run: Running): boolean => {
    const { transferId } = run.plan.transfer
    const answerDue = !run.answered && (run.plan.answerFirst || run.status !== 'debiting')
    if (answerDue && run.plan.transfer.from !== run.plan.transfer.to) {
      model.answer(run)
      push(transferDecisionsTopic, transferId, { transferId,
        decision: run.plan.answer === 'decline' ? 'decline' : 'accept' },
      run.plan.answer === 'late-accept')
      barriers.push(inputs.length)
      return true
    }
    if (!waitsForReply(run)) return false
    run.lastReply = model.reply(run)
    push(accountRepliesTopic, transferId, run.lastReply)
    return true
  }
  for (const pick of picks) {
    const run = runs[pick % runs.length]!
    const kind = Math.floor(pick / runs.length)
    const { transferId, from } = run.plan.transfer
    if (kind === 0) next(run)
    else if (kind === 1 && run.lastReply !== undefined) {
      push(accountRepliesTopic, transferId, run.lastReply)
    } else if (kind === 2) {
      push(accountRepliesTopic, transferId, { requestId: `elsewhere:${transferId}`,
        aggregateId: from, outcome: { kind: 'appended', firstVersion: 1, lastVersion: 1 } })
    }
  }
  for (const run of runs) while (next(run));
  return { inputs, expected: model.expected, barriers }
}

type Scenario = ReturnType<typeof script> & { faults: ScheduledFault[] }

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 6 })
  .chain(n => fc.tuple(...Array.from({ length: n }, (_, i) => plan(i))))
  .chain(plans => fc.array(fc.nat({ max: plans.length * 3 - 1 }), { maxLength: 4 * plans.length })
    .map(picks => script(plans, picks)))
  .chain(scripted => faultSchedules({ kinds: FAULT_KINDS, maxDelayMs: 300, maxFaults: 2,
    inputs: scripted.inputs.length - 1 }).map(faults => ({ ...scripted, faults })))

async function holds({ inputs, expected, barriers, faults }: Scenario, seed: number):
Promise<void> {
  const result = await simulate(pendingTransferSaga({ acceptWithinMs: ACCEPT_WITHIN_MS }),
    { seed, inputs, faults, barriers, partitions: 2,
      outputs: [accountRequestsTopic, pendingOutcomesTopic], stores: [pendingSagasStore] })
  const byKeyAndValue = { id: (record: { key?: unknown, value: unknown }) =>
    [record.key, record.value] }
  assertValid(exactlyOnce(result.outputs[accountRequestsTopic]!, expected.requests,
    byKeyAndValue), 'each request sent once', result.trace)
  assertValid(exactlyOnce(result.outputs[pendingOutcomesTopic]!, expected.outcomes,
    byKeyAndValue), 'one outcome per transfer', result.trace)
  const statuses = result.stores[pendingSagasStore]!.map(({ key, value }) =>
    ({ key, value: (value as { status: PendingStatus }).status }))
  assertValid(stateEqualsFold(statuses, expected.statuses,
    (_: PendingStatus | undefined, input) => input.status), 'final statuses', result.trace)
}

describe('the pending-transfer saga with the public test kit', () => {
  it('property: under any fault schedule (crashes with or without state loss, broker restarts, '
    + 'power loss, zombies, rebalances, delayed or duplicated requests), each request the saga '
    + 'must send is sent once and each transfer ends with exactly one outcome, the one its '
    + 'scripted replies and answer call for', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.nat({ max: 1_000_000 }), holds),
      propertyParameters(6))
  })
})
