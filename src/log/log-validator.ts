/**
 * Checks a record batch handed to the log from outside (a producer over the network, later) before
 * anything is written (Kafka's LogValidator): limits first, then structure. A batch that fails is
 * refused with a typed error and the log is untouched.
 *
 * Checked: total size against `batchBytesMax`, magic 2, CRC-32C, a supported compression, and the
 * records themselves: each record's size against `recordBytesMax`, the record count, offset
 * deltas 0..n-1 (producers number records densely; only compaction leaves gaps) and the header's
 * maxTimestamp against the records' timestamps. Control batches are refused: only the transaction
 * coordinator writes markers, through its own path.
 */
import { WeirError } from '../errors.ts'
import { decompress } from './compression.ts'
import { type VarintCursor, readVarint } from '../util/varint.ts'
import type { LogConfig } from './log-config.ts'
import {
  BATCH_HEADER_BYTES, batchDefect, type BatchHeader, compressionOf, isControl, LOG_OVERHEAD_BYTES,
  readBatchHeader,
} from './record-batch.ts'

function invalid(message: string): WeirError {
  return new WeirError('INVALID_RECORD', `${message}; fix the producer that encoded this batch.`)
}

function recordsOf(batch: Buffer, header: BatchHeader, config: LogConfig): Buffer {
  const compression = compressionOf(header)
  if (compression === undefined) {
    throw new WeirError('UNSUPPORTED_COMPRESSION_TYPE',
      'Only compression none, gzip, snappy and lz4 are supported (not zstd); configure the '
      + 'producer with one of them.')
  }
  const section = batch.subarray(BATCH_HEADER_BYTES)
  if (compression === 'none') return section
  try {
    const bound = config.recordBytesMax * Math.max(header.recordCount, 1)
    return decompress(compression, section, Math.min(bound, config.readBytesMax))
  } catch (error) {
    throw new WeirError('CORRUPT_MESSAGE', `The ${compression} records section does not `
      + 'decompress within the limits; encode it again.', { cause: error })
  }
}

/** Walks the records' framing; throws the typed error for the first problem found. */
function checkRecords(records: Buffer, header: BatchHeader, config: LogConfig): void {
  const cursor: VarintCursor = { value: 0, position: 0 }
  let maxTimestamp = -1
  let count = 0
  while (cursor.position < records.length) {
    if (!readVarint(records, records.length, cursor) || cursor.value < 1) {
      throw new WeirError('CORRUPT_MESSAGE', 'A record length is malformed; encode it again.')
    }
    const bodyBytes = cursor.value
    const end = cursor.position + bodyBytes
    if (end > records.length) {
      throw new WeirError('CORRUPT_MESSAGE', 'A record runs past its batch; encode it again.')
    }
    if (bodyBytes > config.recordBytesMax) {
      throw new WeirError('MESSAGE_TOO_LARGE', `A record of ${bodyBytes} bytes exceeds `
        + `recordBytesMax (${config.recordBytesMax}); send smaller records or raise the limit.`)
    }
    cursor.position += 1
    if (!readVarint(records, end, cursor)) throw invalid('A record timestamp delta is malformed')
    maxTimestamp = Math.max(maxTimestamp, header.baseTimestamp + cursor.value)
    if (!readVarint(records, end, cursor) || cursor.value !== count) {
      throw invalid(`Record ${count} has offset delta ${cursor.value}, expected ${count}`)
    }
    cursor.position = end
    count++
  }
  if (count !== header.recordCount || count === 0) {
    throw invalid(`The batch declares ${header.recordCount} records but holds ${count}`)
  }
  if (header.lastOffsetDelta !== count - 1) {
    throw invalid(`lastOffsetDelta is ${header.lastOffsetDelta}, expected ${count - 1}`)
  }
  if (header.maxTimestamp !== maxTimestamp) {
    throw invalid(`maxTimestamp is ${header.maxTimestamp}, the records say ${maxTimestamp}`)
  }
}

/** Validates a batch from a producer; returns its header or throws a typed error. */
export function validateBatch(batch: Buffer, config: LogConfig): BatchHeader {
  if (batch.length > config.batchBytesMax) {
    throw new WeirError('RECORD_LIST_TOO_LARGE', `A batch of ${batch.length} bytes exceeds `
      + `batchBytesMax (${config.batchBytesMax}); send smaller batches or raise the limit.`)
  }
  const defect = batchDefect(batch, 0)
  if (defect !== undefined) {
    throw new WeirError('CORRUPT_MESSAGE', `The batch is damaged (${defect}); encode it again.`)
  }
  if (LOG_OVERHEAD_BYTES + batch.readInt32BE(8) !== batch.length) {
    throw new WeirError('CORRUPT_MESSAGE', 'Bytes follow the batch; send exactly one batch.')
  }
  const header = readBatchHeader(batch, 0)
  if (isControl(header)) throw invalid('Producers may not write control batches')
  checkRecords(recordsOf(batch, header, config), header, config)
  return header
}
