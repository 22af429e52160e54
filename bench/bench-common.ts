/**
 * What every benchmark script shares: flag parsing, progress logging to stderr, medians and
 * rounding for the JSON figures, and a GC between phases when run with --expose-gc.
 */

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
