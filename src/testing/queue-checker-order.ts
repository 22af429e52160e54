/**
 * Order anomalies of a queue history, judged per process on dense indexes (jepsen.tests.kafka):
 * - consumers: each poll of a key must start right after where that consumer's previous read of
 *   the key ended (delta 1). Delta > 1 is `poll-skip`, delta < 1 `nonmonotonic-poll`; `int-`
 *   when both reads are in one operation. Tracking restarts at an assign/subscribe marker and
 *   after any operation with a poll that did not end `ok` (its reads are unknown, and an aborted
 *   txn's consumer is rewound, KAFKA-17582). After `subscribe`, rebalances the history cannot see
 *   may move partitions, so skips between two polls are reported as allowed, not as violations;
 *   a skip inside one poll's result is always a violation.
 * - producers: a later send of one process to a key must land at a higher index:
 *   `nonmonotonic-send` across operations, `int-nonmonotonic-send` inside one txn. A gap inside
 *   one txn (`int-send-skip`) is allowed: Kafka transactions do not isolate writes.
 */
import type { Anomaly } from './check-result.ts'
import { show, stableJson } from './check-result.ts'
import type { ProcessId } from './history.ts'
import type { Analysis, CompletedOp } from './queue-checker-analysis.ts'

export interface Findings {
  readonly anomalies: Anomaly[]
  readonly allowed: Anomaly[]
}

interface LastSeen {
  readonly index: number
  readonly offset: number
  readonly op: CompletedOp
  /** Which poll micro-op of `op` (sends: -1). */
  readonly micro: number
}

interface ConsumerState {
  reads: Map<string, LastSeen>
  mode: 'assign' | 'subscribe' | undefined
}

export function orderFindings(analysis: Analysis): Findings {
  const findings: Findings = { anomalies: [], allowed: [] }
  const consumers = new Map<ProcessId, ConsumerState>()
  const producers = new Map<ProcessId, Map<string, LastSeen>>()
  for (const op of analysis.ops) {
    let consumer = consumers.get(op.process)
    if (consumer === undefined) {
      consumer = { reads: new Map(), mode: undefined }
      consumers.set(op.process, consumer)
    }
    if (op.f === 'assign' || op.f === 'subscribe') {
      consumer.reads = new Map()
      consumer.mode = op.f
      continue
    }
    const hasPoll = op.ops.some(micro => micro.f === 'poll')
    if (op.type !== 'ok') {
      if (hasPoll) consumer.reads = new Map()
      continue
    }
    checkPolls(analysis, op, consumer, findings)
    let sends = producers.get(op.process)
    if (sends === undefined) producers.set(op.process, sends = new Map())
    checkSends(analysis, op, sends, findings)
  }
  return findings
}

function indexOf(analysis: Analysis, keyId: string, offset: number): number {
  return analysis.keys.get(keyId)!.indexOf.get(offset)!
}

function checkPolls(
  analysis: Analysis, op: CompletedOp, consumer: ConsumerState, findings: Findings,
): void {
  op.ops.forEach((micro, position) => {
    if (micro.f !== 'poll') return
    for (const { key, records } of micro.reads ?? []) {
      const keyId = stableJson(key)
      for (const { offset, value } of records) {
        const index = indexOf(analysis, keyId, offset)
        const previous = consumer.reads.get(keyId)
        if (previous !== undefined && index - previous.index !== 1) {
          const samePoll = previous.op === op && previous.micro === position
          const internal = previous.op === op
          const kind = index - previous.index > 1 ? 'poll-skip' : 'nonmonotonic-poll'
          const type = internal ? `int-${kind}` : kind
          const allowed = consumer.mode === 'subscribe' && !samePoll
          const anomaly = orderAnomaly(type, key, value, offset, previous, op,
            `process ${op.process} read key ${show(key)} at index ${index} (offset ${offset}) ` +
            `right after index ${previous.index} (offset ${previous.offset})`)
          ;(allowed ? findings.allowed : findings.anomalies).push(anomaly)
        }
        consumer.reads.set(keyId, { index, offset, op, micro: position })
      }
    }
  })
}

function checkSends(
  analysis: Analysis, op: CompletedOp, sends: Map<string, LastSeen>, findings: Findings,
): void {
  for (const micro of op.ops) {
    if (micro.f !== 'send' || micro.offset === undefined) continue
    const keyId = stableJson(micro.key)
    const index = indexOf(analysis, keyId, micro.offset)
    const previous = sends.get(keyId)
    if (previous !== undefined) {
      const internal = previous.op === op
      const message = `process ${op.process} sent ${show(micro.value)} to key ${show(micro.key)}` +
        ` at index ${index} (offset ${micro.offset}) after its send at index ${previous.index}`
      if (index <= previous.index) {
        const type = internal ? 'int-nonmonotonic-send' : 'nonmonotonic-send'
        findings.anomalies.push(
          orderAnomaly(type, micro.key, micro.value, micro.offset, previous, op, message))
      } else if (internal && index - previous.index > 1) {
        findings.allowed.push(
          orderAnomaly('int-send-skip', micro.key, micro.value, micro.offset, previous, op,
            message))
      }
    }
    sends.set(keyId, { index, offset: micro.offset, op, micro: -1 })
  }
}

function orderAnomaly(
  type: string, key: unknown, value: unknown, offset: number, previous: LastSeen,
  op: CompletedOp, message: string,
): Anomaly {
  const events = previous.op === op ? [op.id] : [previous.op.id, op.id]
  return { type, key, value, offset, events, message }
}
