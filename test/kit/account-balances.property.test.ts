/**
 * Goal (issue 10): the account-balances projection (topologies/account-balances.ts) keeps its
 * read model equal to the fold of the account events, and sends each balance change once, even
 * under any of the kit's faults: its app crashing (keeping or losing its state directory),
 * the broker killed or losing power, a zombie instance, a request delayed or sent twice, a
 * second instance taking tasks for a while (a rebalance). Written only with the public kit,
 * as a user's suite would be.
 *
 * Property: for random account events (versions 1..n per account, with redeliveries of earlier
 * versions) and any fault schedule, the store `account-balances` equals the per-account fold
 * of the events (an event at or below the last applied version changes nothing), and the topic
 * `account-balances`, read_committed, holds exactly one record per applied event, in version
 * order per account.
 *
 * Method: `simulate` runs the projection alone on 2 partitions, the events produced to
 * `account-events` as the aggregate writer would write them; the model is the fold below.
 * Soak with WEIR_NUM_RUNS; replay with WEIR_SEED (and WEIR_PATH) from a failure's report.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import type { StoredEvent } from 'weir'
import {
  assertValid, exactlyOnce, FAULT_KINDS, faultSchedules, perKeyOrder,
  propertyParameters, type ScheduledFault, simulate, stateEqualsFold,
} from 'weir/testing'
import {
  type AccountBalance, accountBalances, accountBalancesStore, accountBalancesTopic,
  type AccountEvent, accountEventsTopic,
} from '../../topologies/account-balances.ts'


/**
 * The longest a `delay-request` fault holds a request: enough to reorder it with the app's
 * next requests (it commits every 10 ms), short enough to keep a run under a second.
 */
const DELAY_MAX_MS = 300

const ACCOUNTS = ['acc-1', 'acc-2', 'konto-ü']
const INPUTS_MAX = 30
const START_MS = 1_700_000_000_000

/** A new event on an account, or a redelivery of one of its earlier events (`back` ≥ 0). */
type Step =
  | { readonly kind: 'event', readonly account: string, readonly event: AccountEvent }
  | { readonly kind: 'redeliver', readonly account: string, readonly back: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('event' as const),
    account: fc.constantFrom(...ACCOUNTS),
    event: fc.oneof({ weight: 8, arbitrary: fc.record({
      type: fc.constantFrom('deposited' as const, 'withdrawn' as const),
      amount: fc.integer({ min: 1, max: 1_000 }) }) },
    { weight: 1, arbitrary: fc.constant({ type: 'closed' as const }) }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redeliver' as const),
    account: fc.constantFrom(...ACCOUNTS), back: fc.nat({ max: 4 }) }) },
)

interface EventInput {
  readonly key: string
  readonly value: StoredEvent<AccountEvent>
  readonly timestamp: number
}

/** The records for the steps: versions numbered per account; a redelivery repeats one. */
function eventInputs(steps: readonly Step[]): EventInput[] {
  const streams = new Map<string, Array<StoredEvent<AccountEvent>>>()
  const inputs: EventInput[] = []
  for (const s of steps) {
    const stream = streams.get(s.account) ?? []
    streams.set(s.account, stream)
    let stored: StoredEvent<AccountEvent> | undefined
    if (s.kind === 'event') {
      stored = { version: stream.length + 1, event: s.event, requestId: `r${inputs.length}` }
      stream.push(stored)
    } else {
      stored = stream[Math.max(0, stream.length - 1 - s.back)]
    }
    // Timestamps increase with the input, so `updatedAt` is known before the run.
    if (stored !== undefined) {
      inputs.push({ key: s.account, value: stored, timestamp: START_MS + inputs.length })
    }
  }
  return inputs
}

/** The model: a balance after an event; one at or below the last applied version is skipped. */
function fold(current: AccountBalance | undefined, input: EventInput): AccountBalance {
  const { version, event } = input.value
  if (current !== undefined && version <= current.version) return current
  const change = event.type === 'deposited' ? event.amount
    : event.type === 'withdrawn' ? -event.amount : 0
  return { accountId: input.key, balance: (current?.balance ?? 0) + change,
    closed: (current?.closed ?? false) || event.type === 'closed', version,
    updatedAt: input.timestamp }
}

/** The balances the projection sends: one per event the model applies. */
function appliedOutputs(inputs: readonly EventInput[]): Array<{ value: AccountBalance }> {
  const current = new Map<string, AccountBalance>()
  const outputs: Array<{ value: AccountBalance }> = []
  for (const input of inputs) {
    const before = current.get(input.key)
    const after = fold(before, input)
    if (after !== before) outputs.push({ value: after })
    current.set(input.key, after)
  }
  return outputs
}

type Scenario = { inputs: EventInput[], faults: ScheduledFault[] }

/**
 * The events, and faults each after 0..n-1 of them: a crash armed after the last record would
 * never fire (nothing is left to process), so every fault meets work in progress.
 */
const scenario: fc.Arbitrary<Scenario> = fc.array(step, { minLength: 2,
  maxLength: INPUTS_MAX })
  .map(eventInputs).filter(inputs => inputs.length >= 2)
  .chain(inputs => fc.record({ inputs: fc.constant(inputs),
    faults: faultSchedules({ kinds: FAULT_KINDS, maxDelayMs: DELAY_MAX_MS, maxFaults: 2,
      inputs: inputs.length - 1 }) }))

async function holds({ inputs, faults }: Scenario, seed: number): Promise<void> {
  const result = await simulate(accountBalances(), { seed, faults, partitions: 2,
    inputs: inputs.map(record => ({ topic: accountEventsTopic, record })),
    outputs: [accountBalancesTopic], stores: [accountBalancesStore] })
  const balances = result.outputs[accountBalancesTopic]!
  assertValid(stateEqualsFold(result.stores[accountBalancesStore]!, inputs, fold),
    'store = fold of the events', result.trace)
  assertValid(exactlyOnce(balances, appliedOutputs(inputs)),
    'one balance per applied event', result.trace)
  assertValid(perKeyOrder(balances, { sequence: record =>
    (record.value as AccountBalance).version }), 'balances in version order', result.trace)
}

/** Run first every time: both kinds of crash, mid-run, whatever the generated runs draw. */
const bothCrashes: Scenario = {
  inputs: eventInputs(Array.from({ length: 12 }, (_, i): Step => i % 4 === 3
    ? { kind: 'redeliver', account: ACCOUNTS[i % 3]!, back: 1 }
    : { kind: 'event', account: ACCOUNTS[i % 3]!, event: { type: 'deposited', amount: i + 1 } })),
  faults: [{ afterRecords: 3, fault: { kind: 'crash', step: 'after-outputs', loseState: true } },
    { afterRecords: 7, fault: { kind: 'crash', step: 'before-commit', loseState: false } }],
}

const parameters: fc.Parameters<[Scenario, number]> = propertyParameters(6, {
  examples: [[bothCrashes, 1]],
})

describe('account-balances projection with the public test kit', () => {
  it('property: under any fault schedule (crashes with or without state loss, broker restarts, '
    + 'power loss, zombies, rebalances, delayed or duplicated requests), the balances store equals '
    + 'the fold of the events and each applied event is sent once, in version order', async () => {
    await fc.assert(fc.asyncProperty(scenario, fc.nat({ max: 1_000_000 }), holds), parameters)
  })
})
