/**
 * Weir's public entry: named exports grouped by layer. Internals not listed here are not part of
 * the API. The test kit (SimDisk) is published separately as `weir/testing` in a later issue.
 */

// Errors and limits
export { type ErrorCode, errorCodes, WeirError } from './errors.ts'
export { logLimitDefaults, type LogLimits } from './limits.ts'

// Util: the seams tests and embedders replace
export { type Clock, ManualClock, type Scheduler, systemClock } from './util/clock.ts'
export type { FileHandle, FileSystem, OpenMode } from './util/file-system.ts'
export { NodeFileSystem } from './util/node-file-system.ts'

// The partition log
export {
  type AppendResult, PartitionLog, type PartitionLogOptions, type ReadOptions, type ReadResult,
} from './log/partition-log.ts'
export {
  type CleanupPolicy, type FlushPolicy, type LogConfig, logConfigDefaults,
} from './log/log-config.ts'
export type { CompactionResult } from './log/log-cleaner.ts'
export {
  type BatchHeader, type Compression, decodeRecords, encodeBatch, type EncodeBatchOptions,
  forEachBatch, type LogRecord, readBatchHeader, type RecordHeader, type RecordInput,
} from './log/record-batch.ts'
export { type ControlMarker, type ControlType, decodeControlRecord, encodeControlBatch } from
  './log/control-record.ts'
