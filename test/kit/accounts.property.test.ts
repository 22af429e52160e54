/**
 * Goal (issue 10): the account aggregate's single writer (`aggregateTopology(accounts(3))`,
 * topologies/accounts.ts) appends each account's events exactly once, as a gapless version
 * sequence, and answers every request exactly once, under any of the kit's faults:
 * its app crashing (keeping or losing its state directory), the broker killed or losing power,
 * a zombie instance, a request delayed or sent twice, a second instance taking tasks for a
 * while (a rebalance). Written only with the public kit, as a user's suite would be.
 *
 * Property: for random requests (deposits, withdrawals, refunds, closes, invalid amounts,
 * expected versions that may be wrong, and client retries that repeat an earlier request id)
 * and any fault schedule, read_committed:
 * - `account-events` holds exactly the model's events, each once: per account versions
 *   1..n in order, each with the request that appended it; a retry appends nothing;
 * - `account-replies` holds exactly one reply per request record (a retry gets the first
 *   outcome again), with the model's outcome;
 * - the store `account-aggregates` holds each account at the model's version.
 *
 * Method: `simulate` runs the writer alone on 2 partitions (a snapshot every 3 events, so a
 * restore after state loss goes through snapshots); requests are produced to
 * `account-requests` keyed by account id, as AggregateClient would send them. The model is the
 * account's rules, written again below. Soak with WEIR_NUM_RUNS; replay with WEIR_SEED (and
 * WEIR_PATH).
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  aggregateStore, aggregateTopology, eventsTopic, type ExpectedVersion, type Outcome,
  type Reply, repliesTopic, type Request, requestsTopic, type StoredEvent,
} from 'weir'
import {
  assertValid, exactlyOnce, FAULT_KINDS, faultSchedules, perKeyOrder,
  propertyParameters, type ScheduledFault, simulate, stateEqualsFold,
} from 'weir/testing'
import {
  type AccountCommand, type AccountEvent, type AccountRejection, accounts, accountType,
} from '../../topologies/accounts.ts'


/**
 * The longest a `delay-request` fault holds a request: enough to reorder it with the app's
 * next requests (it commits every 10 ms), short enough to keep a run under a second.
 */
const DELAY_MAX_MS = 300

const ACCOUNTS = ['acc-1', 'acc-2', 'konto-ü']
const CLIENTS = ['client-1', 'client-2']
/** Below the writer's memory of 32 recent requests per account, so every retry is known. */
const INPUTS_MAX = 30
const EVENTS = eventsTopic(accountType)
const REPLIES = repliesTopic(accountType)
const STORE = aggregateStore(accountType)

type AccountRequest = Request<AccountCommand, never>
type AccountOutcome = Outcome<unknown, AccountRejection>

/** A new request, or a client's retry of one of the account's earlier requests. */
type Step =
  | { readonly kind: 'request', readonly account: string, readonly command: AccountCommand,
    readonly expectedVersion: ExpectedVersion, readonly replyTo: string }
  | { readonly kind: 'retry', readonly account: string, readonly back: number }

const command: fc.Arbitrary<AccountCommand> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constantFrom('deposit' as const,
    'withdraw' as const), amount: fc.integer({ min: 0, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('refund' as const),
    amount: fc.integer({ min: 1, max: 100 }), transferId: fc.constantFrom('t1', 't2') }) },
  { weight: 1, arbitrary: fc.constant({ type: 'close' as const }) },
)

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('request' as const),
    account: fc.constantFrom(...ACCOUNTS), command,
    expectedVersion: fc.oneof({ weight: 4, arbitrary: fc.constant<ExpectedVersion>('any') },
      fc.constant<ExpectedVersion>('no-stream'), fc.nat({ max: 4 })),
    replyTo: fc.constantFrom(...CLIENTS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const),
    account: fc.constantFrom(...ACCOUNTS), back: fc.nat({ max: 3 }) }) },
)

interface RequestInput { readonly key: string, readonly value: AccountRequest }

/** The request records: ids numbered; a retry repeats an earlier record of the account. */
function requestInputs(steps: readonly Step[]): RequestInput[] {
  const sent = new Map<string, RequestInput[]>()
  const inputs: RequestInput[] = []
  for (const s of steps) {
    const earlier = sent.get(s.account) ?? []
    sent.set(s.account, earlier)
    if (s.kind === 'retry') {
      const again = earlier[Math.max(0, earlier.length - 1 - s.back)]
      if (again !== undefined) inputs.push(again)
      continue
    }
    const input = { key: s.account, value: { requestId: `r${inputs.length}`,
      replyTo: s.replyTo, expectedVersion: s.expectedVersion,
      body: { kind: 'command' as const, command: s.command } } }
    earlier.push(input)
    inputs.push(input)
  }
  return inputs
}

interface ModelAccount {
  balance: number
  closed: boolean
  version: number
  readonly outcomes: Map<string, AccountOutcome>
}

/** The account's rules: what a command appends, or why it is refused. */
function decide(account: ModelAccount, c: AccountCommand): AccountEvent[] | AccountRejection {
  if (c.type === 'close') return account.closed ? [] : [{ type: 'closed' }]
  if (c.amount <= 0) return 'invalid-amount'
  const moved = c.transferId === undefined ? {} : { transferId: c.transferId }
  if (c.type === 'refund') return [{ type: 'deposited', amount: c.amount, ...moved }]
  if (account.closed) return 'account-closed'
  if (c.type === 'deposit') return [{ type: 'deposited', amount: c.amount, ...moved }]
  if (c.amount > account.balance) return 'insufficient-funds'
  return [{ type: 'withdrawn', amount: c.amount, ...moved }]
}

const versionMatches = (expected: ExpectedVersion, actual: number): boolean =>
  expected === 'any' || (expected === 'no-stream' ? actual === 0 : expected === actual)

/** One request on the model: its outcome and the events it appends (none for a retry). */
function handle(account: ModelAccount, request: AccountRequest):
{ outcome: AccountOutcome, events: AccountEvent[] } {
  const known = account.outcomes.get(request.requestId)
  if (known !== undefined) return { outcome: known, events: [] }
  const body = request.body
  let outcome: AccountOutcome
  let events: AccountEvent[] = []
  if (!versionMatches(request.expectedVersion, account.version)) {
    outcome = { kind: 'wrong-expected-version', actualVersion: account.version }
  } else if (body.kind !== 'command') {
    throw new Error('the scenario sends commands only')
  } else {
    const decision = decide(account, body.command)
    if (typeof decision === 'string') {
      outcome = { kind: 'rejected', rejection: decision }
    } else {
      events = decision
      outcome = { kind: 'appended', firstVersion: account.version + 1,
        lastVersion: account.version + events.length }
    }
  }
  for (const event of events) {
    if (event.type === 'closed') account.closed = true
    else account.balance += event.type === 'deposited' ? event.amount : -event.amount
  }
  account.version += events.length
  account.outcomes.set(request.requestId, outcome)
  return { outcome, events }
}

interface Expected {
  readonly events: Array<{ key: string, value: StoredEvent<AccountEvent> }>
  readonly replies: Array<{ value: Reply<unknown, AccountRejection> }>
  /** Per request record: how many events it appended (for the store's version fold). */
  readonly appended: Array<{ key: string, count: number }>
}

function model(inputs: readonly RequestInput[]): Expected {
  const accountsById = new Map<string, ModelAccount>()
  const expected: Expected = { events: [], replies: [], appended: [] }
  for (const { key, value: request } of inputs) {
    const account = accountsById.get(key)
      ?? { balance: 0, closed: false, version: 0, outcomes: new Map() }
    accountsById.set(key, account)
    const before = account.version
    const { outcome, events } = handle(account, request)
    events.forEach((event, i) => expected.events.push({ key, value: { version: before + i + 1,
      event, requestId: request.requestId } }))
    expected.replies.push({ value: { requestId: request.requestId, aggregateId: key,
      outcome } })
    expected.appended.push({ key, count: events.length })
  }
  return expected
}

type Scenario = { inputs: RequestInput[], faults: ScheduledFault[] }

/**
 * The requests, and faults each after 0..n-1 of them: a crash armed after the last record
 * would never fire (nothing is left to process), so every fault meets work in progress.
 */
const scenario: fc.Arbitrary<Scenario> = fc.array(step, { minLength: 2, maxLength: INPUTS_MAX })
  .map(requestInputs).filter(inputs => inputs.length >= 2)
  .chain(inputs => fc.record({ inputs: fc.constant(inputs),
    faults: faultSchedules({ kinds: FAULT_KINDS, maxDelayMs: DELAY_MAX_MS, maxFaults: 2,
      inputs: inputs.length - 1 }) }))

async function holds({ inputs, faults }: Scenario, seed: number): Promise<void> {
  const result = await simulate(aggregateTopology(accounts(3)), { seed, faults, partitions: 2,
    inputs: inputs.map(record => ({ topic: requestsTopic(accountType), record })),
    outputs: [EVENTS, REPLIES], stores: [STORE] })
  const expected = model(inputs)
  const events = result.outputs[EVENTS]!
  assertValid(exactlyOnce(events, expected.events, { id: record => [record.key, record.value] }),
    'each event appended once', result.trace)
  assertValid(perKeyOrder(events, { sequence: record =>
    (record.value as StoredEvent<AccountEvent>).version }), 'versions in order', result.trace)
  assertValid(exactlyOnce(result.outputs[REPLIES]!, expected.replies),
    'one reply per request', result.trace)
  const versions = result.stores[STORE]!.map(({ key, value }) =>
    ({ key, value: (value as { version: number }).version }))
  assertValid(stateEqualsFold(versions, expected.appended,
    (version: number | undefined, input) => (version ?? 0) + input.count),
  'stored versions', result.trace)
}

/** Run first every time: both kinds of crash, mid-run, whatever the generated runs draw. */
const bothCrashes: Scenario = {
  inputs: requestInputs(Array.from({ length: 12 }, (_, i): Step => i % 4 === 3
    ? { kind: 'retry', account: ACCOUNTS[i % 3]!, back: 0 }
    : { kind: 'request', account: ACCOUNTS[i % 3]!, expectedVersion: 'any', replyTo: 'c',
      command: { type: i % 2 === 0 ? 'deposit' : 'withdraw', amount: 5 } })),
  faults: [{ afterRecords: 3, fault: { kind: 'crash', step: 'after-outputs', loseState: true } },
    { afterRecords: 7, fault: { kind: 'crash', step: 'before-commit', loseState: false } }],
}

const parameters: fc.Parameters<[Scenario, number]> = propertyParameters(6, {
  examples: [[bothCrashes, 1]],
})

describe('the account aggregate\'s writer with the public test kit', () => {
  it('property: under any fault schedule (crashes with or without state loss, broker restarts, '
    + 'power loss, zombies, rebalances, delayed or duplicated requests), each account\'s events '
    + 'are versions 1..n appended once each, as the model decides, and every request gets exactly '
    + 'one reply', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.nat({ max: 1_000_000 }), holds), parameters)
  })
})
