/**
 * Idempotent-producer state of one partition (Kafka's ProducerStateManager + ProducerAppendInfo):
 * per producer id, its epoch and the sequence ranges and offsets of its last 5 batches.
 *
 * `check()` classifies an incoming batch before it is appended: a duplicate of a cached batch
 * (same epoch, first and last sequence) is answered with the original offsets and written again
 * never; a sequence that does not follow the last one is OUT_OF_ORDER_SEQUENCE; an older epoch is
 * PRODUCER_FENCED. `update()` records an appended batch. Both are synchronous so that check,
 * offset assignment and update happen in one turn of the event loop: no second batch can slip
 * between them.
 *
 * Durability: the state is a function of the log. It is snapshotted to
 * `<offset>.snapshot` (JSON: the state after every batch below `offset`) and rebuilt on open from
 * the newest snapshot not beyond the log end, then by replaying batch headers from there. A
 * snapshot beyond the log end (the log lost unsynced data in a crash) is ignored.
 *
 * Not here (deliberately): producer-id expiry (Kafka's producer.id.expiration.ms). State lives as
 * long as the partition; a producer that comes back after its batches were deleted by retention
 * is accepted at any sequence (see `check`).
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN, matching max.in.flight ≤ 5. */
export const BATCHES_RETAINED = 5
const SEQUENCE_MAX = 2 ** 31 - 1

export interface ProducerBatch {
  readonly firstSequence: number
  readonly lastSequence: number
  readonly baseOffset: number
  readonly lastOffset: number
}

export interface ProducerEntry {
  readonly producerId: number
  readonly epoch: number
  /** Oldest first, at most BATCHES_RETAINED. */
  readonly batches: readonly ProducerBatch[]
}

/** What a producer batch carries in its header. */
export interface ProducerBatchInfo {
  readonly producerId: number
  readonly epoch: number
  readonly firstSequence: number
  /** Record count − 1 (the batch's lastOffsetDelta). */
  readonly lastOffsetDelta: number
}

export type SequenceCheck =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate', readonly batch: ProducerBatch }

/** Sequences wrap to 0 after int32 max (Kafka's ProducerAppendInfo.inSequence). */
export function nextSequence(sequence: number): number {
  return sequence === SEQUENCE_MAX ? 0 : sequence + 1
}

export function lastSequenceOf(info: ProducerBatchInfo): number {
  const last = info.firstSequence + info.lastOffsetDelta
  return last > SEQUENCE_MAX ? last - SEQUENCE_MAX - 1 : last
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>()

  constructor(entries: readonly ProducerEntry[] = []) {
    for (const entry of entries) this.producers.set(entry.producerId, entry)
  }

  get size(): number {
    return this.producers.size
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId)
  }

  entries(): ProducerEntry[] {
    return [...this.producers.values()]
  }

  /**
   * Classifies a batch against the producer's state.
   * @param stateMayBeLost the log no longer starts at offset 0, so a producer's batches (and with
   *   them its state) may have been removed by retention: an unknown producer is then accepted at
   *   any sequence, as Kafka does after producer-state expiry.
   * @throws PRODUCER_FENCED, OUT_OF_ORDER_SEQUENCE
   */
  check(info: ProducerBatchInfo, stateMayBeLost: boolean): SequenceCheck {
    assert(info.producerId >= 0, 'only idempotent batches are checked')
    const entry = this.producers.get(info.producerId)
    if (entry === undefined) {
      if (info.firstSequence !== 0 && !stateMayBeLost) throw outOfOrder(info, undefined)
      return { kind: 'append' }
    }
    if (info.epoch < entry.epoch) {
      throw new WeirError('PRODUCER_FENCED', `Producer ${info.producerId} epoch ${info.epoch} `
        + `is older than the current epoch ${entry.epoch}: a newer instance took over. `
        + 'Close this producer.')
    }
    if (info.epoch > entry.epoch) {
      // A new epoch starts its sequences over (Kafka: bumped epoch ⇒ first sequence 0).
      if (info.firstSequence !== 0) throw outOfOrder(info, undefined)
      return { kind: 'append' }
    }
    const lastSequence = lastSequenceOf(info)
    const duplicate = entry.batches.find(batch => batch.firstSequence === info.firstSequence
      && batch.lastSequence === lastSequence)
    if (duplicate !== undefined) return { kind: 'duplicate', batch: duplicate }
    // An epoch with no batches yet (set by a marker) starts at 0, like a new epoch.
    const last = entry.batches[entry.batches.length - 1]
    const expected = last === undefined ? 0 : nextSequence(last.lastSequence)
    if (info.firstSequence !== expected) throw outOfOrder(info, last?.lastSequence)
    return { kind: 'append' }
  }

  /** Records a batch appended at [baseOffset, lastOffset] (after `check` said 'append'). */
  update(info: ProducerBatchInfo, baseOffset: number, lastOffset: number): void {
    assert(lastOffset - baseOffset >= 0, 'a batch holds at least one offset')
    const entry = this.producers.get(info.producerId)
    const batch: ProducerBatch = { firstSequence: info.firstSequence,
      lastSequence: lastSequenceOf(info), baseOffset, lastOffset }
    const kept = entry === undefined || entry.epoch !== info.epoch ? [] : entry.batches
    const batches = kept.length >= BATCHES_RETAINED
      ? [...kept.slice(kept.length - BATCHES_RETAINED + 1), batch] : [...kept, batch]
    assert(batches.length <= BATCHES_RETAINED, 'the batch cache is bounded')
    this.producers.set(info.producerId, { producerId: info.producerId, epoch: info.epoch,
      batches })
  }

  /**
   * Raises a producer's epoch without a batch (a transactional producer's control marker, or
   * fencing); the batch cache is cleared as a new epoch starts sequences over.
   */
  bumpEpoch(producerId: number, epoch: number): void {
    const entry = this.producers.get(producerId)
    if (entry !== undefined && entry.epoch >= epoch) return
    this.producers.set(producerId, { producerId, epoch, batches: [] })
  }
}

function outOfOrder(info: ProducerBatchInfo, lastSequence: number | undefined): WeirError {
  const expected = lastSequence === undefined ? 0 : nextSequence(lastSequence)
  return new WeirError('OUT_OF_ORDER_SEQUENCE', `Producer ${info.producerId} sent sequence `
    + `${info.firstSequence} but the broker expected ${expected}: a batch went missing. `
    + 'Re-initialise the producer (initProducerId) and send again.')
}
