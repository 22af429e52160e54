/**
 * Runs the `weir` CLI as a real child process (`node --import tsx src/cli/main.ts ...`) from the
 * repository root, with WEIR_URL and WEIR_TOKEN cleared so the caller's environment does not leak
 * in: `weir(args, { input })` for commands that finish, `spawnWeir(args)` for those that run
 * until signalled (serve, run, consume without a stop condition).
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly stdout: Buffer
  readonly stderr: string
  /** stdout as UTF-8. */
  readonly text: string
}

export interface CliOptions {
  readonly input?: string | Buffer
  readonly env?: Readonly<Record<string, string>>
}

function start(args: readonly string[], options: CliOptions):
ChildProcessByStdio<Writable, Readable, Readable> {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, WEIR_URL: '', WEIR_TOKEN: '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/** Runs `weir <args>` to its end; stdin is `input` (or empty). */
export function weir(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const child = start(args, options)
  const stdout: Buffer[] = []
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => { stderr += chunk })
  child.stdin.on('error', () => undefined) // a child that exits before reading all of it
  child.stdin.end(options.input ?? '')
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => {
      const bytes = Buffer.concat(stdout)
      resolve({ code, stdout: bytes, stderr, text: bytes.toString('utf8') })
    })
  })
}

/** `weir <args>` expected to succeed: its stdout, or an error with its stderr. */
export async function weirOk(args: readonly string[], options: CliOptions = {}):
Promise<CliResult> {
  const result = await weir(args, options)
  if (result.code !== 0) {
    throw new Error(`weir ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  }
  return result
}

export interface RunningWeir {
  readonly process: ChildProcessByStdio<Writable, Readable, Readable>
  /** Everything written to stdout so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the first stdout line matching `pattern` (rejects if the child exits first). */
  line(pattern: RegExp): Promise<string>
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export function spawnWeir(args: readonly string[], options: CliOptions = {}): RunningWeir {
  const child = start(args, options)
  let stdout = ''
  let stderr = ''
  const waiters: Array<() => void> = []
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
    for (const wake of waiters.splice(0)) wake()
  })
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => { stderr += chunk })
  child.stdin.end(options.input ?? '')
  let done = false
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => {
      done = true
      resolve(code)
      for (const wake of waiters.splice(0)) wake()
    })
  })
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async line(pattern) {
      for (;;) {
        const found = stdout.split('\n').find(line => pattern.test(line))
        if (found !== undefined) return found
        if (done) {
          throw new Error(`weir ${args.join(' ')} exited before printing ${pattern}: `
            + `${stdout}${stderr}`)
        }
        await new Promise<void>(resolve => waiters.push(resolve))
      }
    },
    stop(signal = 'SIGTERM') {
      if (!done) child.kill(signal)
      return exited
    },
  }
}
