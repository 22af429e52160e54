/**
 * Goal: the orders-projection example runs end to end and a second run on the same directory
 * continues where the first stopped. Method: run it as a child process through tsx, twice on one
 * temp dir, and check the printed table and summary line: every generated order is counted once
 * (open + shipped + cancelled = orders placed), and the second run counts both runs' orders.
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

const summaryLine = /^(\d+) customers, (\d+) orders: (\d+) open, (\d+) shipped, (\d+) cancelled; /m

async function runExample(dir: string, orders: number): Promise<{ stdout: string,
  customers: number, orders: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx',
    join(root, 'examples/orders-projection.ts'), dir, String(orders)], { cwd: root })
  const match = summaryLine.exec(stdout)
  expect(match, stdout).not.toBeNull()
  const [customers, placed, open, shipped, cancelled] = match!.slice(1).map(Number)
  expect(open! + shipped! + cancelled!).toBe(placed)
  return { stdout, customers: customers!, orders: placed! }
}

it('the orders-projection example prints the per-customer table, and a second run adds its '
  + 'orders to it', async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-orders-example-'))
  const first = await runExample(directory, 200)
  expect(first.orders).toBe(200)
  expect(first.customers).toBeGreaterThan(1)
  const lines = first.stdout.split('\n')
  const header = lines.findIndex(line => line.startsWith('customer '))
  expect(lines[header]).toMatch(/^customer +orders +open +shipped +cancelled +spent +last order$/)
  expect(lines.slice(header + 1, header + 3).every(line => line.startsWith('customer-')))
    .toBe(true)
  const produced = Number(/^produced (\d+) events/m.exec(first.stdout)![1])

  const second = await runExample(directory, 150)
  expect(second.orders).toBe(350)
  expect(second.stdout).toContain(`(${produced} events from earlier runs)`)
}, 120_000)
