/**
 * A Weir server in its own process for `npm run bench:server`, as `weir serve` would run it:
 *
 *   node --import tsx bench/server-process.ts [--dir PATH] [--port N] [--host H]
 *
 * Starts `WeirServer` (default broker options, flush policy 'always') over `--dir`, or over a
 * fresh temp directory that it deletes on exit, on `--port` (default 0: a free port), and prints
 * one line `{"url":"http://127.0.0.1:PORT","pid":N}` on stdout once it accepts requests.
 *
 * Commands, one per line on stdin (answers are one JSON line on stdout each):
 *   cpu     → {"cpu":{"user":µs,"system":µs},"rss":bytes,"heapUsed":bytes} (process totals)
 *   close   → graceful close, deletes the temp directory, prints {"closed":true}, exits 0
 * The end of stdin (the bench gone) and SIGTERM / SIGINT close the same way, so a profile
 * started with `node --cpu-prof` is written.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { createInterface } from 'node:readline'
import { readFlags } from './bench-common.ts'
import { WeirServer } from '../src/server/weir-server.ts'

let dir: string | undefined
let port = 0
let host = '127.0.0.1'
readFlags(process.argv.slice(2), ({ flag, value, int }) => {
  switch (flag) {
  case '--dir': dir = value(); break
  case '--port': port = int(0); break
  case '--host': host = value(); break
  default: throw new Error(`unknown argument ${flag}`)
  }
})

const ownDir = dir === undefined
const dataDir = dir ?? await fs.mkdtemp(path.join(os.tmpdir(), 'weir-bench-server-'))
const server = await WeirServer.start({ dir: dataDir, host, port })
const answer = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}
answer({ url: server.url, pid: process.pid })

let closing: Promise<void> | undefined
function shutdown(): Promise<void> {
  closing ??= (async () => {
    try {
      await server.close()
    } finally {
      if (ownDir) await fs.rm(dataDir, { recursive: true, force: true })
    }
    answer({ closed: true })
    process.exit(0)
  })()
  return closing
}

const lines = createInterface({ input: process.stdin })
lines.on('line', line => {
  switch (line.trim()) {
  case 'cpu': {
    const memory = process.memoryUsage()
    answer({ cpu: process.cpuUsage(), rss: memory.rss, heapUsed: memory.heapUsed })
    break
  }
  case 'close': void shutdown(); break
  default: process.stderr.write(`server-process: unknown command '${line}'\n`)
  }
})
lines.on('close', () => { void shutdown() })
process.once('SIGTERM', () => { void shutdown() })
process.once('SIGINT', () => { void shutdown() })
