/**
 * Goal: `weir quickstart` (the embedded end-to-end check; `npm start` is `weir serve
 * --with-examples` now, tested in serve.test.ts) and the example scripts keep working.
 * Method: run them as real child processes through the `weir` bin and tsx on a temp dir,
 * twice for the quickstart (the second run must find the first run's records and append after,
 * and its streams app must fold the new order events into the first run's table; the quickstart
 * itself checks the table against a fold of every event and fails otherwise).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, expect, it } from 'vitest'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
let directory: string | undefined

afterEach(async () => {
  if (directory !== undefined) await rm(directory, { recursive: true, force: true })
})

interface QuickstartSummary {
  readonly logEndOffsets: number[]
  readonly projection: { producedEvents: number, totalEvents: number, customers: number }
}

function summaryOf(stdout: string): QuickstartSummary {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as QuickstartSummary
}

it('weir quickstart produces, consumes and verifies records as a group, runs the orders '
  + 'projection and verifies its table, and a second run continues from the committed offsets '
  + 'and the app\'s state',
  async () => {
    directory = await mkdtemp(join(tmpdir(), 'weir-quickstart-'))
    const args = [join(root, 'bin/weir.js'), 'quickstart', '--dir', directory, '--records', '1500',
      '--orders', '300']
    const first = await run(process.execPath, args, { cwd: root })
    expect(first.stdout).toContain('consumed and verified 1500 records as group quickstart-verify;'
      + ' lag now 0')
    expect(first.stdout).toContain('created topics order-events, customer-summaries')
    expect(first.stdout).toMatch(/^started streams app quickstart-orders \(exactly-once\)/m)
    expect(first.stdout).toMatch(/^ {2}customer +orders +open +shipped +cancelled +spent/m)
    const firstSummary = summaryOf(first.stdout)
    expect(firstSummary.projection.totalEvents).toBe(firstSummary.projection.producedEvents)
    expect(first.stdout).toContain(`verified all ${firstSummary.projection.customers} customer `
      + `summaries against a fold of the ${firstSummary.projection.totalEvents} events`)

    const second = await run(process.execPath, args, { cwd: root })
    expect(second.stdout).toContain('consumed and verified 1500 records as group quickstart-verify;'
      + ' lag now 0')
    expect(second.stdout).not.toContain('created topics')
    const summary = summaryOf(second.stdout)
    expect(summary.logEndOffsets.reduce((a, b) => a + b, 0)).toBe(3000)
    expect(summary.projection.totalEvents).toBe(firstSummary.projection.producedEvents
      + summary.projection.producedEvents)
    expect(second.stdout).toContain(`${firstSummary.projection.producedEvents} were there from `
      + 'earlier runs')
    expect(second.stdout).toContain(`verified all ${summary.projection.customers} customer `
      + `summaries against a fold of the ${summary.projection.totalEvents} events`)
  }, 90_000)

it('the partition-log example compacts to the latest value per key', async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-example-'))
  const { stdout } = await run(process.execPath,
    ['--import', 'tsx', join(root, 'examples/partition-log.ts'), directory], { cwd: root })
  expect(stdout).toContain('first record at or after minute 3: offset 6')
  const lines = stdout.trim().split('\n')
  const afterCompaction = lines.slice(lines.findIndex(l => l.startsWith('compaction rewrote')) + 1)
  expect(afterCompaction.slice(0, 2)).toEqual([
    '8 {"user":"alice","balance":40}', '9 {"user":"bob","balance":40}'])
}, 60_000)

it('the client example produces, consumes as a group through observe() and ends with no lag',
  async () => {
    directory = await mkdtemp(join(tmpdir(), 'weir-client-example-'))
    const { stdout } = await run(process.execPath,
      ['--import', 'tsx', join(root, 'examples/client.ts'), directory], { cwd: root })
    const consumed = stdout.split('\n').filter(line => line.startsWith('partition '))
    expect(consumed).toHaveLength(4)
    expect(consumed.filter(line => line.includes('alice'))).toHaveLength(2)
    expect(stdout).toContain('total lag after commit: 0')
  }, 60_000)

it('the transactions example copies each record once: the aborted attempt is never read',
  async () => {
    directory = await mkdtemp(join(tmpdir(), 'weir-txn-example-'))
    const { stdout } = await run(process.execPath,
      ['--import', 'tsx', join(root, 'examples/transactions.ts'), directory], { cwd: root })
    expect(stdout).toContain('aborted: simulated failure after sending')
    expect(stdout.split('\n').filter(line => line.startsWith('copy: '))).toEqual([
      'copy: {"id":"o1"}', 'copy: {"id":"o2"}', 'copy: {"id":"o3"}'])
    expect(stdout).toContain('copier committed offset: 3')
  }, 60_000)
