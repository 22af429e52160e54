/**
 * Producer-state snapshot files in a partition directory (Kafka's `<offset>.snapshot`):
 *   00000000000000001234.snapshot   JSON { version: 2, offset, crc, producers, transactions }
 * `offset` says the snapshot holds the state after every batch below it: producers' sequence state
 * (ProducerEntry[]) and the partition's open and aborted transactions (TransactionSnapshot).
 * `crc` is CRC-32C of the JSON of `[producers, transactions]`, so a torn or bit-rotted snapshot is
 * detected and ignored (the state is then rebuilt from an older snapshot or the log itself: a
 * snapshot is only an optimisation). Version 1 files (before transactions) have no
 * `transactions` and are read as having none.
 *
 * Written as `<name>.tmp`, synced, renamed, directory synced; recovery of the log deletes stray
 * `.tmp` files. The newest `SNAPSHOTS_KEPT` are kept.
 */
import { join } from 'node:path'
import { crc32c } from '../util/crc32c.ts'
import { readWholeFile, writeFileAtomically } from '../util/atomic-file.ts'
import type { FileSystem } from '../util/file-system.ts'
import { offsetName, parseSegmentName } from '../log/segment-files.ts'
import type { TransactionSnapshot } from './partition-transactions.ts'
import type { ProducerEntry } from './producer-state-manager.ts'

export const SNAPSHOT_SUFFIX = '.snapshot'
const SNAPSHOTS_KEPT = 2

interface SnapshotFile {
  readonly version: 1 | 2
  readonly offset: number
  readonly crc: number
  readonly producers: readonly ProducerEntry[]
  readonly transactions?: TransactionSnapshot
}

export interface ProducerSnapshot {
  readonly offset: number
  readonly producers: ProducerEntry[]
  readonly transactions: TransactionSnapshot | undefined
}

function checksummedBody(file: Pick<SnapshotFile, 'version' | 'producers' | 'transactions'>):
Buffer {
  return Buffer.from(JSON.stringify(file.version === 1 ? file.producers
    : [file.producers, file.transactions]))
}

export async function writeProducerSnapshot(fs: FileSystem, directory: string, offset: number,
  producers: readonly ProducerEntry[], transactions: TransactionSnapshot): Promise<void> {
  const crc = crc32c(checksummedBody({ version: 2, producers, transactions }))
  const file: SnapshotFile = { version: 2, offset, crc, producers, transactions }
  const path = join(directory, offsetName(offset) + SNAPSHOT_SUFFIX)
  await writeFileAtomically(fs, path, Buffer.from(JSON.stringify(file)))
  const offsets = await snapshotOffsets(fs, directory)
  for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) {
    await fs.unlink(join(directory, offsetName(old) + SNAPSHOT_SUFFIX))
  }
}

async function snapshotOffsets(fs: FileSystem, directory: string): Promise<number[]> {
  return (await fs.list(directory)).map(name => parseSegmentName(name, SNAPSHOT_SUFFIX))
    .filter((offset): offset is number => offset !== undefined).sort((a, b) => a - b)
}

/**
 * The newest intact snapshot whose offset lies in [logStartOffset, logEndOffset], or undefined.
 * Snapshots outside that range are deleted: beyond the end they describe batches a crash took.
 */
export async function readLatestProducerSnapshot(fs: FileSystem, directory: string,
  range: { logStartOffset: number, logEndOffset: number }):
  Promise<ProducerSnapshot | undefined> {
  const offsets = await snapshotOffsets(fs, directory)
  for (const offset of offsets.reverse()) {
    const path = join(directory, offsetName(offset) + SNAPSHOT_SUFFIX)
    if (offset > range.logEndOffset) {
      await fs.unlink(path)
      continue
    }
    const parsed = await readSnapshot(fs, path)
    if (parsed !== undefined && parsed.offset === offset && offset >= range.logStartOffset) {
      return { offset, producers: [...parsed.producers], transactions: parsed.transactions }
    }
  }
  return undefined
}

async function readSnapshot(fs: FileSystem, path: string): Promise<SnapshotFile | undefined> {
  try {
    const buffer = await readWholeFile(fs, path)
    if (buffer === undefined) return undefined
    const file = JSON.parse(buffer.toString('utf8')) as SnapshotFile
    const known = file.version === 1 || file.version === 2
    return known && crc32c(checksummedBody(file)) === file.crc ? file : undefined
  } catch {
    return undefined // torn or corrupt: rebuilt from the log instead
  }
}
