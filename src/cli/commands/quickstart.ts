/**
 * `weir quickstart`: the embedded end-to-end check that was `npm start` before `weir serve`
 * (src/cli/quickstart.ts does the work). It takes the data directory's lock like every command
 * that opens a directory.
 */
import { type Command, EXIT_OK } from '../command.ts'
import { lockDirectory } from '../dir-lock.ts'

export const quickstart: Command = {
  name: 'quickstart',
  summary: 'produce, consume and verify on an embedded broker; then the orders projection',
  help: `usage: weir quickstart [--dir ./data] [--records 10000] [--batch 500] [--orders 2000]

On an embedded broker in --dir: creates the topic quickstart (3 partitions), produces --records
records (in sends of --batch) with an idempotent producer, consumes and verifies them as the
group quickstart-verify; then runs the orders projection topology on --orders generated orders
and verifies its table against a fold of the events. Running it again continues. The last line
is a JSON summary; a mismatch is an error (exit 1).
`,
  options: { dir: { type: 'string' }, records: { type: 'string' }, batch: { type: 'string' },
    orders: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  run: async args => {
    const dir = args.string('dir') ?? './data'
    const records = args.integer('records', { min: 1 }, 10_000)
    const batchRecords = args.integer('batch', { min: 1 }, 500)
    const orders = args.integer('orders', { min: 1 }, 2_000)
    const { quickstart: runQuickstart } = await import('../quickstart.ts')
    const unlock = await lockDirectory(dir)
    try {
      await runQuickstart({ dir, records, batchRecords, orders,
        log: line => process.stdout.write(`${line}\n`) })
    } finally {
      await unlock()
    }
    return EXIT_OK
  },
}
