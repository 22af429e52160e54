/**
 * Names of the files that make up a partition directory. A segment is named by its base offset,
 * zero-padded to 20 digits so names sort as offsets do (Kafka's convention):
 *   00000000000000000000.log        record batches
 *   00000000000000000000.index      sparse offset index
 *   00000000000000000000.timeindex  sparse time index
 *   00000000000000000000.log.cleaned  compaction output being written (discarded on open)
 *   00000000000000000000-00000000000000000123.swap  compaction output committed to replace
 *                                   the segments with base offsets in [first, second)
 *                                   (completed on open)
 *   recovery-point.checkpoint       offset below which everything is synced
 */
import { join } from 'node:path'

export const LOG_SUFFIX = '.log'
export const INDEX_SUFFIX = '.index'
export const TIME_INDEX_SUFFIX = '.timeindex'
export const CLEANED_SUFFIX = '.log.cleaned'
export const SWAP_SUFFIX = '.swap'
export const RECOVERY_POINT_FILE = 'recovery-point.checkpoint'

const OFFSET_DIGITS = 20

export function offsetName(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0')
}

export function segmentPath(directory: string, baseOffset: number, suffix: string): string {
  return join(directory, offsetName(baseOffset) + suffix)
}

export function swapPath(directory: string, baseOffset: number, endOffset: number): string {
  return join(directory, `${offsetName(baseOffset)}-${offsetName(endOffset)}${SWAP_SUFFIX}`)
}

/** Base offset of a file named `<20 digits><suffix>`, or undefined for any other name. */
export function parseSegmentName(name: string, suffix: string): number | undefined {
  if (!name.endsWith(suffix) || name.length !== OFFSET_DIGITS + suffix.length) return undefined
  const digits = name.slice(0, OFFSET_DIGITS)
  return /^\d+$/.test(digits) ? Number(digits) : undefined
}

/** [first, end) of a swap file name, or undefined for any other name. */
export function parseSwapName(name: string): { baseOffset: number, endOffset: number } | undefined {
  const match = /^(\d{20})-(\d{20})\.swap$/.exec(name)
  if (match === null) return undefined
  return { baseOffset: Number(match[1]), endOffset: Number(match[2]) }
}
