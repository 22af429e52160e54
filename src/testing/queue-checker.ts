/**
 * A TypeScript port of the analyses of Jepsen's queue checker (jepsen.tests.kafka) for histories
 * recorded with `HistoryRecorder`, with the anomaly set of reliability.md §2:
 *
 * - `lost-write`: a committed write at index i of a key is never read, though some poll
 *   read an index j > i of that key;
 * - `unseen`: a committed write is never read, and nothing after it was read either;
 * - `duplicate`: one value of a key is observed at more than one offset;
 * - `unexpected`: a poll reads a value no operation ever tried to send to that key;
 * - `inconsistent-offsets`: one offset of a key is observed with two or more values;
 * - `aborted-read` (G1a): a poll reads a value whose every send definitely failed or aborted;
 * - `precommitted-read`: a txn's poll reads a value the same txn sends;
 * - `poll-skip`, `nonmonotonic-poll`, their `int-` forms, `nonmonotonic-send` and
 *   `int-nonmonotonic-send`: see queue-checker-order.ts;
 * - `G1c`: a cycle of write-read dependencies between committed operations
 *   (queue-checker-cycles.ts).
 *
 * Allowed in the Kafka model (reported in `allowed`, never making the result invalid): `G0`,
 * `G1c-ww` (cycles that need ww edges), `int-send-skip`, poll skips after `subscribe`, and
 * `unseen` when `finalPolls` is false.
 *
 * An `info` operation counts as committed only if some poll read one of its writes; then all
 * its writes must be read (a torn txn shows up as `lost-write` or `unseen`). "Acknowledged"
 * means sent by an `ok` operation. A history meant for `unseen` must end with polls that read
 * every key to its end (Jepsen's healed final-poll phase); without them, pass `finalPolls: false`.
 *
 * Where committed writes were lost (Jepsen's NATS checker) is counted in `stats.lost`: before
 * the first write of their key that was read (prefix), between read ones (middle: the worst,
 * a hole in a log that was read on both sides) or after the last (postfix, which may only be
 * late). Not done: G-single/G2, realtime lag.
 */
import { type Anomaly, type CheckResult, show, stableJson } from './check-result.ts'
import type { History } from './history.ts'
import { type Analysis, analyse, indexOfValue, isCommitted, type KeyInfo } from
  './queue-checker-analysis.ts'
import { cycleFindings } from './queue-checker-cycles.ts'
import { type Findings, orderFindings } from './queue-checker-order.ts'

export interface QueueCheckOptions {
  /**
   * Whether the history ends with polls that read every key to its end. When false, `unseen`
   * writes are reported in `allowed` (they may simply not have been polled yet). Default true.
   */
  readonly finalPolls?: boolean
}

/** Counts to publish with a run (reliability.md §4 reporting rules). */
export interface QueueStats {
  readonly operations: number
  readonly ok: number
  readonly fail: number
  readonly info: number
  /** Distinct (key, value) writes sent by `ok` operations. */
  readonly acknowledged: number
  /** Distinct (key, value) pairs read by `ok` polls. */
  readonly read: number
  /** Committed writes never read, by where they sit in their key's log (see the header). */
  readonly lost: LostCounts
}

/**
 * Committed, never-read writes by position among their key's reads: `prefix` below the first
 * read index, `middle` between the first and the last, `postfix` after the last (or in a key
 * nothing was read of, or never given an offset).
 */
export interface LostCounts {
  readonly prefix: number
  readonly middle: number
  readonly postfix: number
}

type LostPosition = keyof LostCounts

export interface QueueCheckResult extends CheckResult {
  /** Findings the Kafka model allows: worth reading, not violations. */
  readonly allowed: readonly Anomaly[]
  readonly stats: QueueStats
}

/**
 * Checks a queue/txn history for the anomalies listed in this file's header.
 *
 * @example
 * const history = new HistoryRecorder<string, number>()
 * // ... run the workload, recording every send, poll and txn ...
 * const result = checkQueueHistory(history.events)
 * assertValid(result, 'queue history')
 */
export function checkQueueHistory<K, V>(
  history: History<K, V>, options: QueueCheckOptions = {},
): QueueCheckResult {
  const analysis = analyse(history as History<unknown, unknown>)
  const findings: Findings = { anomalies: [], allowed: [] }
  const lost: Record<LostPosition, number> = { prefix: 0, middle: 0, postfix: 0 }
  for (const info of analysis.keys.values()) {
    offsetFindings(info, findings)
    valueFindings(analysis, info, options.finalPolls ?? true, findings, lost)
  }
  precommittedReads(analysis, findings)
  for (const more of [orderFindings(analysis), cycleFindings(analysis)]) {
    findings.anomalies.push(...more.anomalies)
    findings.allowed.push(...more.allowed)
  }
  return {
    valid: findings.anomalies.length === 0,
    anomalies: findings.anomalies,
    allowed: findings.allowed,
    stats: { ...stats(analysis), lost },
  }
}

function offsetFindings(info: KeyInfo, findings: Findings): void {
  for (const [offset, valueIds] of info.offsets) {
    if (valueIds.size < 2) continue
    const values = [...valueIds].map(id => info.values.get(id)!.value)
    findings.anomalies.push({ type: 'inconsistent-offsets', key: info.key, offset,
      message: `key ${show(info.key)} offset ${offset} holds ${values.map(show).join(' and ')}` })
  }
  for (const entry of info.values.values()) {
    const offsets = new Set([...entry.sendOffsets, ...entry.readOffsets])
    if (offsets.size < 2) continue
    findings.anomalies.push({ type: 'duplicate', key: info.key, value: entry.value,
      offset: Math.min(...offsets), message: `key ${show(info.key)} value ${show(entry.value)} ` +
        `is at offsets ${[...offsets].sort((a, b) => a - b).join(', ')}` })
  }
}

function valueFindings(analysis: Analysis, info: KeyInfo, finalPolls: boolean,
  findings: Findings, lost: Record<LostPosition, number>): void {
  let minReadIndex = Infinity
  let maxReadIndex = -1
  for (const offset of [...info.values.values()].flatMap(entry => [...entry.readOffsets])) {
    const index = info.indexOf.get(offset)!
    minReadIndex = Math.min(minReadIndex, index)
    maxReadIndex = Math.max(maxReadIndex, index)
  }
  for (const entry of info.values.values()) {
    const where = `key ${show(info.key)} value ${show(entry.value)}`
    const read = entry.readers.length > 0
    const events = [...entry.writers, ...entry.readers].map(op => op.id)
    const base = { key: info.key, value: entry.value, events }
    if (read && entry.writers.length === 0) {
      findings.anomalies.push({ ...base, type: 'unexpected',
        message: `${where} was read but never sent` })
    } else if (read && entry.writers.every(op => op.type === 'fail')) {
      findings.anomalies.push({ ...base, type: 'aborted-read',
        message: `${where} was read although its send failed or its txn aborted (G1a)` })
    }
    if (read || !isCommitted(analysis, entry)) continue
    const index = indexOfValue(info, entry)
    if (index !== undefined && index < maxReadIndex) {
      const position = index < minReadIndex ? 'prefix' : 'middle'
      lost[position]++
      const offset = Math.min(...entry.sendOffsets)
      findings.anomalies.push({ ...base, type: 'lost-write', offset,
        message: `${where} was committed at index ${index} but never read, though index ` +
          `${maxReadIndex} was (lost-${position})` })
    } else {
      lost.postfix++
      (finalPolls ? findings.anomalies : findings.allowed).push({ ...base, type: 'unseen',
        message: `${where} was committed but never read` })
    }
  }
}

function precommittedReads(analysis: Analysis, findings: Findings): void {
  for (const op of analysis.ops) {
    if (op.f !== 'txn' || op.type !== 'ok') continue
    const sent = new Set<string>()
    for (const micro of op.ops) {
      if (micro.f === 'send') sent.add(stableJson([micro.key, micro.value]))
    }
    for (const micro of op.ops) {
      if (micro.f !== 'poll') continue
      for (const { key, records } of micro.reads ?? []) {
        for (const { offset, value } of records) {
          if (!sent.has(stableJson([key, value]))) continue
          findings.anomalies.push({ type: 'precommitted-read', key, value, offset,
            events: [op.id], message: `txn ${op.id} read its own uncommitted write ` +
              `${show(value)} of key ${show(key)}` })
        }
      }
    }
  }
}

function stats(analysis: Analysis): Omit<QueueStats, 'lost'> {
  const count = (type: string) => analysis.ops.filter(op => op.type === type).length
  let acknowledged = 0
  let read = 0
  for (const info of analysis.keys.values()) {
    for (const entry of info.values.values()) {
      if (entry.writers.some(op => op.type === 'ok')) acknowledged++
      if (entry.readers.length > 0) read++
    }
  }
  return { operations: analysis.ops.length, ok: count('ok'), fail: count('fail'),
    info: count('info'), acknowledged, read }
}
