/**
 * Restores a state store from its changelog partition (Kafka Streams' StoreChangelogReader): read
 * with read_committed from the store's checkpoint to the changelog's end, apply each fetch's
 * records in order with the checkpoint in one atomic batch, report progress.
 *
 * The end is the changelog's last stable offset, taken once at the start. The loop compares the
 * position with it and moves the position to each fetch's `nextOffset`, never waiting for a
 * record at `end − 1`: under exactly-once the last offset is often a commit marker, which is
 * never delivered as a record (the class of bug behind Faust's EOS restore hang,
 * faust-streaming/faust #47).
 *
 * A checkpoint that cannot be trusted — missing, beyond the changelog's end (the topic lost or
 * was recreated), or before its start (retention removed records the store never saw) — makes
 * the store start over: it is cleared and restored from the beginning.
 */
import { WeirError } from '../errors.ts'
import { filterAbortedTransactions } from '../client/aborted-transaction-filter.ts'
import type { Transport } from '../client/transport/transport.ts'
import type { KeyValueStore } from './key-value-store.ts'

export interface RestoreProgress {
  readonly store: string
  /** Changelog records applied so far. */
  readonly records: number
  readonly position: number
  readonly endOffset: number
}

export interface RestoreOptions {
  readonly transport: Transport
  readonly topic: string
  readonly partition: number
  readonly onProgress?: (progress: RestoreProgress) => void
  /** Bytes per fetch (default 4 MiB). */
  readonly fetchBytes?: number
}

export interface RestoreResult {
  /** Changelog offset the restore started from. */
  readonly from: number
  readonly endOffset: number
  readonly records: number
  /** The checkpoint could not be trusted: the store was cleared and rebuilt. */
  readonly fromScratch: boolean
}

const FETCH_BYTES_DEFAULT = 4 * 1024 * 1024

export async function restoreStore(store: KeyValueStore, options: RestoreOptions):
Promise<RestoreResult> {
  const { transport, topic, partition } = options
  const [[end], [start]] = await Promise.all([
    transport.listOffsets([{ topic, partition, spec: 'latest', isolationLevel: 'read_committed' }]),
    transport.listOffsets([{ topic, partition, spec: 'earliest' }]),
  ])
  const endOffset = end!.offset
  const startOffset = start!.offset
  const checkpoint = store.checkpoint
  const fromScratch = checkpoint === undefined || checkpoint > endOffset || checkpoint < startOffset
  if (fromScratch) await store.clear()
  const from = fromScratch ? startOffset : checkpoint
  let position = from
  let records = 0
  while (position < endOffset) {
    const [result] = await transport.fetch({ isolationLevel: 'read_committed', maxWaitMs: 0,
      partitions: [{ topic, partition, offset: position,
        maxBytes: options.fetchBytes ?? FETCH_BYTES_DEFAULT }] })
    if (result === undefined) throw noProgress(store, position, endOffset)
    if (result.error !== undefined) throw result.error
    if (result.nextOffset <= position) throw noProgress(store, position, endOffset)
    // In changelog order: a LevelDB batch applies its writes in order, so the last write of a
    // key wins without a per-key map (which cost a quarter of the restore's time).
    const writes: Array<{ key: Buffer, value: Buffer | null }> = []
    filterAbortedTransactions(result.bytes,
      { abortedTransactions: result.abortedTransactions ?? [], fromOffset: position }, record => {
        records++
        if (record.key === null) return // not a store record: changelogs are always keyed
        writes.push({ key: record.key, value: record.value })
      })
    await store.apply(writes, result.nextOffset)
    position = result.nextOffset
    options.onProgress?.({ store: store.name, records, position, endOffset })
  }
  // Record where the restore ended, even when there was nothing to read.
  if (store.checkpoint !== position) await store.apply([], position)
  return { from, endOffset, records, fromScratch }
}

function noProgress(store: KeyValueStore, position: number, endOffset: number): WeirError {
  return new WeirError('WEIR_ERR_STORE_IO', `Restoring ${store.name} stopped at changelog offset `
    + `${position} below its end ${endOffset}: the changelog returned nothing there. Check the `
    + 'changelog topic; delete the store directory to restore from the beginning.')
}
