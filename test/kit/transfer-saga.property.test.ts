/**
 * Goal (issue 10): the money-transfer saga (topologies/transfer-saga.ts) sends each of its
 * requests exactly once and ends each transfer with exactly one outcome, the one its replies
 * call for, under any of the kit's faults: its app crashing (keeping or losing
 * its state directory), the broker killed or losing power, a zombie instance, a request
 * delayed or sent twice, a second instance taking tasks for a while (a rebalance). Written
 * only with the public kit.
 *
 * Property: for random transfers (some invalid, some requested twice) and scripted account
 * replies (debits appended or refused for funds, credits appended or refused for a closed
 * account, refunds appended; debits answered after the deadline; repeated answers and replies
 * to other clients mixed in) and any fault schedule, read_committed:
 * - `account-requests` holds each request id the saga must send (`<t>:debit`, then `:credit`
 *   or, after a refused credit or a late debit, `:refund`) exactly once, with its command;
 * - `transfer-outcomes` holds exactly one outcome per transfer: completed, failed (invalid,
 *   or the debit refused) or compensated (credit refused, or timed out), with its reason;
 * - the store `transfer-sagas` holds each transfer in its final status.
 *
 * Method: `simulate` runs the saga alone (on 2 partitions), so the account writer is scripted:
 * the transfers are produced first, then the replies on `account-replies` (keyed by transfer
 * id, the `replyTo` the saga sets), each transfer's in the order of its steps, transfers
 * interleaved at random. The replies a transfer gets depend on the saga's own choices (a late
 * debit is refunded, not credited), so the model below plays the saga's table as it scripts
 * them; timestamps rise with the input, so the stream time at a reply is its timestamp.
 * A barrier after the last transfer (`barriers`: the run waits until the app has caught up):
 * without it a reply could be processed before its transfer (the runtime does not order a
 * task's two input topics by timestamp), which a real writer cannot cause. Soak with
 * WEIR_NUM_RUNS; replay with WEIR_SEED (and WEIR_PATH).
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import type { Reply } from 'weir'
import {
  assertValid, exactlyOnce, FAULT_KINDS, faultSchedules, propertyParameters,
  type ScheduledFault, simulate, stateEqualsFold,
} from 'weir/testing'
import {
  accountRepliesTopic, accountRequestsTopic, type TransferOutcome, type TransferRequested,
  transferSaga, transferSagasStore, transfersTopic, type TransferStatus,
} from '../../topologies/transfer-saga.ts'


/**
 * The longest a `delay-request` fault holds a request: enough to reorder it with the app's
 * next requests (it commits every 10 ms), short enough to keep a run under a second.
 */
const DELAY_MAX_MS = 300

const ACCOUNTS = ['a', 'b', 'c']
const TRANSFERS_MAX = 6
const START_MS = 1_700_000_000_000
/**
 * Replies come 200 ms apart from 1 s after the transfers, so a debit answered from about the
 * sixth reply on is past its deadline (TIMEOUT_MS) and must be refunded, not credited.
 */
const REPLIES_START_MS = START_MS + 1_000
const REPLY_GAP_MS = 200
const TIMEOUT_MS = 2_000

interface Plan {
  readonly transfer: TransferRequested
  readonly debitRefused: boolean
  readonly creditRefused: boolean
  readonly requestedTwice: boolean
}

/** True about once in `n` draws. */
const sometimes = (n: number): fc.Arbitrary<boolean> =>
  fc.integer({ min: 1, max: n }).map(draw => draw === 1)

/** Transfer `i`: from one account to the next, or (rarely) to itself, which is invalid. */
const plan = (i: number): fc.Arbitrary<Plan> => fc.record({
  transfer: fc.record({ transferId: fc.constant(`t${i}`), from: fc.nat({ max: 2 }),
    next: fc.constantFrom(1, 1, 1, 1, 2, 2, 2, 2, 0), amount: fc.integer({ min: 1, max: 100 }) })
    .map(({ transferId, from, next, amount }) => ({ transferId, from: ACCOUNTS[from]!,
      to: ACCOUNTS[(from + next) % ACCOUNTS.length]!, amount })),
  debitRefused: sometimes(4), creditRefused: sometimes(3), requestedTwice: sometimes(3) })

type Step = 'debit' | 'credit' | 'refund'
type AccountReply = Reply<unknown, string>
type Input =
  | { readonly topic: typeof transfersTopic, readonly record: { key: string,
    value: TransferRequested, timestamp: number } }
  | { readonly topic: typeof accountRepliesTopic, readonly record: { key: string,
    value: AccountReply, timestamp: number } }

/** What the model expects the saga to write, and each transfer's final status. */
interface Expected {
  readonly requests: Array<{ key: string, value: unknown }>
  readonly outcomes: Array<{ key: string, value: TransferOutcome }>
  readonly statuses: Array<{ key: string, status: TransferStatus }>
}

/** The command the saga sends for a step: the account writer's contract. */
function request(transfer: TransferRequested, step: Step): { key: string, value: unknown } {
  const { transferId, from, to, amount } = transfer
  const type = step === 'debit' ? 'withdraw' : step === 'credit' ? 'deposit' : 'refund'
  return { key: step === 'credit' ? to : from, value: { requestId: `${transferId}:${step}`,
    replyTo: transferId, expectedVersion: 'any',
    body: { kind: 'command', command: { type, amount, transferId } } } }
}

/** A transfer as the model runs it: the step awaited, or its end. */
interface Running {
  readonly plan: Plan
  /** The timestamp of its first transfer record: the debit's deadline is this + timeout. */
  readonly requestedAtMs: number
  awaiting: Step | undefined
  reason?: string
  lastReply?: AccountReply
}

/** The saga's table for the scripted reply to `run`'s step, answered at `atMs`. */
function answer(run: Running, atMs: number, expected: Expected): AccountReply {
  const { transfer, debitRefused, creditRefused } = run.plan
  const step = run.awaiting!
  const refused = step === 'debit' ? debitRefused : step === 'credit' && creditRefused
  const rejection = step === 'debit' ? 'insufficient-funds' : 'account-closed'
  const end = (outcome: TransferOutcome['outcome'], reason?: string): void => {
    run.awaiting = undefined
    const why = reason === undefined ? {} : { reason }
    expected.outcomes.push({ key: transfer.transferId, value: { ...transfer, outcome, ...why } })
    expected.statuses.push({ key: transfer.transferId, status: outcome })
  }
  const send = (next: Step): void => {
    run.awaiting = next
    expected.requests.push(request(transfer, next))
  }
  if (step === 'debit' && refused) end('failed', rejection)
  else if (step === 'debit' && atMs >= run.requestedAtMs + TIMEOUT_MS) {
    run.reason = 'timed-out'
    send('refund')
  } else if (step === 'debit') send('credit')
  else if (step === 'credit' && refused) {
    run.reason = rejection
    send('refund')
  } else if (step === 'credit') end('completed')
  else end('compensated', run.reason)
  return { requestId: `${transfer.transferId}:${step}`, aggregateId: transfer.from,
    outcome: refused ? { kind: 'rejected', rejection }
      : { kind: 'appended', firstVersion: 1, lastVersion: 1 } }
}

/**
 * The inputs (transfers, then replies interleaved by `picks`, then the rest in turn) and what
 * the saga must write. With n transfers, a pick p < n answers transfer p's awaited step (or
 * repeats its last reply once it has ended), n ≤ p < 2n repeats transfer p - n's last reply,
 * and 2n ≤ p sends it another client's reply: repeats and others' replies must be ignored.
 */
function script(plans: readonly Plan[], picks: readonly number[]):
{ inputs: Input[], expected: Expected, transfers: number } {
  const expected: Expected = { requests: [], outcomes: [], statuses: [] }
  const inputs: Input[] = []
  const runs: Running[] = []
  for (const p of plans) {
    const run: Running = { plan: p, requestedAtMs: START_MS + inputs.length,
      awaiting: undefined }
    runs.push(run)
    const { transfer } = run.plan
    const valid = transfer.from !== transfer.to
    if (valid) {
      run.awaiting = 'debit'
      expected.requests.push(request(transfer, 'debit'))
    } else {
      const outcome = { ...transfer, outcome: 'failed' as const, reason: 'invalid-transfer' }
      expected.outcomes.push({ key: transfer.transferId, value: outcome })
      expected.statuses.push({ key: transfer.transferId, status: 'failed' })
    }
    const times = run.plan.requestedTwice ? 2 : 1
    for (let i = 0; i < times; i++) {
      inputs.push({ topic: transfersTopic, record: { key: transfer.transferId,
        value: transfer, timestamp: START_MS + inputs.length } })
    }
  }
  const transfers = inputs.length
  const reply = (run: Running, kind: 'next' | 'again' | 'other'): void => {
    const atMs = REPLIES_START_MS + REPLY_GAP_MS * (inputs.length - transfers)
    const { transferId, from } = run.plan.transfer
    let value: AccountReply | undefined
    if (kind === 'other') {
      value = { requestId: `elsewhere:${transferId}`, aggregateId: from,
        outcome: { kind: 'appended', firstVersion: 1, lastVersion: 1 } }
    } else if (kind === 'next' && run.awaiting !== undefined) {
      value = run.lastReply = answer(run, atMs, expected)
    } else {
      value = run.lastReply
    }
    if (value === undefined) return
    inputs.push({ topic: accountRepliesTopic, record: { key: transferId, value,
      timestamp: atMs } })
  }
  const kinds = ['next', 'again', 'other'] as const
  for (const pick of picks) {
    reply(runs[pick % runs.length]!, kinds[Math.floor(pick / runs.length)]!)
  }
  for (const run of runs) while (run.awaiting !== undefined) reply(run, 'next')
  return { inputs, expected, transfers }
}

type Scenario = ReturnType<typeof script> & { faults: ScheduledFault[] }

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: TRANSFERS_MAX })
  .chain(n => fc.tuple(...Array.from({ length: n }, (_, i) => plan(i))))
  .chain(plans => fc.array(fc.nat({ max: plans.length * 3 - 1 }), { maxLength: 4 * plans.length })
    .map(picks => script(plans, picks)))
  .chain(scripted => faultSchedules({ kinds: FAULT_KINDS, maxDelayMs: DELAY_MAX_MS,
    maxFaults: 2, inputs: scripted.inputs.length - 1 }).map(faults => ({ ...scripted, faults })))

async function holds({ inputs, expected, transfers, faults }: Scenario, seed: number):
Promise<void> {
  const result = await simulate(transferSaga({ timeoutMs: TIMEOUT_MS }), { seed, inputs,
    faults, barriers: [transfers], partitions: 2,
    outputs: [accountRequestsTopic, 'transfer-outcomes'], stores: [transferSagasStore] })
  const byKeyAndValue = { id: (record: { key?: unknown, value: unknown }) =>
    [record.key, record.value] }
  assertValid(exactlyOnce(result.outputs[accountRequestsTopic]!, expected.requests,
    byKeyAndValue), 'each request sent once', result.trace)
  assertValid(exactlyOnce(result.outputs['transfer-outcomes']!, expected.outcomes,
    byKeyAndValue), 'one outcome per transfer', result.trace)
  const statuses = result.stores[transferSagasStore]!.map(({ key, value }) =>
    ({ key, value: (value as { status: TransferStatus }).status }))
  assertValid(stateEqualsFold(statuses, expected.statuses,
    (_: TransferStatus | undefined, input) => input.status), 'final statuses', result.trace)
}

/** Run first every time: both kinds of crash among the replies, whatever the runs draw. */
const bothCrashes: Scenario = (() => {
  const plans: Plan[] = [0, 1, 2, 3].map(i => ({ transfer: { transferId: `t${i}`,
    from: ACCOUNTS[i % 3]!, to: ACCOUNTS[(i + 1) % 3]!, amount: 10 },
  debitRefused: i === 1, creditRefused: i === 2, requestedTwice: i === 0 }))
  const scripted = script(plans, [0, 1, 2, 3, 0, 2, 2, 0, 3, 3, 9, 4])
  return { ...scripted, faults: [
    { afterRecords: 7, fault: { kind: 'crash', step: 'after-outputs', loseState: true } },
    { afterRecords: 10, fault: { kind: 'crash', step: 'before-commit', loseState: false } }] }
})()

const parameters: fc.Parameters<[Scenario, number]> = propertyParameters(6, {
  examples: [[bothCrashes, 1]],
})

describe('the transfer saga with the public test kit', () => {
  it('property: under any fault schedule (crashes with or without state loss, broker restarts, '
    + 'power loss, zombies, rebalances, delayed or duplicated requests), each request the saga '
    + 'must send is sent once and each transfer ends with exactly one outcome, the one its '
    + 'scripted replies call for', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.nat({ max: 1_000_000 }), holds), parameters)
  })
})
