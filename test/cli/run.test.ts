/**
 * Goal: `weir run <topology-file>` runs a topology module as documented: it creates the topics
 * the module declares, processes records as they arrive, stops cleanly on SIGTERM (exit 0) and,
 * with --exit-when-caught-up, once its input is processed; the builder named after the file
 * (topologies/*.ts) works as well as `build`; a module without a topology is exit 1.
 * Method: a WeirServer (port 0) in the test process, `weir run`, `produce` and `consume` as child
 * processes against it; the topologies/ module on an embedded broker (--dir).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WeirServer } from '../../src/server/weir-server.ts'
import { spawnWeir, weir, weirOk } from './cli-helpers.ts'

const SHOUT = 'test/cli/fixtures/shout.ts'
let directory: string
let server: WeirServer
let url: string[]

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-cli-run-'))
  server = await WeirServer.start({ dir: join(directory, 'data'), port: 0 })
  url = ['--url', server.url]
})

afterAll(async () => {
  await server?.close()
  await rm(directory, { recursive: true, force: true })
})

const sorted = (text: string): string[] => text.trim().split('\n').sort()

describe('weir run', () => {
  it('creates the module\'s topics, processes records as they come, and stops on SIGTERM; a '
    + 'second run with --exit-when-caught-up continues and exits 0', async () => {
    const stateDir = ['--state-dir', join(directory, 'state')]
    const app = spawnWeir(['run', SHOUT, ...stateDir, ...url])
    try {
      await app.line(/^started app cli-shout \(exactly-once\) .*cli-words → cli-shouts/)
      expect(app.stdout()).toContain('created topics cli-words (2), cli-shouts (2)')
      await weirOk(['produce', 'cli-words', ...url], { input: 'alpha\nbeta\nγάμμα\n' })
      const shouts = await weirOk(['consume', 'cli-shouts', '--from-beginning', '--max', '3',
        ...url])
      expect(sorted(shouts.text)).toEqual(['ALPHA', 'BETA', 'ΓΆΜΜΑ'])
    } finally {
      expect(await app.stop('SIGTERM')).toBe(0)
    }
    expect(app.stdout()).toMatch(/SIGTERM: stopping app cli-shout\nstopped app cli-shout\n$/)

    await weirOk(['produce', 'cli-words', ...url], { input: 'delta\nepsilon\n' })
    const batch = await weirOk(['run', SHOUT, '--exit-when-caught-up', ...stateDir, ...url])
    expect(batch.text).toContain('caught up: every record of cli-words is processed')
    const all = await weirOk(['consume', 'cli-shouts', '--from-beginning', '--to-end', ...url])
    expect(sorted(all.text)).toEqual(['ALPHA', 'BETA', 'DELTA', 'EPSILON', 'ΓΆΜΜΑ'])
  }, 60_000)

  it('runs a topologies/ module by its builder named after the file, and refuses a module '
    + 'without a topology', async () => {
    const dir = ['--dir', join(directory, 'embedded')]
    const [inventory, refused] = await Promise.all([
      weir(['run', 'topologies/inventory.ts', '--app-id', 'cli-inventory', '--partitions', '2',
        '--exit-when-caught-up', ...dir]),
      weir(['run', 'test/cli/fixtures/no-topology.ts', ...url])])
    expect(inventory.code, inventory.stderr).toBe(0)
    expect(inventory.text).toContain('created topics inventory-events (2), stock-levels (2), '
      + 'reservation-rejections (2)')
    expect(inventory.text).toMatch(
      /^started app cli-inventory \(exactly-once\) from topologies\/inventory\.ts \(inventory\)/m)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^weir: WEIR_ERR_STREAMS_TOPOLOGY: .* exports no topology/)
  }, 60_000)
})
