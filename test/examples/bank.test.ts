/**
 * Goal: the event-sourced bank example (examples/bank) works end to end over HTTP: commands go
 * through the account aggregate's single writer, transfers through the saga, and the read
 * models (balances projection, transfers read model) answer what happened, also after a
 * restart on the same directory.
 *
 * Examples: deposits, then a transfer that completes, one that fails for insufficient funds and
 * one to a closed account that is compensated (money back), a repeated transferId that moves
 * nothing twice, and a transfer without id; the balances read back equal the expected ones.
 * Errors: a rejection is 422 WEIR_ERR_ES_REJECTED with the aggregate's reason and writes
 * nothing; a malformed body is 400 WEIR_ERR_SERVER_BODY_MALFORMED; unknown ids are 404.
 * Restart: closing the bank and starting it again on its directory keeps balances and outcomes,
 * and new commands and transfers work; so does a run of main.ts after one killed with SIGKILL
 * (its fixed instanceIds fence whatever the killed run left open), and SIGTERM closes main.ts
 * cleanly (exit code 0).
 * Property: random deposits and withdrawals over HTTP are accepted or rejected as the model
 * says, and the projected balance ends equal to the model's, never negative.
 *
 * Method: `startBank` on a temp dir (real embedded broker, real fsync), HTTP on 127.0.0.1:0
 * with global fetch, no mocks; main.ts as a real child process (node --import tsx). The read
 * models are eventually consistent, so reads poll until they show the expected version or
 * status, a bounded number of times; nothing asserts on durations.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fc, test } from '@fast-check/vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Bank, startBank } from '../../examples/bank/bank.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { quickApp } from '../helpers/topology-runner.ts'

type Json = Record<string, unknown>
interface Answer { readonly status: number, readonly body: Json }

async function call(bank: Pick<Bank, 'url'>, method: 'GET' | 'POST', path: string, body?: unknown):
Promise<Answer> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  const response = await fetch(`${bank.url}${path}`, { method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: raw }) })
  return { status: response.status, body: await response.json() as Json }
}

const POLLS_MAX = 500
const POLL_MS = 20

/** Reads until `done` holds, at most POLLS_MAX times (the read models lag the writer). */
async function until(read: () => Promise<Answer>, done: (answer: Answer) => boolean):
Promise<Answer> {
  for (let poll = 1; ; poll++) {
    const answer = await read()
    if (done(answer) || poll >= POLLS_MAX) return answer
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
}

/** The transfer's view once it ended (200), or the last one seen. */
const outcomeOf = (bank: Pick<Bank, 'url'>, transferId: string) =>
  until(() => call(bank, 'GET', `/transfers/${transferId}`), answer => answer.status === 200)

/** The projected account once it shows `version`, or the last one seen. */
const projected = (bank: Pick<Bank, 'url'>, accountId: string, version: number) =>
  until(() => call(bank, 'GET', `/accounts/${accountId}`),
    answer => answer.status === 200 && answer.body.version === version)

const deposit = (bank: Pick<Bank, 'url'>, accountId: string, amount: number) =>
  call(bank, 'POST', `/accounts/${accountId}/deposits`, { amount })
const transfer = (bank: Pick<Bank, 'url'>, body: Json) => call(bank, 'POST', '/transfers', body)

async function temporaryDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'weir-bank-'))
}

const start = (dir: string) => startBank({ dir, partitions: 2, start: quickApp })

describe('the bank example', () => {
  let dir: string
  let bank: Bank

  beforeAll(async () => {
    dir = await temporaryDir()
    bank = await start(dir)
  })

  afterAll(async () => {
    await bank?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('completes a transfer, fails one for insufficient funds, compensates one to a closed '
    + 'account, and the projected balances add up', async () => {
    expect(await deposit(bank, 'alice', 100)).toEqual({ status: 200,
      body: { accountId: 'alice', version: 1 } })
    expect((await deposit(bank, 'bob', 50)).status).toBe(200)
    expect((await deposit(bank, 'carol', 10)).status).toBe(200)
    expect(await call(bank, 'POST', '/accounts/carol/close')).toEqual({ status: 200,
      body: { accountId: 'carol', version: 2 } })

    const t1 = { transferId: 't1', from: 'alice', to: 'bob', amount: 30 }
    expect(await transfer(bank, t1)).toEqual({ status: 202, body: { transferId: 't1' } })
    // The same id again: accepted, and the saga runs the first request only.
    expect(await transfer(bank, t1)).toEqual({ status: 202, body: { transferId: 't1' } })
    await transfer(bank, { transferId: 't2', from: 'bob', to: 'alice', amount: 500 })
    await transfer(bank, { transferId: 't3', from: 'alice', to: 'carol', amount: 20 })
    const unnamed = await transfer(bank, { from: 'bob', to: 'alice', amount: 5 })
    expect(unnamed.status).toBe(202)
    expect(unnamed.body.transferId).toMatch(/^[0-9a-f-]{36}$/)

    expect((await outcomeOf(bank, 't1')).body).toEqual({ ...t1, status: 'completed' })
    expect((await outcomeOf(bank, 't2')).body).toEqual({ transferId: 't2', from: 'bob',
      to: 'alice', amount: 500, status: 'failed', reason: 'insufficient-funds' })
    expect((await outcomeOf(bank, 't3')).body).toEqual({ transferId: 't3', from: 'alice',
      to: 'carol', amount: 20, status: 'compensated', reason: 'account-closed' })
    expect((await outcomeOf(bank, String(unnamed.body.transferId))).body)
      .toMatchObject({ status: 'completed' })

    // alice: deposit, t1 debit, t3 debit, t3 refund, credit of the unnamed transfer.
    expect((await projected(bank, 'alice', 5)).body).toEqual({ accountId: 'alice',
      balance: 75, closed: false, version: 5, source: 'projection' })
    expect((await projected(bank, 'bob', 3)).body).toMatchObject({ balance: 75, version: 3 })
    expect((await projected(bank, 'carol', 2)).body).toMatchObject({ balance: 10,
      closed: true })
    expect((await call(bank, 'GET', '/accounts/alice?consistent=true')).body).toEqual({
      accountId: 'alice', balance: 75, closed: false, version: 5, source: 'aggregate' })
  }, 30_000)

  it('answers a rejection with 422 and its reason, a malformed body with 400, an unknown id '
    + 'with 404', async () => {
    await deposit(bank, 'dave', 10)
    await call(bank, 'POST', '/accounts/erin/close')
    const rejected = await call(bank, 'POST', '/accounts/dave/withdrawals', { amount: 11 })
    expect(rejected).toMatchObject({ status: 422,
      body: { code: 'WEIR_ERR_ES_REJECTED', rejection: 'insufficient-funds' } })
    expect(await deposit(bank, 'erin', 5)).toMatchObject({ status: 422,
      body: { code: 'WEIR_ERR_ES_REJECTED', rejection: 'account-closed' } })
    // Rejections write nothing: dave is still at its deposit.
    expect((await call(bank, 'GET', '/accounts/dave?consistent=true')).body)
      .toMatchObject({ balance: 10, version: 1 })

    const malformed: Array<[string, unknown]> = [
      ['/accounts/dave/deposits', { amount: '10' }], ['/accounts/dave/deposits', { amount: 0 }],
      ['/accounts/dave/withdrawals', { amount: 1.5 }], ['/accounts/dave/deposits', {}],
      ['/accounts/dave/deposits', { amount: 1, extra: true }], ['/accounts/dave/deposits', '{'],
      ['/accounts/no%20spaces/deposits', { amount: 1 }],
      ['/transfers', { from: 'dave', to: 'dave', amount: 1 }],
      ['/transfers', { from: 'dave', amount: 1 }]]
    for (const [path, body] of malformed) {
      const answer = await call(bank, 'POST', path, body)
      expect(answer, `${path} ${JSON.stringify(body)}`).toMatchObject({ status: 400,
        body: { code: 'WEIR_ERR_SERVER_BODY_MALFORMED' } })
    }
    expect((await call(bank, 'GET', '/accounts/dave?consistent=true')).body)
      .toMatchObject({ balance: 10, version: 1 })

    expect(await call(bank, 'GET', '/accounts/nobody')).toMatchObject({ status: 404,
      body: { code: 'BANK_ERR_ACCOUNT_NOT_FOUND' } })
    expect(await call(bank, 'GET', '/accounts/nobody?consistent=true')).toMatchObject({
      status: 404, body: { code: 'BANK_ERR_ACCOUNT_NOT_FOUND' } })
    expect(await call(bank, 'GET', '/transfers/none')).toMatchObject({ status: 404,
      body: { code: 'BANK_ERR_TRANSFER_NOT_FOUND' } })
    expect(await call(bank, 'GET', '/nothing')).toMatchObject({ status: 404,
      body: { code: 'WEIR_ERR_SERVER_NOT_FOUND' } })
  }, 30_000)

  const command = fc.record({
    type: fc.constantFrom('deposits', 'withdrawals') as fc.Arbitrary<'deposits' | 'withdrawals'>,
    amount: fc.integer({ min: 1, max: 60 }) })
  let runs = 0

  test.prop([fc.array(command, { minLength: 1, maxLength: 12 })], { numRuns: numRuns(15) })(
    'random deposits and withdrawals are accepted or rejected as the model says, and the '
    + 'projected balance ends equal to the model, never negative',
    async commands => {
      const accountId = `model-${++runs}`
      let balance = 0
      let version = 0
      for (const { type, amount } of commands) {
        const answer = await call(bank, 'POST', `/accounts/${accountId}/${type}`, { amount })
        if (type === 'withdrawals' && amount > balance) {
          expect(answer).toMatchObject({ status: 422, body: { rejection: 'insufficient-funds' } })
          continue
        }
        balance += type === 'deposits' ? amount : -amount
        expect(answer).toEqual({ status: 200, body: { accountId, version: ++version } })
      }
      if (version === 0) {
        expect((await call(bank, 'GET', `/accounts/${accountId}?consistent=true`)).status)
          .toBe(404)
        return
      }
      const seen = await projected(bank, accountId, version)
      expect(seen.body).toMatchObject({ balance, version })
      expect(seen.body.balance).toBeGreaterThanOrEqual(0)
    }, 40_000)
})

describe('the bank example, restarted', () => {
  it('keeps balances and transfer outcomes across a restart on the same directory, and takes '
    + 'new commands', async () => {
    const dir = await temporaryDir()
    try {
      const first = await start(dir)
      try {
        await deposit(first, 'alice', 100)
        await transfer(first, { transferId: 'r1', from: 'alice', to: 'bob', amount: 40 })
        expect((await outcomeOf(first, 'r1')).body).toMatchObject({ status: 'completed' })
        expect((await projected(first, 'alice', 2)).body).toMatchObject({ balance: 60 })
        expect((await projected(first, 'bob', 1)).body).toMatchObject({ balance: 40 })
      } finally {
        await first.close()
      }

      const second = await start(dir)
      try {
        expect((await projected(second, 'alice', 2)).body).toMatchObject({ balance: 60 })
        expect((await projected(second, 'bob', 1)).body).toMatchObject({ balance: 40 })
        expect((await outcomeOf(second, 'r1')).body).toMatchObject({ status: 'completed' })
        expect(await deposit(second, 'alice', 5)).toEqual({ status: 200,
          body: { accountId: 'alice', version: 3 } })
        await transfer(second, { transferId: 'r2', from: 'bob', to: 'alice', amount: 10 })
        expect((await outcomeOf(second, 'r2')).body).toMatchObject({ status: 'completed' })
        expect((await projected(second, 'alice', 4)).body).toMatchObject({ balance: 75 })
        expect((await projected(second, 'bob', 2)).body).toMatchObject({ balance: 30 })
      } finally {
        await second.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 40_000)
})

const mainPath = resolve(import.meta.dirname, '../../examples/bank/main.ts')

/** Starts examples/bank/main.ts on `dir` and waits for the URL it prints. */
async function runMain(dir: string): Promise<{ child: ChildProcess, url: string,
  output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainPath, dir, '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const url = await new Promise<string>((resolveUrl, rejectUrl) => {
    const found = () => /listening on (http:\/\/[0-9.:]+)/.exec(output)?.[1]
    child.stdout!.on('data', () => {
      const match = found()
      if (match !== undefined) resolveUrl(match)
    })
    child.once('exit', code => rejectUrl(new Error(`main.ts exited (${code}): ${output}`)))
  })
  return { child, url, output: () => output }
}

describe('the bank example, run from main.ts', () => {
  it('after a run is killed with SIGKILL, the next run on its directory (same instanceIds) '
    + 'keeps its data and takes new commands; SIGTERM closes cleanly', async () => {
    const dir = await temporaryDir()
    const children: ChildProcess[] = []
    try {
      const killed = await runMain(dir)
      children.push(killed.child)
      await deposit(killed, 'alice', 100)
      await transfer(killed, { transferId: 'k1', from: 'alice', to: 'bob', amount: 10 })
      expect((await outcomeOf(killed, 'k1')).body).toMatchObject({ status: 'completed' })
      const exited = once(killed.child, 'exit')
      killed.child.kill('SIGKILL')
      await exited

      const next = await runMain(dir)
      children.push(next.child)
      expect((await call(next, 'GET', '/accounts/alice?consistent=true')).body)
        .toMatchObject({ balance: 90, version: 2 })
      expect(await deposit(next, 'alice', 1)).toEqual({ status: 200,
        body: { accountId: 'alice', version: 3 } })
      expect((await outcomeOf(next, 'k1')).body).toMatchObject({ status: 'completed' })
      expect((await projected(next, 'alice', 3)).body).toMatchObject({ balance: 91 })
      const [code] = await Promise.all([once(next.child, 'exit'),
        Promise.resolve(next.child.kill('SIGTERM'))])
      expect(code, next.output()).toEqual([0, null])
      expect(next.output()).toContain('SIGTERM: closing the bank')
    } finally {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
