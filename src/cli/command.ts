/**
 * What every `weir` command is made of: a name, its help text, its options (node:util parseArgs
 * configs) and `run`. main.ts parses the arguments, answers `--help`, and turns the outcome
 * into the exit code:
 * - 0: done (also a consume, serve or run stopped by SIGINT/SIGTERM);
 * - 1: a runtime failure, reported as one line `weir: <CODE>: <message>` on stderr, CODE being
 *   the WeirError code (or Node's error code, e.g. ENOENT, for a failure outside Weir);
 * - 2: a usage error (unknown command or option, a bad or missing value): the message and the
 *   command's usage on stderr.
 *
 * Command files import only light modules (node builtins, errors.ts, the CLI's helpers) at load
 * time; the broker, the client and the server are imported by `run` (connection.ts, serve.ts),
 * so `--help` and usage errors answer without loading them.
 */
import { parseArgs } from 'node:util'
import { WeirError } from '../errors.ts'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

export interface Command {
  /** As typed: 'topics list', 'produce'. */
  readonly name: string
  /** One line for the main usage. */
  readonly summary: string
  /** The whole `--help` text (usage line first). */
  readonly help: string
  readonly options: OptionSpecs
  /** Fewest and most positional arguments. */
  readonly positionals: { readonly min: number, readonly max: number }
  run(args: Parsed): Promise<number>
}

/** A usage mistake: exit 2 with the command's usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>

/** Parsed arguments with typed, validating accessors (a bad value is a UsageError). */
export class Parsed {
  constructor(private readonly values: Values, readonly positionals: readonly string[]) {}

  string(name: string): string | undefined {
    const value = this.values[name]
    if (value === undefined || typeof value === 'string') return value
    throw new Error(`option --${name} is not a single string option`)
  }

  strings(name: string): string[] {
    const value = this.values[name]
    if (value === undefined) return []
    if (!Array.isArray(value)) throw new Error(`option --${name} is not a multiple option`)
    return value.map(String)
  }

  flag(name: string): boolean {
    return this.values[name] === true
  }

  has(name: string): boolean {
    return this.values[name] !== undefined
  }

  /** An integer option within [min, max]; `fallback` when absent. */
  integer(name: string, range: { min: number, max?: number }, fallback: number): number {
    const text = this.string(name)
    if (text === undefined) return fallback
    return parseInteger(text, `--${name}`, range)
  }

  positional(index: number): string {
    const value = this.positionals[index]
    if (value === undefined) throw new UsageError(`missing argument ${index + 1}`)
    return value
  }
}

export function parseInteger(text: string, what: string,
  range: { min: number, max?: number }): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  const max = range.max ?? Number.MAX_SAFE_INTEGER
  if (!Number.isSafeInteger(value) || value < range.min || value > max) {
    throw new UsageError(`${what} must be an integer from ${range.min}`
      + `${range.max === undefined ? '' : ` to ${range.max}`} (got '${text}')`)
  }
  return value
}

/** Parses `args` for `command`: strict (unknown options are usage errors), with -h/--help. */
export function parseCommandArgs(command: Command, args: readonly string[]):
Parsed | 'help' {
  let parsed: { values: Values, positionals: string[] }
  try {
    parsed = parseArgs({ args: [...args], strict: true, allowPositionals: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } } }) as
      { values: Values, positionals: string[] }
  } catch (error) {
    if (args.includes('--help') || args.includes('-h')) return 'help'
    // parseArgs adds advice on '--' for an unknown option; the first sentence is the point.
    throw new UsageError((error as Error).message.split('\n')[0]!.split('. To specify')[0]!)
  }
  if (parsed.values.help === true) return 'help'
  const count = parsed.positionals.length
  if (count < command.positionals.min) {
    throw new UsageError(`weir ${command.name} needs ${command.positionals.min} argument`
      + `${command.positionals.min === 1 ? '' : 's'}`)
  }
  if (count > command.positionals.max) {
    throw new UsageError(`unexpected argument '${parsed.positionals[command.positionals.max]}'`)
  }
  return new Parsed(parsed.values, parsed.positionals)
}

/** The one line a runtime failure prints: `weir: <CODE>: <message>`. */
export function failureLine(error: unknown): string {
  const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim()
  if (WeirError.is(error)) return `weir: ${error.code}: ${oneLine(error.message)}`
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const message = error instanceof Error ? error.message : String(error)
  const label = typeof code === 'string' ? code : 'ERROR'
  // Node's messages often start with their code already ('ENOENT: no such file ...').
  const text = message.startsWith(`${label}: `) ? message.slice(label.length + 2) : message
  return `weir: ${label}: ${oneLine(text)}`
}

/**
 * Resolves on the first SIGINT or SIGTERM (with the signal's name); a second one while the
 * command is still stopping exits at once with 130 (the shell's code for an interrupt).
 */
/** Signals closer together than this are one signal delivered several times. */
const REPEATED_SIGNAL_MS = 1_000

export function firstSignal(onStopping?: (signal: NodeJS.Signals) => void):
{ readonly signal: Promise<NodeJS.Signals>, dispose(): void } {
  let receivedAtMs: number | undefined
  let resolveSignal: (signal: NodeJS.Signals) => void = () => undefined
  const signal = new Promise<NodeJS.Signals>(resolve => { resolveSignal = resolve })
  const handler = (name: NodeJS.Signals): void => {
    if (receivedAtMs !== undefined) {
      // Ctrl-C reaches every process of the terminal's group, and npm and tsx also relay it to
      // their child: the same keypress arrives two or three times at once. Only a later one is
      // the user asking again.
      if (Date.now() - receivedAtMs < REPEATED_SIGNAL_MS) return
      process.stderr.write(`weir: ${name} again: exiting without a clean stop\n`)
      process.exit(130)
    }
    receivedAtMs = Date.now()
    onStopping?.(name)
    resolveSignal(name)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal,
    dispose: () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}

/** Writes to stdout, waiting for 'drain' when the pipe is full. */
export async function writeOut(chunk: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(chunk)) {
    await new Promise<void>(resolve => {
      const done = (): void => {
        process.stdout.off('drain', done)
        process.stdout.off('close', done)
        resolve()
      }
      process.stdout.once('drain', done)
      process.stdout.once('close', done)
    })
  }
}

export function writeJson(document: unknown): Promise<void> {
  return writeOut(`${JSON.stringify(document, null, 2)}\n`)
}
