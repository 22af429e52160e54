/**
 * Opening a partition directory after a clean close or a crash (Kafka's LogLoader).
 *
 * 1. Finish or discard what a crash interrupted: `.cleaned` compaction output and `.tmp` files
 *    are deleted; a committed `.swap` replaces the segments it covers; index files without a
 *    `.log` are deleted.
 * 2. Closed segments were fsynced whole before the next segment was created, so any damage found
 *    in one is corruption of synced data: a typed WEIR_ERR_LOG_CORRUPT naming the file and offset.
 *    Their indexes are loaded when intact, rebuilt by a validating scan otherwise.
 * 3. The active (last) segment is validated from where its trusted index ends. A defect below the
 *    recovery point is corruption (error); at or above it, it is the unsynced tail of a crash and
 *    is truncated away. Without a readable recovery point every defect counts as a torn tail.
 */
import { WeirError } from '../errors.ts'
import type { FileSystem } from '../util/file-system.ts'
import type { LogConfig } from './log-config.ts'
import { LogSegment } from './log-segment.ts'
import { readRecoveryPoint, writeRecoveryPoint } from './recovery-point-checkpoint.ts'
import { readBatchHeader } from './record-batch.ts'
import {
  CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, parseSegmentName, parseSwapName, segmentPath,
  swapPath, TIME_INDEX_SUFFIX,
} from './segment-files.ts'
import { join } from 'node:path'

export interface RecoveredLog {
  readonly segments: LogSegment[]
  /** Bytes cut from the end of the active segment (a torn or unsynced tail). */
  readonly truncatedBytes: number
}

function corruption(path: string, offset: number, defect: string): WeirError {
  return new WeirError('WEIR_ERR_LOG_CORRUPT',
    `Segment ${path} is damaged at offset ${offset} (${defect}) in data that was already synced. `
    + 'Weir will not truncate synced data: restore this partition from a replica or a backup.')
}

/** Step 1: completes committed swaps and removes leftovers; returns the segment base offsets. */
async function tidyDirectory(fs: FileSystem, directory: string): Promise<number[]> {
  const names = await fs.list(directory)
  for (const name of names) {
    if (name.endsWith(CLEANED_SUFFIX) || name.endsWith('.tmp')) {
      await fs.unlink(join(directory, name))
    }
  }
  for (const name of names) {
    const swap = parseSwapName(name)
    if (swap !== undefined) await completeSwap(fs, directory, swap, await fs.list(directory))
  }
  const current = await fs.list(directory)
  const bases = current.map(name => parseSegmentName(name, LOG_SUFFIX))
    .filter((base): base is number => base !== undefined).sort((a, b) => a - b)
  const withLog = new Set(bases)
  for (const name of current) {
    const base = parseSegmentName(name, INDEX_SUFFIX) ?? parseSegmentName(name, TIME_INDEX_SUFFIX)
    if (base !== undefined && !withLog.has(base)) await fs.unlink(join(directory, name))
  }
  await fs.syncDirectory(directory)
  return bases
}

/**
 * Makes a committed compaction swap take effect: deletes the old segments it covers, syncs the
 * directory (so no old segment can come back once the new one is in place), then renames the swap
 * file to its segment name. Used by compaction itself and, after a crash, by recovery.
 */
export async function completeSwap(fs: FileSystem, directory: string,
  swap: { baseOffset: number, endOffset: number }, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const base = parseSegmentName(name, LOG_SUFFIX) ?? parseSegmentName(name, INDEX_SUFFIX)
      ?? parseSegmentName(name, TIME_INDEX_SUFFIX)
    if (base !== undefined && base >= swap.baseOffset && base < swap.endOffset) {
      await fs.unlink(join(directory, name))
    }
  }
  await fs.syncDirectory(directory)
  await fs.rename(swapPath(directory, swap.baseOffset, swap.endOffset),
    segmentPath(directory, swap.baseOffset, LOG_SUFFIX))
  await fs.syncDirectory(directory)
}

/**
 * Re-indexes bytes [from, end) of a segment, validating each batch on the way. `dense` requires
 * each batch to start where the previous one ended (true of any segment compaction never wrote).
 */
export async function rebuildFrom(segment: LogSegment, from: { position: number, offset: number },
  end: number, config: LogConfig, options: { dense?: boolean } = {}):
  ReturnType<LogSegment['scan']> {
  segment.resetTo(from.position, from.offset, from.position === 0 ? -1 : segment.maxTimestamp)
  return segment.scan({ from: from.position, fromOffset: from.offset, end,
    batchBytesMax: config.batchBytesMax, dense: options.dense }, (buffer, at, position) => {
    const header = readBatchHeader(buffer, at)
    const batch = {
      baseOffset: header.baseOffset, lastOffset: header.baseOffset + header.lastOffsetDelta,
      maxTimestamp: header.maxTimestamp, sizeBytes: header.batchLength + 12,
    }
    segment.track(batch, position, config.indexIntervalBytes)
  })
}

async function openClosedSegment(fs: FileSystem, directory: string, baseOffset: number,
  config: LogConfig, nowMs: number): Promise<LogSegment> {
  const segment = await LogSegment.open(fs, directory, baseOffset, nowMs)
  const fileBytes = segment.sizeBytes
  if (await segment.loadIndexes(Number.MAX_SAFE_INTEGER)) {
    if (segment.sizeBytes === fileBytes) return segment
    if (segment.sizeBytes > fileBytes) {
      throw corruption(segment.path, segment.nextOffset, 'file shorter than its index records')
    }
  }
  const scan = await rebuildFrom(segment, { position: 0, offset: baseOffset }, fileBytes, config)
  if (scan.defect !== undefined) throw corruption(segment.path, scan.nextOffset, scan.defect)
  return segment
}

async function recoverActiveSegment(segment: LogSegment, recoveryPoint: number | undefined,
  config: LogConfig): Promise<number> {
  const fileBytes = segment.sizeBytes
  const trusted = recoveryPoint !== undefined
    && await segment.loadIndexes(fileBytes) && segment.nextOffset <= recoveryPoint
  const from = trusted
    ? { position: segment.sizeBytes, offset: segment.nextOffset }
    : { position: 0, offset: segment.baseOffset }
  // The active segment is never compacted, so its offsets have no gaps.
  const scan = await rebuildFrom(segment, from, fileBytes, config, { dense: true })
  const synced = recoveryPoint ?? 0
  if (scan.defect !== undefined && scan.nextOffset < synced) {
    throw corruption(segment.path, scan.nextOffset, scan.defect)
  }
  if (scan.defect === undefined && scan.nextOffset < synced) {
    throw corruption(segment.path, scan.nextOffset, 'file ends before the recovery point')
  }
  if (scan.validBytes < fileBytes) await segment.truncate(scan.validBytes, scan.nextOffset)
  return fileBytes - scan.validBytes
}

/** Opens (creating if needed) the segments of `directory`, recovering from any crash. */
export async function recoverLog(fs: FileSystem, directory: string, config: LogConfig,
  nowMs: number): Promise<RecoveredLog> {
  await fs.mkdir(directory)
  const bases = await tidyDirectory(fs, directory)
  if (bases.length === 0) {
    const segment = await LogSegment.create(fs, directory, 0, nowMs)
    await fs.syncDirectory(directory)
    await writeRecoveryPoint(fs, directory, 0)
    return { segments: [segment], truncatedBytes: 0 }
  }
  const recoveryPoint = await readRecoveryPoint(fs, directory)
  const segments: LogSegment[] = []
  try {
    for (const [i, base] of bases.slice(0, -1).entries()) {
      const segment = await openClosedSegment(fs, directory, base, config, nowMs)
      segments.push(segment)
      // A closed segment ends at or before the next one starts; past it, a base offset (outside
      // the CRC) is damaged, and its records would be served at the wrong offsets.
      if (segment.nextOffset > bases[i + 1]!) {
        throw corruption(segment.path, segment.nextOffset,
          `overlaps the next segment at ${bases[i + 1]}`)
      }
    }
    const active = await LogSegment.open(fs, directory, bases[bases.length - 1]!, nowMs)
    segments.push(active)
    const truncatedBytes = await recoverActiveSegment(active, recoveryPoint, config)
    // Everything that survived is now made durable, so the recovery point can be the log end.
    await active.datasync()
    await writeRecoveryPoint(fs, directory, active.nextOffset)
    return { segments, truncatedBytes }
  } catch (error) {
    await Promise.all(segments.map(segment => segment.close()))
    throw error
  }
}
