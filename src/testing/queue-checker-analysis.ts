/**
 * The first pass of the queue checker: pairs each invoke of a history with its completion into
 * one completed operation, and indexes every (key, value) the history mentions: who sent it,
 * at which offsets sends and polls saw it, who read it. Each key's observed offsets, sorted,
 * give its dense *index* (jepsen.tests.kafka's version order): offsets may be sparse (control
 * records), so skips and order are judged on indexes, not offsets.
 *
 * Keys and values are identified by `stableJson`; values are expected unique per key, as in
 * Jepsen's workload (a value sent twice is analysed as one write with several writers).
 * Only `ok` operations contribute reads: a failed or unknown operation's reads are not known.
 */
import { stableJson } from './check-result.ts'
import type { EventType, History, HistoryEvent, MicroOp, ProcessId } from './history.ts'

/** An invoke and its completion; an invoke never completed counts as `info`. */
export interface CompletedOp {
  /** The index of the invoke event: the operation's name in anomalies. */
  readonly id: number
  readonly process: ProcessId
  readonly f: HistoryEvent['f']
  readonly type: Exclude<EventType, 'invoke'>
  /** The completion's micro-ops when `ok` (with results), else the invoke's. */
  readonly ops: readonly MicroOp<unknown, unknown>[]
}

/** Everything known about one value of one key. */
export interface ValueInfo {
  readonly key: unknown
  readonly value: unknown
  readonly writers: CompletedOp[]
  /** Offsets `ok` sends reported for it. */
  readonly sendOffsets: Set<number>
  /** `ok` operations that read it, once per read. */
  readonly readers: CompletedOp[]
  readonly readOffsets: Set<number>
}

export interface KeyInfo {
  readonly key: unknown
  readonly values: Map<string, ValueInfo>
  /** Every observed offset → the values observed there (more than one is an anomaly). */
  readonly offsets: Map<number, Set<string>>
  /** Observed offset → its dense index, in offset order. */
  readonly indexOf: Map<number, number>
}

export interface Analysis {
  readonly ops: readonly CompletedOp[]
  readonly keys: ReadonlyMap<string, KeyInfo>
  /** Ids of the operations known to have applied (see `isCommitted`). */
  readonly committed: ReadonlySet<number>
}

/** Pairs invokes with completions (one operation in flight per process). */
export function completedOps(history: History<unknown, unknown>): CompletedOp[] {
  const pending = new Map<ProcessId, HistoryEvent<unknown, unknown>>()
  const done = new Map<number, CompletedOp>()
  const invokes: HistoryEvent<unknown, unknown>[] = []
  for (const event of history) {
    if (event.type === 'invoke') {
      pending.set(event.process, event)
      invokes.push(event)
      continue
    }
    const invoke = pending.get(event.process)
    if (invoke === undefined) continue
    pending.delete(event.process)
    const ops = 'ops' in event ? event.ops : []
    done.set(invoke.index, { id: invoke.index, process: invoke.process, f: invoke.f,
      type: event.type, ops: event.type === 'ok' ? ops : opsOf(invoke) })
  }
  return invokes.map(invoke => done.get(invoke.index) ?? {
    id: invoke.index, process: invoke.process, f: invoke.f, type: 'info', ops: opsOf(invoke),
  })
}

function opsOf(event: HistoryEvent<unknown, unknown>): readonly MicroOp<unknown, unknown>[] {
  return 'ops' in event ? event.ops : []
}

/** Builds the per-key, per-value index of a history. */
export function analyse(history: History<unknown, unknown>): Analysis {
  const ops = completedOps(history)
  const keys = new Map<string, KeyInfo>()
  const valueInfo = (key: unknown, value: unknown): ValueInfo => {
    const keyId = stableJson(key)
    let info = keys.get(keyId)
    if (info === undefined) {
      info = { key, values: new Map(), offsets: new Map(), indexOf: new Map() }
      keys.set(keyId, info)
    }
    const valueId = stableJson(value)
    let entry = info.values.get(valueId)
    if (entry === undefined) {
      entry = { key, value, writers: [], sendOffsets: new Set(), readers: [],
        readOffsets: new Set() }
      info.values.set(valueId, entry)
    }
    return entry
  }
  for (const op of ops) {
    for (const micro of op.ops) {
      if (micro.f === 'send') {
        const entry = valueInfo(micro.key, micro.value)
        if (!entry.writers.includes(op)) entry.writers.push(op)
        if (op.type === 'ok' && micro.offset !== undefined) entry.sendOffsets.add(micro.offset)
      } else if (op.type === 'ok') {
        for (const { key, records } of micro.reads ?? []) {
          for (const { offset, value } of records) {
            const entry = valueInfo(key, value)
            entry.readers.push(op)
            entry.readOffsets.add(offset)
          }
        }
      }
    }
  }
  for (const info of keys.values()) indexOffsets(info)
  return { ops, keys, committed: committedOps(ops, keys) }
}

/**
 * An operation applied when it is `ok`, or `info` with some of its writes read by a poll
 * ("must-have-committed", kafka.clj): reading one write of an operation proves all of it
 * committed, which is how torn transactions show up as lost or unseen writes.
 */
function committedOps(ops: readonly CompletedOp[], keys: Map<string, KeyInfo>): Set<number> {
  const committed = new Set(ops.filter(op => op.type === 'ok').map(op => op.id))
  for (const info of keys.values()) {
    for (const entry of info.values.values()) {
      if (entry.readers.length === 0) continue
      for (const op of entry.writers) if (op.type === 'info') committed.add(op.id)
    }
  }
  return committed
}

function indexOffsets(info: KeyInfo): void {
  for (const [valueId, entry] of info.values) {
    for (const offset of [...entry.sendOffsets, ...entry.readOffsets]) {
      const at = info.offsets.get(offset)
      if (at === undefined) info.offsets.set(offset, new Set([valueId]))
      else at.add(valueId)
    }
  }
  const sorted = [...info.offsets.keys()].sort((a, b) => a - b)
  sorted.forEach((offset, index) => info.indexOf.set(offset, index))
}

/** A write is committed when one of the operations that sent it is committed. */
export function isCommitted(analysis: Analysis, entry: ValueInfo): boolean {
  return entry.writers.some(op => analysis.committed.has(op.id))
}

/** Committed operations that sent this value (the writers a reader depends on). */
export function committedWriters(analysis: Analysis, entry: ValueInfo): CompletedOp[] {
  return entry.writers.filter(op => analysis.committed.has(op.id))
}

/** The lowest index the value was observed at, if any offset of it was observed. */
export function indexOfValue(info: KeyInfo, entry: ValueInfo): number | undefined {
  const indexes = [...entry.sendOffsets, ...entry.readOffsets].map(o => info.indexOf.get(o)!)
  return indexes.length === 0 ? undefined : Math.min(...indexes)
}
