/**
 * What every benchmark script shares: flag parsing, progress logging to stderr, medians and
 * rounding for the JSON figures, a GC between phases when run with --expose-gc, and the scratch
 * directories the phases run in.
 */
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

/** Starts a timed phase from a clean heap when node runs with --expose-gc (npm run bench:*). */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.()
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export const round = (n: number, digits = 0): number => Number(n.toFixed(digits))

/** Progress goes to stderr so stdout's last line stays the JSON result. */
export function benchLogger(name: string): (message: string) => void {
  return message => {
    process.stderr.write(`[${name}] ${message}\n`)
  }
}

export interface FlagReader {
  readonly flag: string
  /** The flag's value (the next argument). */
  value(): string
  /** The flag's value as an integer ≥ `min`. */
  int(min?: number): number
}

/** Calls `visit` for every `--flag value` pair in `argv`; `visit` consumes values it needs. */
export function readFlags(argv: readonly string[], visit: (reader: FlagReader) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const next = argv[i + 1]
    const value = (): string => {
      if (next === undefined) throw new Error(`${flag} needs a value`)
      i++
      return next
    }
    const int = (min = 1): number => {
      const n = Number(value())
      if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag} needs an integer ≥ ${min}`)
      return n
    }
    visit({ flag, value, int })
  }
}

/**
 * A bench's scratch root (`<dir or os.tmpdir()>/weir-<name>-XXXX`) and the fresh, numbered
 * directories each phase or round runs in (deleted afterwards, so disks do not fill up).
 */
export interface BenchDirectory {
  readonly root: string
  /** The root and where it came from, for the progress log. */
  readonly description: string
  /** Runs `body` in a new directory under the root and deletes it afterwards. */
  inFreshDir<T>(name: string, body: (dir: string) => Promise<T>): Promise<T>
  /** Deletes the root and everything in it. */
  remove(): Promise<void>
}

export async function openBenchDirectory(name: string, dirFlag: string | undefined):
Promise<BenchDirectory> {
  const base = dirFlag ?? os.tmpdir()
  await fs.mkdir(base, { recursive: true })
  const root = await fs.mkdtemp(path.join(base, `weir-${name}-`))
  let counter = 0
  return {
    root,
    description: `${root}${dirFlag === undefined ? ' (os.tmpdir())' : ' (--dir)'}`,
    async inFreshDir(label, body) {
      const dir = path.join(root, `${String(counter++).padStart(2, '0')}-${label}`)
      await fs.mkdir(dir)
      try {
        return await body(dir)
      } finally {
        await fs.rm(dir, { recursive: true, force: true })
      }
    },
    remove: () => fs.rm(root, { recursive: true, force: true }),
  }
}

/** The machine a result was measured on (the last fields of every bench's JSON). */
export function machineFields(): { node: string, platform: string, cpus: number,
  cpu_model: string } {
  return { node: process.version, platform: `${os.platform()}-${os.arch()} ${os.release()}`,
    cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown' }
}
