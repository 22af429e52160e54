/**
 * Sends one partition's sealed batches in order, keeping at most `inFlightMax` unacknowledged
 * (Kafka's max.in.flight.requests.per.connection, per partition here). With idempotence a batch
 * gets its producer id, epoch and sequence when first sent and is retried byte for byte, so the
 * broker recognises a retry of an appended batch and answers with the original offsets.
 *
 * Failure handling: after a failure nothing new is sent until every in-flight send settled; then,
 * oldest first:
 * - retriable errors, and OUT_OF_ORDER_SEQUENCE caused by an earlier batch of the same window
 *   failing, are retried unchanged after `retryBackoffMs`, one window at a time;
 * - a non-retriable error fails that batch; the broker appended nothing of it nor of anything
 *   after it, so later batches are renumbered from its sequence and retried;
 * - a batch that runs out of attempts or time fails with its last error. Whether the broker has it
 *   is then unknown, so the sender asks for a new producer id before sending anything else:
 *   later batches start over at sequence 0 under the new id and cannot be mistaken for it.
 * Why at most 5: the broker remembers the last 5 batches per producer and partition; a retry of
 * an older one could never be recognised as a duplicate.
 */
import { WeirError } from '../errors.ts'
import type { ProduceResult } from '../broker/partition.ts'
import { assert } from '../util/assert.ts'
import { type Clock, type Scheduler, sleep } from '../util/clock.ts'
import { encodeBatch, type RecordInput } from '../log/record-batch.ts'
import type { Transport } from './transport/transport.ts'
import type { ProducerConfig } from './producer-config.ts'

export interface SealedBatch {
  readonly records: readonly RecordInput[]
  readonly timestamp: number
  readonly createdMs: number
  readonly resolve: (result: ProduceResult) => void
  readonly reject: (error: unknown) => void
}

/**
 * Producer identity shared by a producer's partition senders. A transactional producer's epoch
 * moves at every transaction end; a sender adopts a new id or epoch (starting its sequences over
 * at 0) only with nothing in flight.
 */
export interface ProducerIdentity {
  readonly producerId: number
  readonly producerEpoch: number
  /** Batches are marked transactional (they belong to the producer's ongoing transaction). */
  readonly transactional: boolean
  /** Fetches a new producer id after an unresolved batch (see the file comment). */
  renew(): Promise<void>
}

interface Attempt {
  readonly batch: SealedBatch
  encoded: Buffer | undefined
  sequence: number
  attempts: number
  error: unknown
  /** Sent while an earlier batch was unacknowledged: a gap may be that batch's doing. */
  behindUnsettled: boolean
  outcome: 'acknowledged' | 'failed' | undefined
}

export class PartitionSender {
  private readonly queue: SealedBatch[] = []
  private inFlight: Attempt[] = []
  private recovering = false
  private nextSequence = 0
  private producerId = -1
  private producerEpoch = -1

  constructor(
    private readonly topic: string,
    private readonly partition: number,
    private readonly transport: Transport,
    private readonly config: ProducerConfig,
    private readonly identity: ProducerIdentity | undefined,
    private readonly clock: Clock,
    private readonly scheduler: Scheduler,
  ) {}

  get pending(): number {
    return this.queue.length + this.inFlight.length
  }

  enqueue(batch: SealedBatch): void {
    this.queue.push(batch)
    this.pump()
  }

  /**
   * Sends queued batches while fewer than `inFlightMax` are unacknowledged: a batch goes out as
   * soon as there is room, not after the batches ahead of it are acknowledged.
   */
  private pump(): void {
    while (!this.recovering && this.queue.length > 0
      && this.inFlight.length < this.config.inFlightMax) {
      if (this.identityChanged()) {
        if (this.inFlight.length > 0) return // switch ids only with nothing in flight
        this.adoptIdentity()
      }
      const attempt: Attempt = { batch: this.queue.shift()!, encoded: undefined, sequence: -1,
        attempts: 0, error: undefined, behindUnsettled: this.inFlight.length > 0,
        outcome: undefined }
      if (!this.tryPrepare(attempt)) continue
      this.inFlight.push(attempt)
      void this.sendOnce(attempt).then(ok => this.settle(attempt, ok))
    }
  }

  private settle(attempt: Attempt, ok: boolean): void {
    attempt.outcome = ok ? 'acknowledged' : 'failed'
    if (!ok) this.recovering = true
    if (!this.recovering) {
      this.inFlight = this.inFlight.filter(each => each.outcome === undefined)
      this.pump()
      return
    }
    if (this.inFlight.some(each => each.outcome === undefined)) return
    // Every send of the pipeline has settled: retry the failed ones, oldest first, alone.
    const failed = this.inFlight.filter(each => each.outcome === 'failed')
    this.inFlight = []
    void this.recover(failed).finally(() => {
      this.recovering = false
      this.pump()
    })
  }

  /** Retries failed batches in rounds until each is acknowledged or failed for good. */
  private async recover(failed: Attempt[]): Promise<void> {
    let unsettled = await this.triage(failed, attempt => attempt.behindUnsettled)
    // The oldest failed batch was only overtaken (a gap behind a batch then in flight): every
    // batch before it is acknowledged now, so its first retry cannot meet the gap again and
    // waits no backoff. Over HTTP, requests on two connections overtake each other at times.
    let overtaken = unsettled.length > 0 && unsettled[0] === failed[0]
      && WeirError.is(unsettled[0]!.error, 'OUT_OF_ORDER_SEQUENCE') && unsettled[0]!.behindUnsettled
    while (unsettled.length > 0) {
      if (!overtaken) await sleep(this.scheduler, this.config.retryBackoffMs)
      overtaken = false
      if (this.identityChanged()) this.adoptIdentity()
      const round = unsettled.filter(attempt => this.tryPrepare(attempt))
      if (round.length === 0) return
      const outcomes = await Promise.all(round.map(attempt => this.sendOnce(attempt)))
      unsettled = await this.triage(round.filter((_, i) => !outcomes[i]),
        attempt => attempt !== round[0])
    }
  }

  private identityChanged(): boolean {
    return this.identity !== undefined && (this.identity.producerId !== this.producerId
      || this.identity.producerEpoch !== this.producerEpoch)
  }

  /** Starts the sequence over under the producer's current id. */
  private adoptIdentity(): void {
    assert(this.identity !== undefined && this.inFlight.length === 0,
      'ids change only with nothing in flight')
    this.producerId = this.identity.producerId
    this.producerEpoch = this.identity.producerEpoch
    this.nextSequence = 0
  }

  /** Encodes the attempt; a batch that cannot be encoded fails alone (nothing was numbered). */
  private tryPrepare(attempt: Attempt): boolean {
    try {
      this.prepare(attempt)
      return true
    } catch (error) {
      attempt.batch.reject(error)
      return false
    }
  }

  private prepare(attempt: Attempt): void {
    if (attempt.encoded !== undefined) return
    const identity = this.identity
    const options = identity === undefined ? { timestamp: attempt.batch.timestamp }
      : { timestamp: attempt.batch.timestamp, producerId: this.producerId,
        producerEpoch: this.producerEpoch, baseSequence: this.nextSequence,
        transactional: identity.transactional }
    attempt.encoded = encodeBatch(attempt.batch.records,
      { ...options, compression: this.config.compression })
    attempt.sequence = this.nextSequence
    if (identity !== undefined) {
      this.nextSequence = (this.nextSequence + attempt.batch.records.length) % 2 ** 31
    }
  }

  private async sendOnce(attempt: Attempt): Promise<boolean> {
    attempt.attempts++
    try {
      const { transactionalId } = this.config
      const result = await this.transport.produce({ topic: this.topic,
        partition: this.partition, batch: attempt.encoded!, acks: this.config.acks,
        ...(transactionalId === undefined ? {} : { transactionalId }) })
      attempt.batch.resolve(result)
      return true
    } catch (error) {
      attempt.error = error
      return false
    }
  }

  /** Decides, oldest first, which failed batches are retried; fails the others. */
  private async triage(failed: readonly Attempt[], gapExcused: (attempt: Attempt) => boolean):
  Promise<Attempt[]> {
    const retry: Attempt[] = []
    let renumberFrom: number | undefined
    let renew = false
    for (const attempt of failed) {
      const error = attempt.error
      // A gap behind an earlier batch still in flight is that batch's doing (it failed, or a
      // transport delivered the two out of order): retry. A gap behind acknowledged ones is real.
      const gapBehindEarlier = WeirError.is(error, 'OUT_OF_ORDER_SEQUENCE') && gapExcused(attempt)
      const retriable = gapBehindEarlier || (WeirError.is(error) && error.retriable)
      const expired = attempt.attempts > this.config.retries
        || this.clock.nowMs() - attempt.batch.createdMs >= this.config.deliveryTimeoutMs
      if (renumberFrom !== undefined || (renew && knownNotAppended(error))) {
        attempt.encoded = undefined // this batch never reached the log: send it as a new one
        retry.push(attempt)
        continue
      }
      if (renew) {
        // Behind a batch of unknown outcome, a batch whose own outcome is unknown may be in the
        // log too: sending it under the new id could write it twice. Fail it instead.
        attempt.batch.reject(error)
        continue
      }
      if (retriable && !expired) {
        retry.push(attempt)
        continue
      }
      attempt.batch.reject(error)
      if (this.identity === undefined) continue
      if (retriable) renew = true // outcome unknown: never reuse these sequences
      else renumberFrom = attempt.sequence
    }
    if (renumberFrom !== undefined) this.nextSequence = renumberFrom
    if (renew && this.identity !== undefined) await this.identity.renew()
    assert(retry.length <= failed.length, 'retries come from the failed batches')
    return retry
  }
}

/** The broker refused the batch outright (a gap or a non-retriable error): it wrote nothing. */
function knownNotAppended(error: unknown): boolean {
  return WeirError.is(error) && (error.code === 'OUT_OF_ORDER_SEQUENCE' || !error.retriable)
}
