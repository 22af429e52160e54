/**
 * What a consumer owns and where it stands in each partition (Kafka's SubscriptionState): the
 * assigned partitions, their fetch position, whether they are paused, and the offsets handed to
 * the application (for commits). Every change of position bumps the partition's `epoch`, so a
 * fetch that started before a seek or a reassignment can be recognised and dropped.
 */
import type { TopicPartition } from '../group/assignor.ts'

export interface PartitionState {
  readonly topic: string
  readonly partition: number
  /** Next offset to fetch; undefined until initialised from the committed offset or reset. */
  position: number | undefined
  paused: boolean
  /**
   * Newly assigned through the group, its rebalance listener not yet called: not fetched until
   * then, as in Kafka (a listener that pauses the partition or records where it starts must see
   * it before any record is fetched).
   */
  awaitingListener: boolean
  epoch: number
  /** Offset after the last record handed to the application. */
  consumed: number | undefined
  /** Offset after the last record the application finished (the batch before the current). */
  processed: number | undefined
}

export function partitionKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`
}

export class SubscriptionState {
  private readonly partitions = new Map<string, PartitionState>()

  assigned(): TopicPartition[] {
    return [...this.partitions.values()].map(({ topic, partition }) => ({ topic, partition }))
  }

  states(): PartitionState[] {
    return [...this.partitions.values()]
  }

  get(tp: TopicPartition): PartitionState | undefined {
    return this.partitions.get(partitionKey(tp))
  }

  add(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      if (this.partitions.has(partitionKey(tp))) continue
      this.partitions.set(partitionKey(tp), { topic: tp.topic, partition: tp.partition,
        position: undefined, paused: false, awaitingListener: false, epoch: 0,
        consumed: undefined, processed: undefined })
    }
  }

  remove(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.partitions.delete(partitionKey(tp))
  }

  seek(tp: TopicPartition, offset: number): void {
    const state = this.partitions.get(partitionKey(tp))
    if (state === undefined) return
    state.position = offset
    state.epoch++
  }

  /** Partitions that can be fetched now: assigned, positioned, not paused, listener called. */
  fetchable(): PartitionState[] {
    return this.states().filter(state => state.position !== undefined && !state.paused
      && !state.awaitingListener)
  }

  /** Marks what was handed out before the current batch as processed (at-least-once commits). */
  markProcessed(): void {
    for (const state of this.partitions.values()) state.processed = state.consumed
  }
}
