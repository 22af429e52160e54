/**
 * Goal: show that `filterAbortedTransactions` hands a read_committed consumer exactly what KIP-98
 * allows: records of committed transactions and of non-transactional batches, from the fetch
 * position on, in offset order; never a record of an aborted transaction, never a marker.
 *
 * Method: batches built by hand with `encodeBatch` (producer fields, transactional flag) and
 * `encodeControlBatch`, placed at offsets with `setBaseOffset` by a small log builder, then cases
 * Kafka's Fetcher tests cover (committed, aborted, interleaved producers, a producer's aborted
 * transaction between two committed ones, a fetch from the middle of a batch, non-transactional
 * batches of the same producer id, an unsorted aborted list). A property then writes a random
 * interleaving of transactions and plain batches, decides every transaction, fetches from a
 * random position to a random batch boundary with the aborted list a broker would send
 * (transactions whose marker is at or after the position), and compares with a model that knows
 * each record's fate.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import type { AbortedTransaction } from '../../src/broker/fetch.ts'
import { filterAbortedTransactions } from '../../src/client/aborted-transaction-filter.ts'
import { encodeControlBatch } from '../../src/log/control-record.ts'
import { type Compression, encodeBatch, setBaseOffset } from '../../src/log/record-batch.ts'
import { fraction, numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(200)

/** A stored batch and the offsets it covers. */
interface PlacedBatch {
  readonly bytes: Buffer
  readonly baseOffset: number
  readonly lastOffset: number
}

/** Appends batches at consecutive offsets, as a partition log assigns them. */
class LogBuilder {
  readonly batches: PlacedBatch[] = []
  nextOffset = 0

  /** A data batch of `count` records valued `<label>@<offset>`; returns its base offset. */
  data(count: number, options: { producerId?: number, transactional?: boolean,
    label?: string, compression?: Compression } = {}): number {
    const baseOffset = this.nextOffset
    const label = options.label ?? `p${options.producerId ?? -1}`
    const records = Array.from({ length: count }, (_, i) =>
      ({ value: Buffer.from(`${label}@${baseOffset + i}`) }))
    const idempotent = options.producerId !== undefined
    return this.place(encodeBatch(records, { timestamp: 0,
      compression: options.compression ?? 'none',
      producerId: options.producerId ?? -1, producerEpoch: idempotent ? 0 : -1,
      baseSequence: idempotent ? 0 : -1, transactional: options.transactional ?? false }), count)
  }

  /** A transaction marker of `producerId`; returns its offset. */
  marker(producerId: number, type: 'commit' | 'abort'): number {
    return this.place(encodeControlBatch({ type, coordinatorEpoch: 0 },
      { producerId, producerEpoch: 0, timestamp: 0 }), 1)
  }

  private place(bytes: Buffer, count: number): number {
    const baseOffset = this.nextOffset
    setBaseOffset(bytes, 0, baseOffset)
    this.batches.push({ bytes, baseOffset, lastOffset: baseOffset + count - 1 })
    this.nextOffset += count
    return baseOffset
  }

  /** Batches `from` (index) up to `to` (exclusive), back to back, as a fetch returns them. */
  bytes(from = 0, to = this.batches.length): Buffer {
    return Buffer.concat(this.batches.slice(from, to).map(batch => batch.bytes))
  }
}

/** What the filter delivers, as `label@offset` strings (the value says which record it is). */
function visible(bytes: Buffer, abortedTransactions: readonly AbortedTransaction[],
  fromOffset = 0): string[] {
  const seen: string[] = []
  filterAbortedTransactions(bytes, { abortedTransactions, fromOffset }, record => {
    expect(record.value!.toString().endsWith(`@${record.offset}`)).toBe(true)
    seen.push(record.value!.toString())
  })
  return seen
}

describe('filterAbortedTransactions', () => {
  it('delivers a committed transaction and drops its marker', () => {
    const log = new LogBuilder()
    log.data(2, { producerId: 1, transactional: true })
    log.data(1, { producerId: 1, transactional: true })
    log.marker(1, 'commit')
    expect(visible(log.bytes(), [])).toEqual(['p1@0', 'p1@1', 'p1@2'])
  })

  it('skips an aborted transaction and delivers what follows its marker', () => {
    const log = new LogBuilder()
    const first = log.data(2, { producerId: 1, transactional: true })
    log.data(1, { producerId: 1, transactional: true })
    log.marker(1, 'abort')
    log.data(2, { label: 'plain' })
    expect(visible(log.bytes(), [{ producerId: 1, firstOffset: first }]))
      .toEqual(['plain@4', 'plain@5'])
  })

  it('interleaved producers: the one that aborts is skipped, the one that commits delivered',
    () => {
      const log = new LogBuilder()
      const first = log.data(1, { producerId: 1, transactional: true })
      log.data(2, { producerId: 2, transactional: true })
      log.data(1, { producerId: 1, transactional: true })
      log.data(1, { label: 'plain' })
      log.data(1, { producerId: 2, transactional: true })
      log.marker(1, 'abort')
      log.data(1, { producerId: 1, transactional: true }) // p1's next transaction, committed
      log.marker(2, 'commit')
      log.marker(1, 'commit')
      expect(visible(log.bytes(), [{ producerId: 1, firstOffset: first }]))
        .toEqual(['p2@1', 'p2@2', 'plain@4', 'p2@5', 'p1@7'])
    })

  it("an abort marker ends only that transaction: the producer's next one is delivered", () => {
    const log = new LogBuilder()
    log.data(1, { producerId: 3, transactional: true })
    log.marker(3, 'commit')
    const aborted = log.data(2, { producerId: 3, transactional: true })
    log.marker(3, 'abort')
    log.data(1, { producerId: 3, transactional: true })
    log.marker(3, 'commit')
    expect(visible(log.bytes(), [{ producerId: 3, firstOffset: aborted }]))
      .toEqual(['p3@0', 'p3@5'])
  })

  it('a fetch from the middle of a batch drops the records before the position', () => {
    const log = new LogBuilder()
    log.data(5, { label: 'plain' })
    log.data(3, { producerId: 1, transactional: true })
    log.marker(1, 'commit')
    expect(visible(log.bytes(), [], 3)).toEqual(['plain@3', 'plain@4', 'p1@5', 'p1@6', 'p1@7'])
    expect(visible(log.bytes(1), [], 6)).toEqual(['p1@6', 'p1@7'])
    expect(visible(log.bytes(2), [], 8)).toEqual([])
  })

  it('a fetch from the middle of an aborted transaction skips the rest of it', () => {
    const log = new LogBuilder()
    const first = log.data(4, { producerId: 1, transactional: true })
    log.data(2, { producerId: 2, transactional: true })
    log.marker(1, 'abort')
    log.marker(2, 'commit')
    expect(visible(log.bytes(), [{ producerId: 1, firstOffset: first }], 2))
      .toEqual(['p2@4', 'p2@5'])
  })

  it('non-transactional batches of a producer id are delivered around its aborted transaction',
    () => {
      const log = new LogBuilder()
      log.data(2, { producerId: 4 }) // idempotent, not transactional
      const first = log.data(2, { producerId: 4, transactional: true })
      log.marker(4, 'abort')
      log.data(1, { producerId: 4 })
      expect(visible(log.bytes(), [{ producerId: 4, firstOffset: first }]))
        .toEqual(['p4@0', 'p4@1', 'p4@5'])
    })

  it('never takes a non-transactional batch for aborted data (Kafka checks the flag)', () => {
    // A real producer does not write plain batches inside its own transaction; Kafka's
    // isBatchAborted still asks for the transactional flag, and so do we.
    const log = new LogBuilder()
    const first = log.data(1, { producerId: 5, transactional: true })
    log.data(1, { producerId: 5 })
    log.marker(5, 'abort')
    expect(visible(log.bytes(), [{ producerId: 5, firstOffset: first }])).toEqual(['p5@1'])
  })

  it('takes the aborted transactions in any order', () => {
    const log = new LogBuilder()
    const one = log.data(1, { producerId: 1, transactional: true })
    log.marker(1, 'abort')
    log.data(1, { producerId: 1, transactional: true })
    log.marker(1, 'commit')
    const two = log.data(1, { producerId: 1, transactional: true })
    log.marker(1, 'abort')
    const aborted = [{ producerId: 1, firstOffset: two }, { producerId: 1, firstOffset: one }]
    expect(visible(log.bytes(), aborted)).toEqual(['p1@2'])
    expect(aborted[0]!.firstOffset).toBe(two) // the caller's list is left as it was
  })

  it('without aborted transactions it is read_uncommitted: all data, no markers', () => {
    const log = new LogBuilder()
    log.data(1, { producerId: 1, transactional: true })
    log.marker(1, 'abort')
    log.data(1, { label: 'plain', compression: 'gzip' })
    expect(visible(log.bytes(), [])).toEqual(['p1@0', 'plain@2'])
    expect(visible(Buffer.alloc(0), [])).toEqual([])
  })
})

/** One step of a producer workload; steps that make no sense in the current state are skipped. */
type Step =
  | { readonly kind: 'data', readonly producer: number, readonly count: number,
    readonly gzip: boolean }
  | { readonly kind: 'end', readonly producer: number, readonly commit: boolean }
  | { readonly kind: 'plain', readonly producer: number | null, readonly count: number }

const PRODUCERS = 3
const producerArbitrary = fc.integer({ min: 0, max: PRODUCERS - 1 })
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('data' as const), producer: producerArbitrary,
    count: fc.integer({ min: 1, max: 3 }), gzip: fc.boolean() }),
  fc.record({ kind: fc.constant('end' as const), producer: producerArbitrary,
    commit: fc.boolean() }),
  fc.record({ kind: fc.constant('plain' as const),
    producer: fc.option(producerArbitrary, { nil: null }), count: fc.integer({ min: 1, max: 3 }) }),
)

interface Workload {
  readonly log: LogBuilder
  /** Every aborted transaction with the offset of its marker. */
  readonly aborted: ReadonlyArray<AbortedTransaction & { readonly markerOffset: number }>
  /** The values of records a read_committed reader may see, by offset. */
  readonly visibleByOffset: ReadonlyMap<number, string>
}

/** Writes the steps to a log, then decides every open transaction: the model of the partition. */
function runWorkload(steps: readonly Step[], finalCommits: readonly boolean[]): Workload {
  const log = new LogBuilder()
  const producerIds = Array.from({ length: PRODUCERS }, (_, i) => 100 + i)
  const open = new Map<number, { firstOffset: number, offsets: number[], labels: string[] }>()
  const aborted: Array<AbortedTransaction & { markerOffset: number }> = []
  const visibleByOffset = new Map<number, string>()
  const end = (producerId: number, commit: boolean): void => {
    const txn = open.get(producerId)!
    open.delete(producerId)
    const markerOffset = log.marker(producerId, commit ? 'commit' : 'abort')
    if (!commit) aborted.push({ producerId, firstOffset: txn.firstOffset, markerOffset })
    else txn.offsets.forEach((offset, i) => visibleByOffset.set(offset, txn.labels[i]!))
  }
  for (const step of steps) {
    const producerId = step.producer === null ? undefined : producerIds[step.producer]!
    if (step.kind === 'data') {
      const base = log.data(step.count, { producerId, transactional: true,
        compression: step.gzip ? 'gzip' : 'none' })
      const txn = open.get(producerId!) ?? { firstOffset: base, offsets: [], labels: [] }
      open.set(producerId!, txn)
      for (let i = 0; i < step.count; i++) {
        txn.offsets.push(base + i)
        txn.labels.push(`p${producerId}@${base + i}`)
      }
    } else if (step.kind === 'end') {
      if (open.has(producerId!)) end(producerId!, step.commit)
    } else if (producerId === undefined || !open.has(producerId)) {
      // Plain (non-transactional) data, of no producer or of one outside its transactions.
      const base = log.data(step.count, producerId === undefined ? {} : { producerId })
      for (let i = 0; i < step.count; i++) {
        visibleByOffset.set(base + i, `p${producerId ?? -1}@${base + i}`)
      }
    }
  }
  // Below the last stable offset every transaction is decided: close the open ones.
  ;[...open.keys()].forEach((producerId, i) => end(producerId, finalCommits[i] ?? false))
  return { log, aborted, visibleByOffset }
}

describe('filterAbortedTransactions against a model', () => {
  test.prop([
    fc.array(stepArbitrary, { maxLength: 40 }),
    fc.array(fc.boolean(), { minLength: PRODUCERS, maxLength: PRODUCERS }),
    fraction,
    fraction,
    fc.boolean(),
  ], { numRuns })(
    'read_committed delivers exactly the records of committed transactions and '
      + 'non-transactional batches, in offset order',
    (steps, finalCommits, fromFraction, toFraction, reversed) => {
      const { log, aborted, visibleByOffset } = runWorkload(steps, finalCommits)
      // The fetch: from a position anywhere in the log to a batch boundary after it (maxBytes).
      const fromOffset = Math.floor(fromFraction * log.nextOffset)
      const first = log.batches.findIndex(batch => batch.lastOffset >= fromOffset)
      const start = first === -1 ? log.batches.length : first
      const stop = start + Math.round(toFraction * (log.batches.length - start))
      const fetchedEnd = stop === 0 ? 0 : log.batches[stop - 1]!.lastOffset + 1
      // What a broker lists (Kafka's rule): aborted transactions not over before the position.
      const listed = aborted.filter(txn => txn.markerOffset >= fromOffset)
        .map(({ producerId, firstOffset }) => ({ producerId, firstOffset }))
      if (reversed) listed.reverse()
      const expected = [...visibleByOffset.entries()]
        .filter(([offset]) => offset >= fromOffset && offset < fetchedEnd)
        .sort(([a], [b]) => a - b).map(([, label]) => label)
      expect(visible(log.bytes(start, stop), listed, fromOffset)).toEqual(expected)
    })
})
