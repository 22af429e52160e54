/**
 * `weir serve`: a Weir server (src/server/weir-server.ts) on a data directory until SIGINT or
 * SIGTERM, which close it gracefully (requests in flight finish, the broker flushes and closes)
 * and exit 0. It prints its URL, /health and /metrics first (`--json`: one JSON line
 * `{ url, health, metrics, dir }`). With `--with-examples` (`npm start`) the example topologies
 * run in the same process on its broker (examples.ts), and it prints where to look.
 */
import { join, resolve } from 'node:path'
import {
  type Command, EXIT_OK, firstSignal, type Parsed, parseInteger, UsageError, writeOut,
} from '../command.ts'
import { KAFKA_PORT_DEFAULT } from '../../server/kafka/kafka-port.ts'
import { DEFAULT_URL } from '../connection.ts'
import { lockDirectory } from '../dir-lock.ts'

const DEFAULT_PORT = 8092

export const serve: Command = {
  name: 'serve',
  summary: 'run a server on a data directory (npm start: with the example topologies)',
  help: `usage: weir serve [--dir ./data] [--port 8092] [--host 127.0.0.1] [--token T]
                   [--kafka-port 9092] [--auto-create-topics [--default-partitions N]]
                   [--max-request-bytes N] [--max-batch-records N]
                   [--max-connections N] [--with-examples] [--json]

Runs a server until Ctrl-C or SIGTERM, which close it cleanly (exit 0). Clients reach it with
Weir.connect(url) or weir <command> --url URL.

  --dir PATH               data directory (default ./data; created if missing)
  --port N                 port (default ${DEFAULT_PORT}; 0 picks a free one, printed)
  --host H                 interface to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --token T                require Authorization: Bearer T on every endpoint but /health
                           (default $WEIR_TOKEN)
  --kafka-port N           also speak the Kafka protocol on this port, for Kafka clients
                           and tools (default ${KAFKA_PORT_DEFAULT}; 0 = off; off by default
                           with a token: the Kafka listener has no authentication)
  --auto-create-topics     create a topic on its first produce, fetch or Kafka Metadata
                           request instead of refusing with UNKNOWN_TOPIC (Kafka's
                           auto.create.topics.enable); default off
  --default-partitions N   partitions of auto-created topics (default 1, as Kafka)
  --max-request-bytes N    largest request body (default 8 MiB)
  --max-batch-records N    most records in one produced batch (default 100000)
  --max-connections N      most open connections (default 1024)
  --with-examples          also run the example topologies (orders projection, inventory) fed
                           a few generated events a second, and print where to look
  --json                   print the addresses as one JSON line { url, health, metrics, dir }
`,
  options: { 'dir': { type: 'string' }, 'port': { type: 'string' }, 'host': { type: 'string' },
    'token': { type: 'string' }, 'kafka-port': { type: 'string' },
    'auto-create-topics': { type: 'boolean' }, 'default-partitions': { type: 'string' },
    'max-request-bytes': { type: 'string' },
    'max-batch-records': { type: 'string' }, 'max-connections': { type: 'string' },
    'with-examples': { type: 'boolean' }, 'json': { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  run: async args => {
    const dir = args.string('dir') ?? './data'
    const port = parseInteger(args.string('port') ?? String(DEFAULT_PORT), '--port',
      { min: 0, max: 65_535 })
    const limits = limitsOf(args)
    const broker = brokerOf(args)
    const envToken = process.env.WEIR_TOKEN
    const token = args.string('token') ?? (envToken === '' ? undefined : envToken)
    const kafkaPort = parseInteger(args.string('kafka-port')
      ?? String(token === undefined ? KAFKA_PORT_DEFAULT : 0), '--kafka-port',
    { min: 0, max: 65_535 })
    const { WeirServer } = await import('../../server/weir-server.ts')
    const unlock = await lockDirectory(dir)
    // Signals from here on stop the server cleanly, even one arriving while it starts.
    const signals = firstSignal(signal => process.stdout.write(`${signal}: closing the server\n`))
    try {
      const server = await WeirServer.start({ dir, port, limits, broker,
        ...(kafkaPort === 0 ? {} : { kafkaPort }),
        ...(args.string('host') === undefined ? {} : { host: args.string('host') }),
        ...(token === undefined ? {} : { token }) })
      let examples: { close(): Promise<void> } | undefined
      try {
        await printAddresses(server.url, server.kafkaPort, dir, token !== undefined,
          args.flag('json'))
        if (args.flag('with-examples')) {
          const { Weir } = await import('../../client/weir.ts')
          const { startExamples } = await import('../examples.ts')
          // Not closed: its transport is the server's, which server.close() closes.
          const weir = new Weir(server.transport)
          examples = await startExamples(weir, dir, line => process.stderr.write(`${line}\n`))
          await writeOut(whereToLook(server.url, dir, token !== undefined))
        }
        await signals.signal
      } finally {
        await examples?.close()
        await server.close()
      }
    } finally {
      signals.dispose()
      await unlock()
    }
    await writeOut('server closed\n')
    return EXIT_OK
  },
}

/** The broker options the flags set: topic auto-creation and its partition count. */
function brokerOf(args: Parsed): { autoCreateTopics?: boolean, defaultPartitions?: number } {
  if (!args.flag('auto-create-topics')) {
    if (args.has('default-partitions')) {
      throw new UsageError('--default-partitions applies to auto-created topics: give '
        + '--auto-create-topics too')
    }
    return {}
  }
  return { autoCreateTopics: true, ...(args.has('default-partitions')
    ? { defaultPartitions: args.integer('default-partitions', { min: 1 }, 1) } : {}) }
}

function limitsOf(args: Parsed): Record<string, number> {
  const limits: Record<string, number> = {}
  const names = [['max-request-bytes', 'requestBytesMax'], ['max-batch-records',
    'batchRecordsMax'], ['max-connections', 'connectionsMax']] as const
  for (const [flag, limit] of names) {
    if (args.has(flag)) limits[limit] = args.integer(flag, { min: 1 }, 1)
  }
  return limits
}

async function printAddresses(url: string, kafkaPort: number | undefined, dir: string,
  withToken: boolean, json: boolean): Promise<void> {
  const kafka = kafkaPort === undefined ? undefined : `${new URL(url).hostname}:${kafkaPort}`
  if (json) {
    await writeOut(`${JSON.stringify({ url, health: `${url}/health`, metrics: `${url}/metrics`,
      ...(kafka === undefined ? {} : { kafka }), dir: resolve(dir) })}\n`)
    return
  }
  await writeOut(`weir server listening on ${url} (data in ${dir}${withToken
    ? ', bearer token required' : ''})\n  health:  ${url}/health\n  metrics: ${url}/metrics\n`
    + (kafka === undefined ? '' : `  kafka:   ${kafka} (Kafka clients: bootstrap servers)\n`)
    + 'Ctrl-C stops it.\n')
}

/** The lines `--with-examples` prints: what runs and the commands to look at it. */
export function whereToLook(url: string, dir: string, withToken: boolean): string {
  const at = (url === DEFAULT_URL ? '' : ` --url ${url}`) + (withToken ? ' --token T' : '')
  const looks = [
    ['per-customer summaries', `npx weir consume customer-summaries --from-beginning${at}`],
    ['stock levels (JSON lines)', `npx weir consume stock-levels --json${at}`],
    ['how far each app is behind', `npx weir lag${at}`],
    ['an app\'s members and tasks', `npx weir groups describe orders-projection${at}`],
    ['topics', `npx weir topics list${at}`],
    ['metrics', `curl ${url}/metrics${withToken ? ' -H "Authorization: Bearer T"' : ''}`],
  ]
  return `
examples running in this server (exactly-once, state in ${join(dir, 'streams')}), fed a few
events a second:
  orders-projection  order-events → customer-summaries
  inventory          inventory-events → stock-levels, reservation-rejections
look at them from this directory (npx weir = node bin/weir.js):
${looks.map(([what, command]) => `  ${`${what}:`.padEnd(29)}${command}`).join('\n')}
`
}
