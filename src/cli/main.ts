/**
 * Entry point of the `weir` command. Subcommands so far: `quickstart`. Later issues add `serve`,
 * topic and group administration.
 */
import { parseArgs } from 'node:util'
import { quickstart } from './quickstart.ts'

const usage = `usage: weir <command> [options]

commands:
  quickstart [--dir ./data] [--records 10000] [--batch 500]
      append records to an embedded partition log, read them back and verify them
`

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'quickstart') {
    const { values } = parseArgs({ args: [...rest], options: {
      dir: { type: 'string', default: './data' },
      records: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '500' },
    } })
    const records = Number(values.records)
    const batchRecords = Number(values.batch)
    if (!Number.isSafeInteger(records) || records < 1 || !Number.isSafeInteger(batchRecords)
      || batchRecords < 1) {
      process.stderr.write('--records and --batch must be positive integers\n')
      return 2
    }
    await quickstart({ dir: values.dir, records, batchRecords,
      log: line => process.stdout.write(`${line}\n`) })
    return 0
  }
  process.stderr.write(usage)
  return command === undefined || command === 'help' ? 0 : 2
}

process.exitCode = await main(process.argv.slice(2))
