/**
 * Both sides of the child processes the crash tests kill (test/crash/crash-child.ts and
 * test/txn/copier-process.ts). The parent spawns a TypeScript program under tsx with
 * `--wait-for-go`, so loading tsx and the modules (about a second) can happen ahead of time; the
 * child prints that it is ready, then waits with `waitForGo()` until the parent calls `go()`.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const STDERR_TAIL_CHARS = 16 * 1024

export interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A child spawned by `spawnWaitingChild`. */
export interface WaitingChild {
  readonly process: ChildProcessByStdio<Writable, Readable, Readable>
  /** Settles once the child has exited and its output is closed; rejects if it could not run. */
  readonly exited: Promise<ChildExit>
  /** The last 16 KiB (in characters) the child wrote to stderr. */
  readonly stderrTail: string
  /** Lets the child go on (see `waitForGo`). */
  go(): void
}

/**
 * Spawns `node --import tsx <path> <args...> --wait-for-go` from the repository root, handing
 * every stdout chunk (UTF-8) to `onStdout` and keeping the tail of stderr.
 */
export function spawnWaitingChild(path: string, args: readonly string[],
  onStdout: (chunk: string) => void): WaitingChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args, '--wait-for-go'],
    { cwd: REPOSITORY_ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderrTail = ''
  child.stdin.on('error', () => undefined) // EPIPE once the child is dead: expected
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', onStdout)
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS)
  })
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  exited.catch(() => undefined) // a spawn failure is reported to whoever awaits `exited`
  return {
    process: child,
    exited,
    get stderrTail() {
      return stderrTail
    },
    go() {
      child.stdin.end('go\n')
    },
  }
}

/**
 * Turns output chunks into whole lines for `onLine`. A last line without its newline (cut by a
 * kill) is held back and never delivered.
 */
export function splitLines(onLine: (line: string) => void): (chunk: string) => void {
  let partial = ''
  return chunk => {
    partial += chunk
    let newline = partial.indexOf('\n')
    while (newline >= 0) {
      const line = partial.slice(0, newline)
      partial = partial.slice(newline + 1)
      onLine(line)
      newline = partial.indexOf('\n')
    }
  }
}

/**
 * The child's side: resolves on a `go` line on stdin; exits quietly if stdin ends first because
 * the parent is gone.
 */
export function waitForGo(): Promise<void> {
  return new Promise(resolve => {
    let received = ''
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (chunk: string) => {
      received += chunk
      if (received.includes('go\n')) resolve()
    })
    process.stdin.on('end', () => {
      if (!received.includes('go\n')) process.exit(0)
    })
  })
}
