/**
 * What every checker of the test kit returns: `valid` and the anomalies found, each with a stable
 * `type` a test can count or filter on, where it happened when known, and a sentence for humans.
 * `assertValid` turns a result into a thrown Error whose message lists the anomalies, so a
 * failing vitest prints them without a custom matcher.
 *
 * Also owns `stableJson`, the identity the checkers fall back on to compare keys and values:
 * JSON with object keys sorted, so `{ a, b }` and `{ b, a }` are one identity.
 * It deliberately does not handle cyclic values (identities are small data, not graphs).
 */

/** One thing a checker found wrong (or, in an `allowed` list, worth knowing). */
export interface Anomaly {
  /** Stable name of the anomaly kind, e.g. `'duplicate'`, `'lost-write'`, `'G1c'`. */
  readonly type: string
  readonly key?: unknown
  readonly topic?: string
  readonly partition?: number
  readonly offset?: number
  readonly value?: unknown
  /** Indexes of the history events involved (invoke events), for history checkers. */
  readonly events?: readonly number[]
  /** What happened, as a sentence. */
  readonly message: string
}

/** The outcome of a checker: `valid` is true exactly when `anomalies` is empty. */
export interface CheckResult {
  readonly valid: boolean
  readonly anomalies: readonly Anomaly[]
}

/** How many anomalies `assertValid` lists before it summarises the rest. */
const listedAnomaliesMax = 20

/** Builds a result from its anomalies, so `valid` can never disagree with them. */
export function checkResult(anomalies: readonly Anomaly[]): CheckResult {
  return { valid: anomalies.length === 0, anomalies }
}

/**
 * Throws when `result` is not valid, with the anomalies (the first 20) in the message.
 *
 * @example
 * assertValid(exactlyOnce(outputs, inputs), 'orders copied once')
 * // Error: orders copied once: 2 anomalies
 * //   duplicate: "o-7" was output 2 times for 1 input(s) (at orders-out/0@4, orders-out/0@9)
 * //   lost: input "o-8" was given 1 time(s) but output 0 time(s)
 *
 * @param trace a simulation's `trace`, listed after the anomalies
 * @throws Error (not a WeirError: a failed check is a test failure, not a Weir condition).
 */
export function assertValid(result: CheckResult, what = 'check', trace?: readonly string[]):
void {
  if (result.valid && result.anomalies.length === 0) return
  const count = result.anomalies.length
  const lines = result.anomalies.slice(0, listedAnomaliesMax).map(a => `  ${a.type}: ${a.message}`)
  if (count > listedAnomaliesMax) lines.push(`  ... and ${count - listedAnomaliesMax} more`)
  // A simulation's trace (faults applied, crashes, restarts) says how the run got there.
  if (trace !== undefined) lines.push('trace:', ...trace.map(line => `  ${line}`))
  const noun = count === 1 ? 'anomaly' : 'anomalies'
  throw new Error(`${what}: ${count} ${noun}\n${lines.join('\n')}`)
}

/**
 * A deterministic JSON text of `value`: object keys sorted, `undefined` as `null`, bigints as
 * `"<n>n"`, Maps and Sets as sorted entry lists, anything with `toJSON` (Buffer, Date) through it.
 *
 * @example
 * stableJson({ b: 1, a: [1n] }) === '{"a":["1n"],"b":1}'
 */
export function stableJson(value: unknown): string {
  return JSON.stringify(normalise(value)) ?? 'null'
}

function normalise(value: unknown): unknown {
  if (value === undefined) return null
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Map) {
    return [...value.entries()].map(([k, v]) => [normalise(k), normalise(v)]).sort(byJson)
  }
  if (value instanceof Set) return [...value].map(normalise).sort(byJson)
  const withToJson = value as { toJSON?: () => unknown }
  if (typeof withToJson.toJSON === 'function') return normalise(withToJson.toJSON())
  if (Array.isArray(value)) return value.map(normalise)
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return Object.fromEntries(entries.map(([k, v]) => [k, normalise(v)]))
}

function byJson(a: unknown, b: unknown): number {
  const left = JSON.stringify(a)
  const right = JSON.stringify(b)
  return left < right ? -1 : left > right ? 1 : 0
}

/** A short printable form of a value for anomaly messages (bounded, so messages stay readable). */
export function show(value: unknown): string {
  const text = stableJson(value)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
