/**
 * Entry point of the `weir` command. Subcommands so far: `quickstart`. Later issues add `serve`,
 * topic and group administration.
 */
import { parseArgs } from 'node:util'
import { quickstart } from './quickstart.ts'

const usage = `usage: weir <command> [options]

commands:
  quickstart [--dir ./data] [--records 10000] [--batch 500] [--orders 2000]
      on an embedded broker: produce records and consume them as a group, verifying them; then
      run the orders projection topology on generated orders and verify its table
`

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'quickstart') {
    const { values } = parseArgs({ args: [...rest], options: {
      dir: { type: 'string', default: './data' },
      records: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '500' },
      orders: { type: 'string', default: '2000' },
    } })
    const records = Number(values.records)
    const batchRecords = Number(values.batch)
    const orders = Number(values.orders)
    if ([records, batchRecords, orders].some(n => !Number.isSafeInteger(n) || n < 1)) {
      process.stderr.write('--records, --batch and --orders must be positive integers\n')
      return 2
    }
    await quickstart({ dir: values.dir, records, batchRecords, orders,
      log: line => process.stdout.write(`${line}\n`) })
    return 0
  }
  process.stderr.write(usage)
  return command === undefined || command === 'help' ? 0 : 2
}

process.exitCode = await main(process.argv.slice(2))
