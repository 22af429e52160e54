/**
 * Goal: `weir projection rebuild <topology-file>` rebuilds a projection as documented: on an
 * embedded broker (--dir) it resets the app, deletes its changelog and local state, replays
 * every input record with progress lines and exits 0, leaving the read model a fresh run of the
 * events gives; against a server (--url) it refuses while the app runs (exit 1,
 * NON_EMPTY_GROUP, nothing changed) and rebuilds once it is stopped.
 * Method: `weir run` and `weir projection rebuild` as child processes on topologies/
 * account-balances.ts; events written in-process (--dir) or with `weir produce` (--url); the
 * read model read back by starting the app in-process on the same state directory.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StoredEvent, Weir } from '../../src/index.ts'
import { WeirServer } from '../../src/server/weir-server.ts'
import {
  type AccountBalance, accountBalances, accountBalancesStore, accountBalancesTopics,
  type AccountEvent, accountEventsTopic,
} from '../../topologies/account-balances.ts'
import { balanceChange } from '../../topologies/accounts.ts'
import { quickStart } from '../helpers/streams-fixtures.ts'
import { spawnWeir, weir, weirOk } from './cli-helpers.ts'

const MODULE = 'topologies/account-balances.ts'
let directory: string

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-cli-projection-'))
})

afterAll(async () => {
  await rm(directory, { recursive: true, force: true })
})

/** 20 events over 3 accounts, with the 5th event delivered twice (ignored the second time). */
function events(): Array<{ key: string, stored: StoredEvent<AccountEvent> }> {
  const versions = new Map<string, number>()
  const out = Array.from({ length: 20 }, (_, i) => {
    const key = `acc-${i % 3}`
    const version = (versions.get(key) ?? 0) + 1
    versions.set(key, version)
    const event: AccountEvent = i % 4 === 3 ? { type: 'withdrawn', amount: i }
      : { type: 'deposited', amount: 10 * i }
    return { key, stored: { version, event, requestId: `r${i}` } }
  })
  return [...out, out[4]!]
}

/** Balances and versions per account of `events()`, by key. */
function expected(): Array<[string, number, number]> {
  const rows = new Map<string, [string, number, number]>()
  for (const { key, stored } of events()) {
    const [, balance, version] = rows.get(key) ?? [key, 0, 0]
    if (stored.version <= version) continue
    rows.set(key, [key, balance + balanceChange(stored.event), stored.version])
  }
  return [...rows.values()].sort((a, b) => a[0].localeCompare(b[0]))
}

/** The read model in `stateDir` (restored from it and the changelog): [key, balance, version]. */
async function readModel(weirClient: Weir, stateDir: string):
Promise<Array<[string, number, number]>> {
  const app = await accountBalances().start({ weir: weirClient, stateDir, ...quickStart })
  try {
    await app.caughtUp({ timeoutMs: 20_000 })
    return (await app.query<AccountBalance>(accountBalancesStore).all())
      .map(({ key, value }) => [key, value.balance, value.version])
  } finally {
    await app.close()
  }
}

describe('weir projection rebuild', () => {
  it('on an embedded broker resets the app, deletes its changelog and state, replays every '
    + 'record with progress and leaves the modelled read model', async () => {
    const data = join(directory, 'data')
    const setup = await Weir.open({ dir: data })
    await setup.admin().createTopics(accountBalancesTopics(2))
    const producer = setup.producer()
    await producer.send({ topic: accountEventsTopic, messages: events().map(({ key, stored }) =>
      ({ key, value: JSON.stringify(stored) })) })
    await producer.close()
    await setup.close()

    await weirOk(['run', MODULE, '--exit-when-caught-up', '--dir', data])
    const rebuilt = await weirOk(['projection', 'rebuild', MODULE, '--dir', data,
      '--progress-ms', '10'])
    const lines = rebuilt.text.trim().split('\n')
    expect(lines[0]).toBe(`rebuilding projection account-balances from ${MODULE} `
      + '(accountBalances)')
    expect(lines).toContain('reset group account-balances to the beginning of account-events')
    expect(lines).toContain('deleted internal topics: '
      + 'account-balances-account-balances-changelog')
    expect(lines).toContain(`deleted local state ${join(data, 'streams', 'account-balances')}`)
    expect(lines).toContain('replaying 21 records of account-events')
    expect(lines).toContain('replayed 21/21 records (100%)')
    expect(lines.at(-1)).toMatch(new RegExp('^rebuilt projection account-balances: 21 records '
      + 'in \\d+ ms; stores: account-balances \\(3 entries\\)$'))

    const check = await Weir.open({ dir: data })
    try {
      expect(await readModel(check, join(data, 'streams'))).toEqual(expected())
    } finally {
      await check.close()
    }
  }, 40_000)

  it('against a server refuses while the app runs (NON_EMPTY_GROUP, exit 1) and rebuilds once '
    + 'it is stopped', async () => {
    const server = await WeirServer.start({ dir: join(directory, 'server'), port: 0 })
    const url = ['--url', server.url]
    const stateDir = ['--state-dir', join(directory, 'server-state')]
    try {
      await weirOk(['topics', 'create', accountEventsTopic, '--partitions', '2', ...url])
      await weirOk(['produce', accountEventsTopic, '--key-separator', '|', ...url], {
        input: events().map(({ key, stored }) => `${key}|${JSON.stringify(stored)}\n`).join('') })
      const app = spawnWeir(['run', MODULE, '--progress-ms', '50', ...stateDir, ...url])
      try {
        // Caught up with its tasks assigned: its group has a member.
        await app.line(/^lag 0 on 2 input partitions; tasks 0_0 0_1$/)
        const refused = await weir(['projection', 'rebuild', MODULE, ...stateDir, ...url])
        expect(refused.code).toBe(1)
        expect(refused.stderr).toMatch(/^weir: NON_EMPTY_GROUP: App account-balances is running/)
      } finally {
        expect(await app.stop('SIGTERM')).toBe(0)
      }
      const rebuilt = await weirOk(['projection', 'rebuild', MODULE, ...stateDir, ...url])
      expect(rebuilt.text).toContain('replaying 21 records of account-events')
      expect(rebuilt.text).toMatch(/stores: account-balances \(3 entries\)\n$/)
      const client = await Weir.connect(server.url)
      try {
        expect(await readModel(client, join(directory, 'server-state'))).toEqual(expected())
      } finally {
        await client.close()
      }
    } finally {
      await server.close()
    }
  }, 40_000)
})
