/**
 * Goal (issue 8): a saga timeout that a wall-clock punctuator fires — the pending-transfer
 * saga (topologies/pending-transfer-saga.ts) gives a transfer's money back to the sender when
 * the recipient has not accepted it within `acceptWithinMs`, with no record arriving.
 *
 * Examples, on the TopologyTestDriver (virtual time: wall-clock punctuators fire only when the
 * test moves time) with the account writer's replies scripted: accept → credit → completed;
 * decline → refund → declined; a decision that is neither is ignored; no answer → at the
 * deadline, and not before, refund → expired, and a later accept changes nothing; a decision
 * during the debit waits for its reply; an accept stamped after the deadline counts as the
 * expiry; a refused debit fails; a refused credit is compensated. The crash property with the
 * real writer is in pending-transfer-saga-crash.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Reply } from 'weir'
import { TopologyTestDriver } from 'weir/testing'
import type { AccountRejection, AccountState } from '../../topologies/accounts.ts'
import {
  pendingOutcomesTopic, pendingTransferSaga, type PendingTransferOutcome,
  pendingTransfersTopic, type TransferDecision, transferDecisionsTopic,
} from '../../topologies/pending-transfer-saga.ts'
import {
  accountRepliesTopic, accountRequestsTopic, type TransferRequested,
} from '../../topologies/transfer-saga.ts'

const ACCEPT_WITHIN_MS = 60_000
let driver: TopologyTestDriver | undefined

afterEach(async () => {
  await driver?.close()
  driver = undefined
})

async function start(): Promise<TopologyTestDriver> {
  driver = await TopologyTestDriver.start(pendingTransferSaga({ acceptWithinMs: ACCEPT_WITHIN_MS,
    checkEveryMs: 1_000 }), { startMs: 1_000_000 })
  return driver
}

const transfer = (transferId: string, amount = 10): { key: string,
  value: TransferRequested } => ({ key: transferId, value: { transferId, from: 'a', to: 'b',
  amount } })

const decision = (transferId: string, answer: TransferDecision['decision'],
  timestamp?: number) => ({ key: transferId, value: { transferId, decision: answer },
  ...(timestamp === undefined ? {} : { timestamp }) })

/** The writer's reply to the saga's `step` of `transferId`: appended, or rejected. */
function reply(transferId: string, step: string, rejection?: AccountRejection):
{ key: string, value: Reply<AccountState, AccountRejection> } {
  return { key: transferId, value: { requestId: `pending:${transferId}:${step}`,
    aggregateId: 'x', outcome: rejection === undefined
      ? { kind: 'appended', firstVersion: 1, lastVersion: 1 }
      : { kind: 'rejected', rejection } } }
}

/** The requests sent since the last call: `<request id> <command> <account>`. */
async function requests(d: TopologyTestDriver): Promise<string[]> {
  const sent = await d.readOutput<string, { requestId: string, body: { command: {
    type: string } } }>(accountRequestsTopic)
  return sent.map(r => `${r.value.requestId} ${r.value.body.command.type} ${r.key}`)
}

async function outcomes(d: TopologyTestDriver): Promise<string[]> {
  return (await d.readOutput<string, PendingTransferOutcome>(pendingOutcomesTopic))
    .map(r => `${r.value.transferId} ${r.value.outcome}`)
}

describe('the pending-transfer saga', () => {
  it('credits an accepted transfer and refunds a declined one; ignores a decision that is '
    + 'neither', async () => {
    const d = await start()
    await d.pipeInput(pendingTransfersTopic, [transfer('t1'), transfer('t2')])
    expect(await requests(d)).toEqual(['pending:t1:debit withdraw a',
      'pending:t2:debit withdraw a'])
    await d.pipeInput(accountRepliesTopic, [reply('t1', 'debit'), reply('t2', 'debit')])
    expect(await requests(d)).toEqual([])
    // Neither answer: ignored, so the decline below still decides t2.
    await d.pipeInput(transferDecisionsTopic, [{ key: 't2', value: { transferId: 't2',
      decision: 'maybe' } }])
    expect(await requests(d)).toEqual([])
    await d.pipeInput(transferDecisionsTopic, [decision('t1', 'accept'),
      decision('t2', 'decline')])
    expect(await requests(d)).toEqual(['pending:t1:credit deposit b',
      'pending:t2:refund refund a'])
    await d.pipeInput(accountRepliesTopic, [reply('t1', 'credit'), reply('t2', 'refund')])
    expect(await outcomes(d)).toEqual(['t1 completed', 't2 declined'])
  })

  it('expires an unanswered transfer at its deadline by the wall-clock punctuator, not before, '
    + 'and ignores an accept that comes after', async () => {
    const d = await start()
    await d.pipeInput(pendingTransfersTopic, [transfer('t3')])
    await d.pipeInput(accountRepliesTopic, [reply('t3', 'debit')])
    await requests(d)
    await d.advanceTime(ACCEPT_WITHIN_MS - 1_000)
    expect(await requests(d)).toEqual([])
    await d.advanceTime(1_000)
    expect(await requests(d)).toEqual(['pending:t3:refund refund a'])
    await d.pipeInput(transferDecisionsTopic, [decision('t3', 'accept')])
    await d.pipeInput(accountRepliesTopic, [reply('t3', 'refund')])
    expect(await requests(d)).toEqual([])
    expect(await outcomes(d)).toEqual(['t3 expired'])
    expect((await d.store<{ status: string }>('pending-transfer-sagas').get('t3'))?.status)
      .toBe('expired')
  })

  it('keeps a decision made during the debit until its reply; an accept stamped after the '
    + 'deadline is the expiry', async () => {
    const d = await start()
    await d.pipeInput(pendingTransfersTopic, [transfer('t4'), transfer('t5')])
    await d.pipeInput(transferDecisionsTopic, [decision('t4', 'accept'),
      decision('t5', 'accept', d.nowMs + ACCEPT_WITHIN_MS + 1)])
    expect(await requests(d)).toEqual(['pending:t4:debit withdraw a',
      'pending:t5:debit withdraw a'])
    await d.pipeInput(accountRepliesTopic, [reply('t4', 'debit'), reply('t5', 'debit')])
    expect(await requests(d)).toEqual(['pending:t4:credit deposit b',
      'pending:t5:refund refund a'])
    await d.pipeInput(accountRepliesTopic, [reply('t4', 'credit'), reply('t5', 'refund')])
    expect(await outcomes(d)).toEqual(['t4 completed', 't5 expired'])
  })

  it('fails a transfer whose debit is refused and compensates one whose credit is refused; '
    + 'an invalid one fails at once', async () => {
    const d = await start()
    await d.pipeInput(pendingTransfersTopic, [transfer('t6'), transfer('t7'),
      { key: 't8', value: { transferId: 't8', from: 'a', to: 'a', amount: 5 } }])
    await d.pipeInput(accountRepliesTopic, [reply('t6', 'debit', 'insufficient-funds'),
      reply('t7', 'debit')])
    await d.pipeInput(transferDecisionsTopic, [decision('t6', 'accept'), decision('t7', 'accept')])
    await d.pipeInput(accountRepliesTopic, [reply('t7', 'credit', 'account-closed')])
    await d.pipeInput(accountRepliesTopic, [reply('t7', 'refund')])
    expect(await requests(d)).toEqual(['pending:t6:debit withdraw a',
      'pending:t7:debit withdraw a', 'pending:t7:credit deposit b',
      'pending:t7:refund refund a'])
    expect((await outcomes(d)).sort()).toEqual(['t6 failed', 't7 compensated', 't8 failed'])
  })
})
