/**
 * Compaction of `cleanupPolicy: 'compact'` logs (Kafka's LogCleaner): keep the latest record per
 * key, drop tombstones (null values) once older than `deleteRetentionMs`, never touch the active
 * segment, never reorder, keep offsets (gaps appear where records were removed).
 *
 * Transactions (as LogCleaner.scala): nothing at or past the first unstable offset (the first
 * batch of a transaction without its marker yet) is cleaned; data of aborted transactions is
 * dropped whatever its key; a marker is kept while any data of its transaction is kept or it is
 * younger than `deleteRetentionMs`; the last batch of every producer id is kept, emptied if need
 * be, so producer sequence state rebuilt from the log survives.
 *
 * Each run re-cleans every cleanable closed segment: a pass builds the key → latest offset map,
 * then groups of consecutive segments (input ≤ segmentBytesMax) are each rewritten into one
 * segment. Crash safety of the swap: write `<base>.log.cleaned` and fsync it; rename it to
 * `<base>-<end>.swap` and fsync the directory (the commit point); delete the old segments in
 * [base, end) and fsync; rename the swap to `<base>.log` and fsync. Recovery discards `.cleaned`
 * files and completes `.swap` files, so a crash at any step leaves the old or the new segments.
 *
 * Tombstone age is taken from the record timestamp (Kafka counts from when the cleaner first saw
 * the segment); with CreateTime timestamps these agree for records produced in real time.
 */
import { WeirError } from '../errors.ts'
import type { FileSystem } from '../util/file-system.ts'
import { decodeControlRecord } from './control-record.ts'
import type { LogConfig } from './log-config.ts'
import { completeSwap, rebuildFrom } from './log-recovery.ts'
import { LogSegment } from './log-segment.ts'
import {
  type BatchHeader, compressionOf, decodeRecords, encodeBatch, isControl, isTransactional,
  type LogRecord, readBatchHeader,
} from './record-batch.ts'
import { CLEANED_SUFFIX, segmentPath, swapPath } from './segment-files.ts'

/** What the cleaner needs from the log; PartitionLog provides it. */
export interface CleanableLog {
  readonly directory: string
  readonly fs: FileSystem
  readonly config: LogConfig
  /** Base offset of the active segment: the end of the range the cleaner may replace. */
  readonly activeBaseOffset: number
  closedSegments(): readonly LogSegment[]
  replaceSegments(replaced: readonly LogSegment[], replacement: LogSegment): void
}

export interface CompactionResult {
  readonly segmentsRewritten: number
  readonly bytesBefore: number
  readonly bytesAfter: number
}

interface StoredBatch {
  readonly header: BatchHeader
  readonly bytes: Buffer
}

/** What one pass over the closed segments learned about transactions. */
interface TransactionFacts {
  /** Offsets of transactional data batches that belong to aborted transactions. */
  readonly abortedBatches: Set<number>
  /** Marker offset → base offsets of its transaction's data batches. */
  readonly markerData: Map<number, number[]>
  /** First offset of a transaction still open at the end of the closed segments. */
  readonly firstUnstableOffset: number
  /** Base offset of the last data batch of each producer id. */
  readonly lastBatchOfProducer: Set<number>
}

/** Calls `visit` for every batch of a closed segment, validating each on the way. */
async function forEachStoredBatch(segment: LogSegment, config: LogConfig,
  visit: (batch: StoredBatch) => void): Promise<void> {
  const scan = await segment.scan({ from: 0, fromOffset: segment.baseOffset,
    end: segment.sizeBytes, batchBytesMax: config.batchBytesMax }, (buffer, at) => {
    const header = readBatchHeader(buffer, at)
    visit({ header, bytes: buffer.subarray(at, at + header.batchLength + 12) })
  })
  if (scan.defect !== undefined) {
    throw new WeirError('WEIR_ERR_LOG_CORRUPT', `Compaction found segment ${segment.path} damaged `
      + `at offset ${scan.nextOffset} (${scan.defect}); restore the partition from a backup.`)
  }
}

async function learnTransactions(segments: readonly LogSegment[], config: LogConfig):
Promise<TransactionFacts> {
  const open = new Map<number, number[]>()
  const abortedBatches = new Set<number>()
  const markerData = new Map<number, number[]>()
  const lastOfProducer = new Map<number, number>()
  for (const segment of segments) {
    await forEachStoredBatch(segment, config, ({ header, bytes }) => {
      if (header.producerId < 0) return
      if (!isControl(header)) lastOfProducer.set(header.producerId, header.baseOffset)
      if (!isTransactional(header)) return
      const batches = open.get(header.producerId) ?? []
      if (!isControl(header)) {
        batches.push(header.baseOffset)
        open.set(header.producerId, batches)
        return
      }
      const marker = decodeControlRecord(decodeRecords(bytes)[0]!)
      if (marker.type === 'abort') for (const offset of batches) abortedBatches.add(offset)
      markerData.set(header.baseOffset, batches)
      open.delete(header.producerId)
    })
  }
  let firstUnstableOffset = Number.MAX_SAFE_INTEGER
  for (const batches of open.values()) {
    firstUnstableOffset = Math.min(firstUnstableOffset, batches[0]!)
  }
  return { abortedBatches, markerData, firstUnstableOffset,
    lastBatchOfProducer: new Set(lastOfProducer.values()) }
}

async function buildKeyMap(segments: readonly LogSegment[], facts: TransactionFacts,
  config: LogConfig): Promise<Map<string, number>> {
  const latest = new Map<string, number>()
  const keysMax = config.compactionKeysMax
  for (const segment of segments) {
    await forEachStoredBatch(segment, config, ({ header, bytes }) => {
      if (isControl(header) || facts.abortedBatches.has(header.baseOffset)) return
      for (const record of decodeRecords(bytes)) {
        if (record.key === null) continue
        latest.set(record.key.toString('latin1'), record.offset)
        if (latest.size > keysMax) {
          throw new WeirError('WEIR_ERR_LOG_COMPACTION_MAP_FULL', `Compaction of this log needs `
            + `more than compactionKeysMax (${keysMax}) keys in one pass; raise the limit.`)
        }
      }
    })
  }
  return latest
}

interface CleanContext {
  readonly latest: Map<string, number>
  readonly facts: TransactionFacts
  readonly keptDataBatches: Set<number>
  readonly tombstoneHorizonMs: number
}

function keepRecord(record: LogRecord, context: CleanContext): boolean {
  if (record.key === null) return true
  if (context.latest.get(record.key.toString('latin1')) !== record.offset) return false
  return record.value !== null || record.timestamp >= context.tombstoneHorizonMs
}

/** The batch as it should be after cleaning, or undefined to drop it. */
function cleanBatch(batch: StoredBatch, context: CleanContext): Buffer | undefined {
  const { header } = batch
  if (isControl(header)) {
    const data = context.facts.markerData.get(header.baseOffset) ?? []
    const dataKept = data.some(offset => context.keptDataBatches.has(offset))
    return dataKept || header.maxTimestamp >= context.tombstoneHorizonMs ? batch.bytes : undefined
  }
  const aborted = context.facts.abortedBatches.has(header.baseOffset)
  const records = decodeRecords(batch.bytes)
  const kept = aborted ? [] : records.filter(record => keepRecord(record, context))
  const isLastOfProducer = context.facts.lastBatchOfProducer.has(header.baseOffset)
  if (kept.length > 0) context.keptDataBatches.add(header.baseOffset)
  if (kept.length === records.length) return batch.bytes
  if (kept.length === 0 && !isLastOfProducer) return undefined
  return encodeBatch(kept, {
    baseOffset: header.baseOffset, timestamp: header.maxTimestamp,
    offsetDeltas: kept.map(record => record.offset - header.baseOffset),
    lastOffsetDelta: header.lastOffsetDelta, compression: compressionOf(header) ?? 'none',
    producerId: header.producerId, producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence, transactional: isTransactional(header),
    partitionLeaderEpoch: header.partitionLeaderEpoch,
  })
}

/** Groups consecutive segments whose combined size fits in one segment. */
function groupSegments(segments: readonly LogSegment[], bytesMax: number): LogSegment[][] {
  const groups: LogSegment[][] = []
  let current: LogSegment[] = []
  let bytes = 0
  for (const segment of segments) {
    if (current.length > 0 && bytes + segment.sizeBytes > bytesMax) {
      groups.push(current)
      current = []
      bytes = 0
    }
    current.push(segment)
    bytes += segment.sizeBytes
  }
  if (current.length > 0) groups.push(current)
  return groups
}

/** Cleans a group into `<base>.log.cleaned`, fsynced; returns its size in bytes. */
async function writeCleaned(log: CleanableLog, group: readonly LogSegment[],
  context: CleanContext, path: string): Promise<number> {
  const handle = await log.fs.open(path, 'create')
  try {
    await handle.truncate(0)
    let position = 0
    let parts: Buffer[] = []
    let pendingBytes = 0
    const writeParts = async (): Promise<void> => {
      await handle.writev(parts, position)
      position += pendingBytes
      parts = []
      pendingBytes = 0
    }
    for (const segment of group) {
      await forEachStoredBatch(segment, log.config, batch => {
        const cleaned = cleanBatch(batch, context)
        if (cleaned === undefined) return
        parts.push(cleaned)
        pendingBytes += cleaned.length
      })
      if (pendingBytes > 0) await writeParts()
    }
    await handle.datasync()
    return position
  } finally {
    await handle.close()
  }
}

/** Whether cleaning would change any batch of the group (dry run, nothing written). */
async function groupChanges(log: CleanableLog, group: readonly LogSegment[],
  context: CleanContext): Promise<boolean> {
  if (group.length > 1) return true
  let changed = false
  await forEachStoredBatch(group[0]!, log.config, batch => {
    if (cleanBatch(batch, context) !== batch.bytes) changed = true
  })
  return changed
}

/** Commits the swap of a cleaned group and puts the new segment in the log. */
async function swapIn(log: CleanableLog, group: readonly LogSegment[], endOffset: number,
  nowMs: number): Promise<LogSegment> {
  const { fs, directory } = log
  const base = group[0]!.baseOffset
  await fs.rename(segmentPath(directory, base, CLEANED_SUFFIX),
    swapPath(directory, base, endOffset))
  await fs.syncDirectory(directory)
  await completeSwap(fs, directory, { baseOffset: base, endOffset }, await fs.list(directory))
  const replacement = await LogSegment.open(fs, directory, base, nowMs)
  const scan = await rebuildFrom(replacement, { position: 0, offset: base }, replacement.sizeBytes,
    log.config)
  if (scan.defect !== undefined) {
    throw new WeirError('WEIR_ERR_LOG_CORRUPT',
      `Compacted segment ${replacement.path} failed validation (${scan.defect}).`)
  }
  await replacement.writeIndexFiles()
  log.replaceSegments(group, replacement)
  for (const segment of group) await segment.retire()
  return replacement
}

/** Closed segments wholly below `offset` (the first offset that may not be cleaned). */
function cleanableBelow(closed: readonly LogSegment[], activeBaseOffset: number, offset: number):
LogSegment[] {
  return closed.filter((segment, i) => (closed[i + 1]?.baseOffset ?? activeBaseOffset) <= offset)
}

/** One compaction pass over the closed segments. Run it through the log's maintenance queue. */
export async function compactLog(log: CleanableLog, nowMs: number): Promise<CompactionResult> {
  const closed = log.closedSegments()
  // Taken once: a roll while this pass runs makes a new active segment, and the segment that
  // followed the last closed one (the old active) must bound the swap range, not the new one.
  const activeBaseOffset = log.activeBaseOffset
  const facts = await learnTransactions(closed, log.config)
  const cleanable = cleanableBelow(closed, activeBaseOffset, facts.firstUnstableOffset)
  const latest = await buildKeyMap(cleanable, facts, log.config)
  const context: CleanContext = { latest, facts, keptDataBatches: new Set(),
    tombstoneHorizonMs: nowMs - log.config.deleteRetentionMs }
  const result = { segmentsRewritten: 0, bytesBefore: 0, bytesAfter: 0 }
  const groups = groupSegments(cleanable, log.config.segmentBytesMax)
  for (const group of groups) {
    const before = group.reduce((sum, segment) => sum + segment.sizeBytes, 0)
    result.bytesBefore += before
    if (!await groupChanges(log, group, context)) {
      result.bytesAfter += before
      continue
    }
    const last = group[group.length - 1]!
    const endOffset = closed[closed.indexOf(last) + 1]?.baseOffset ?? activeBaseOffset
    const path = segmentPath(log.directory, group[0]!.baseOffset, CLEANED_SUFFIX)
    result.bytesAfter += await writeCleaned(log, group, context, path)
    await swapIn(log, group, endOffset, nowMs)
    result.segmentsRewritten += group.length
  }
  return result
}
