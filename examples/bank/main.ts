/**
 * Runs the event-sourced bank (bank.ts) until SIGINT or SIGTERM, then closes it cleanly (the
 * apps commit, the broker flushes). Running it again on the same directory continues with the
 * same accounts and transfers.
 * Run: npx tsx examples/bank/main.ts [dir, default ./data-bank] [--port N, default 3000]
 *      [--host H, default 127.0.0.1]
 */
import { startBank } from './bank.ts'

interface Arguments {
  readonly dir: string
  readonly port: number
  readonly host: string
}

function parseArguments(argv: readonly string[]): Arguments {
  let dir = './data-bank'
  let port = 3000
  let host = '127.0.0.1'
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!
    if (argument === '--port' || argument === '--host') {
      const value = argv[++index]
      if (value === undefined) throw new RangeError(`${argument} needs a value`)
      if (argument === '--host') host = value
      else port = Number(value)
    } else if (argument.startsWith('--')) {
      throw new RangeError(`unknown option ${argument}; usage: [dir] [--port N] [--host H]`)
    } else {
      dir = argument
    }
  }
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`--port must be an integer from 0 to 65535, got ${port}`)
  }
  return { dir, port, host }
}

function printUsage(url: string, dir: string): void {
  const json = `-H 'content-type: application/json'`
  console.log(`bank listening on ${url} (data in ${dir}); Ctrl-C stops it. Try:`)
  for (const line of [
    `curl -X POST ${url}/accounts/alice/deposits ${json} -d '{"amount":100}'`,
    `curl -X POST ${url}/accounts/bob/deposits ${json} -d '{"amount":50}'`,
    `curl -X POST ${url}/accounts/bob/withdrawals ${json} -d '{"amount":500}'   # 422`,
    `curl -X POST ${url}/transfers ${json} -d '{"transferId":"t1","from":"alice",`
      + `"to":"bob","amount":30}'`,
    `curl ${url}/transfers/t1`,
    `curl ${url}/accounts/alice          # the projection (eventually consistent)`,
    `curl '${url}/accounts/alice?consistent=true'   # the writer's state`,
    `curl -X POST ${url}/accounts/bob/close`,
  ]) console.log(`  ${line}`)
}

const { dir, port, host } = parseArguments(process.argv.slice(2))
const bank = await startBank({ dir, port, host })
printUsage(bank.url, dir)

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  console.log(`${signal}: closing the bank`)
  bank.close().then(() => process.exit(0), (error: unknown) => {
    console.error('bank: closing failed:', error)
    process.exit(1)
  })
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
