/**
 * What the copy-consume-produce crash test (test/txn/copier-crash.test.ts), its child program
 * (test/txn/copier-process.ts) and the transaction bench share: the topic and group names, how
 * the input is numbered and filled, and the check that the output holds every input record
 * exactly once in input order. Kept in one place so the writer and the checker cannot drift.
 *
 * Record i (0 ≤ i < N) has key and value String(i) and goes to input partition i mod 3, so
 * input partition p holds p, p + 3, p + 6, ... in offset order. The copier keeps the partition,
 * so output partition p must hold exactly that sequence under read_committed.
 *
 * `CopierChild` runs the copier as a child process and parses its stdout protocol.
 */
import { fileURLToPath } from 'node:url'
import type { IsolationLevel } from '../../src/broker/fetch.ts'
import type { Message } from '../../src/client/producer.ts'
import type { Weir } from '../../src/client/weir.ts'
import { WeirError } from '../../src/errors.ts'
import type { CommittedOffset } from '../../src/group/group-requests.ts'
import {
  type ChildExit, spawnWaitingChild, splitLines, type WaitingChild,
} from './child-process.ts'

export const COPIER_INPUT_TOPIC = 'copier-input'
export const COPIER_OUTPUT_TOPIC = 'copier-output'
export const COPIER_GROUP_ID = 'copier'
export const COPIER_TRANSACTIONAL_ID = 'copier'
export const COPIER_PARTITIONS = 3
/** Records per input send: small input batches make small fetches, so many transactions. */
export const COPIER_INPUT_SEND_RECORDS = 10
/** Bound on the details an assertion message lists per kind of problem. */
const PROBLEMS_LISTED_MAX = 20
/** How long the reader waits for recovered transactions to complete, and how often it looks. */
const STABLE_WAIT_MS_MAX = 10_000
const STABLE_POLL_MS = 20

/** Creates the input and output topics and fills the input with `records` numbered records. */
export async function fillCopierInput(weir: Weir, records: number): Promise<void> {
  await weir.admin().createTopics([
    { topic: COPIER_INPUT_TOPIC, partitions: COPIER_PARTITIONS },
    { topic: COPIER_OUTPUT_TOPIC, partitions: COPIER_PARTITIONS },
  ])
  const producer = weir.producer({ lingerMs: 0 })
  // One loop per partition, each awaiting its send before the next: every send is its own batch.
  await Promise.all(Array.from({ length: COPIER_PARTITIONS }, async (_, partition) => {
    const numbers: number[] = []
    for (let i = partition; i < records; i += COPIER_PARTITIONS) numbers.push(i)
    for (let start = 0; start < numbers.length; start += COPIER_INPUT_SEND_RECORDS) {
      const messages: Message[] = numbers.slice(start, start + COPIER_INPUT_SEND_RECORDS)
        .map(i => ({ key: String(i), value: String(i), partition }))
      await producer.send({ topic: COPIER_INPUT_TOPIC, messages })
    }
  }))
  await producer.close()
}

/** The numbers input partition `partition` holds, in offset order. */
export function expectedNumbers(records: number, partition: number): number[] {
  const numbers: number[] = []
  for (let i = partition; i < records; i += COPIER_PARTITIONS) numbers.push(i)
  return numbers
}

/** One output partition as read: each record's number (its value) and offset. */
export interface ReadPartition {
  readonly partition: number
  readonly numbers: readonly number[]
  readonly offsets: readonly number[]
}

/**
 * Compares what was read from the output with the input: every number exactly once, per
 * partition in input order, and the key equal to the value. Returns one line per problem
 * (empty when the copy is exact), naming the numbers and output offsets involved.
 */
export function copyProblems(records: number, read: readonly ReadPartition[],
  keyMismatches: readonly string[] = []): string[] {
  const problems: string[] = keyMismatches.slice(0, PROBLEMS_LISTED_MAX)
  for (const { partition, numbers, offsets } of read) {
    const expected = expectedNumbers(records, partition)
    const firstOffset = new Map<number, number>()
    const duplicates: string[] = []
    for (let i = 0; i < numbers.length; i++) {
      const seen = firstOffset.get(numbers[i]!)
      if (seen === undefined) firstOffset.set(numbers[i]!, offsets[i]!)
      else duplicates.push(`${numbers[i]} at offsets ${seen} and ${offsets[i]}`)
    }
    const missing = expected.filter(n => !firstOffset.has(n))
    const strays = numbers.filter(n => n % COPIER_PARTITIONS !== partition || n >= records)
    const divergence = expected.findIndex((n, i) => numbers[i] !== n)
    const where = `output partition ${partition}`
    if (duplicates.length > 0) {
      problems.push(`${where}: ${duplicates.length} duplicates: `
        + duplicates.slice(0, PROBLEMS_LISTED_MAX).join('; '))
    }
    if (missing.length > 0) {
      problems.push(`${where}: ${missing.length} of ${expected.length} input records lost: `
        + missing.slice(0, PROBLEMS_LISTED_MAX).join(', '))
    }
    if (strays.length > 0) {
      problems.push(`${where}: ${strays.length} records that belong elsewhere: `
        + strays.slice(0, PROBLEMS_LISTED_MAX).join(', '))
    }
    if (divergence >= 0 || numbers.length !== expected.length) {
      const at = divergence >= 0 ? divergence : expected.length
      problems.push(`${where}: ${numbers.length} records, expected ${expected.length}; order `
        + `first differs at index ${at} (offset ${offsets[at] ?? 'none'}): read `
        + `${numbers[at] ?? 'nothing'}, expected ${expected[at] ?? 'nothing'}`)
    }
  }
  return problems
}

/** What the parent finds in the directory once the copier has finished. */
export interface CopierOutput {
  readonly read: ReadPartition[]
  /** Records whose key differs from their value, described. */
  readonly keyMismatches: string[]
  /** Output partitions' last stable offsets and high watermarks (aborted data included). */
  readonly lastStableOffsets: number[]
  readonly highWatermarks: number[]
  /** The input's end offsets and the group's committed offsets (-1: none), by partition. */
  readonly inputEnds: number[]
  readonly committed: number[]
}

/** The group's committed offsets once no transaction holds undecided ones (bounded wait). */
async function stableOffsets(weir: Weir, partitions: readonly number[]):
Promise<CommittedOffset[]> {
  for (let waitedMs = 0; ; waitedMs += STABLE_POLL_MS) {
    try {
      return await weir.transport.fetchOffsets({ groupId: COPIER_GROUP_ID, requireStable: true,
        partitions: partitions.map(partition => ({ topic: COPIER_INPUT_TOPIC, partition })) })
    } catch (error) {
      if (!WeirError.is(error, 'UNSTABLE_OFFSET_COMMIT') || waitedMs >= STABLE_WAIT_MS_MAX) {
        throw error
      }
      await new Promise(resolve => setTimeout(resolve, STABLE_POLL_MS))
    }
  }
}

/**
 * Reads the whole output topic from the beginning as an application would: a consumer without a
 * group (assign), read_committed, up to each partition's last stable offset.
 */
export async function readCopierOutput(weir: Weir): Promise<CopierOutput> {
  const partitions = Array.from({ length: COPIER_PARTITIONS }, (_, partition) => partition)
  const ends = async (topic: string, isolationLevel: IsolationLevel): Promise<number[]> =>
    (await weir.transport.listOffsets(partitions.map(partition =>
      ({ topic, partition, spec: 'latest' as const, isolationLevel }))))
      .sort((a, b) => a.partition - b.partition).map(offset => offset.offset)
  // A transaction prepared before a crash is completed in the background after the open: give
  // its markers time to land (a transaction still open after that is reported by the caller).
  let lastStableOffsets = await ends(COPIER_OUTPUT_TOPIC, 'read_committed')
  let highWatermarks = await ends(COPIER_OUTPUT_TOPIC, 'read_uncommitted')
  for (let waitedMs = 0; waitedMs < STABLE_WAIT_MS_MAX
    && lastStableOffsets.some((offset, p) => offset !== highWatermarks[p]);
    waitedMs += STABLE_POLL_MS) {
    await new Promise(resolve => setTimeout(resolve, STABLE_POLL_MS))
    lastStableOffsets = await ends(COPIER_OUTPUT_TOPIC, 'read_committed')
    highWatermarks = await ends(COPIER_OUTPUT_TOPIC, 'read_uncommitted')
  }
  const inputEnds = await ends(COPIER_INPUT_TOPIC, 'read_uncommitted')
  const committedEntries = await stableOffsets(weir, partitions)
  const committed = partitions.map(partition => committedEntries.find(entry =>
    entry.topic === COPIER_INPUT_TOPIC && entry.partition === partition)?.offset ?? -1)
  const consumer = weir.consumer({ autoOffsetReset: 'earliest', isolationLevel: 'read_committed',
    maxWaitMs: 50 })
  await consumer.assign(partitions.map(partition => ({ topic: COPIER_OUTPUT_TOPIC, partition })))
  const read = partitions.map(partition => ({ partition, numbers: [] as number[],
    offsets: [] as number[] }))
  const positions = partitions.map(() => 0)
  const keyMismatches: string[] = []
  while (positions.some((position, p) => position < lastStableOffsets[p]!)) {
    const result = await consumer.next()
    if (result.done === true) break
    const batch = result.value
    for (const record of batch.records) {
      const value = record.value?.toString() ?? 'null'
      const key = record.key?.toString() ?? 'null'
      if (key !== value) {
        keyMismatches.push(`output ${batch.partition}@${record.offset}: key ${key}, value ${value}`)
      }
      read[batch.partition]!.numbers.push(Number(value))
      read[batch.partition]!.offsets.push(record.offset)
    }
    positions[batch.partition] = batch.nextOffset
  }
  await consumer.close()
  return { read, keyMismatches, lastStableOffsets, highWatermarks, inputEnds, committed }
}

/** One line of the copier's stdout protocol (see test/txn/copier-process.ts). */
export interface CopierEvent {
  readonly event: 'ready' | 'start' | 'open' | 'commit' | 'abort' | 'done' | 'stopped'
  readonly copied?: number
  readonly total?: number
  readonly records?: number
  readonly error?: string
}

const COPIER_PATH = fileURLToPath(new URL('../txn/copier-process.ts', import.meta.url))
const EVENTS_MAX = 1_000_000

/**
 * A copier child process. It is spawned with `--wait-for-go`, so loading tsx and the modules
 * (about a second) can overlap the previous child's run; `go()` lets it open the directory.
 * Every child is tracked until it has exited, so `disposeCopiers()` (in afterEach) can kill
 * whatever a failing test left running.
 */
export class CopierChild {
  private static readonly live = new Set<CopierChild>()
  readonly events: CopierEvent[] = []
  readonly exited: Promise<ChildExit>
  private readonly child: WaitingChild
  private readonly listeners: Array<(event: CopierEvent) => void> = []
  /** Set when the child broke the line protocol (it is then killed). */
  protocolError: string | undefined

  constructor(dir: string, options: readonly string[]) {
    this.child = spawnWaitingChild(COPIER_PATH, [dir, ...options],
      splitLines(line => this.receive(line)))
    this.exited = this.child.exited
    CopierChild.live.add(this)
    void this.exited.catch(() => undefined).finally(() => CopierChild.live.delete(this))
  }

  /** Kills every copier still running (for afterEach and finally blocks). */
  static async disposeAll(): Promise<void> {
    await Promise.all([...CopierChild.live].map(child => child.dispose()))
  }

  get stderrTail(): string {
    return this.child.stderrTail
  }

  /** Calls `listener` with every event from now on (and none already received). */
  onEvent(listener: (event: CopierEvent) => void): void {
    this.listeners.push(listener)
  }

  go(): void {
    this.child.go()
  }

  /** Sends `signal` unless the child has already exited; says whether it was sent. */
  signal(signal: 'SIGKILL' | 'SIGTERM'): boolean {
    const child = this.child.process
    if (child.exitCode !== null || child.signalCode !== null) return false
    return child.kill(signal)
  }

  async dispose(): Promise<void> {
    this.signal('SIGKILL')
    await this.exited.catch(() => undefined)
  }

  private receive(line: string): void {
    let event: CopierEvent
    try {
      event = JSON.parse(line) as CopierEvent
    } catch {
      this.protocolError ??= `copier printed a line that is not JSON: ${JSON.stringify(line)}`
      this.signal('SIGKILL')
      return
    }
    if (this.events.length >= EVENTS_MAX) {
      this.protocolError ??= `copier printed more than ${EVENTS_MAX} lines`
      this.signal('SIGKILL')
      return
    }
    this.events.push(event)
    for (const listener of this.listeners) listener(event)
  }
}
