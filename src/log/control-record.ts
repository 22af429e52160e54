/**
 * Control records: the transaction markers a commit or abort writes into every partition it
 * touched (Kafka's EndTransactionMarker). A control batch holds exactly one such record:
 *   key   = version int16 (0), type int16 (0 = abort, 1 = commit)
 *   value = version int16 (0), coordinatorEpoch int32
 */
import { WeirError } from '../errors.ts'
import { encodeBatch, type LogRecord } from './record-batch.ts'

export type ControlType = 'abort' | 'commit'

export interface ControlMarker {
  readonly type: ControlType
  readonly coordinatorEpoch: number
}

export function encodeControlBatch(marker: ControlMarker, options: {
  producerId: number, producerEpoch: number, timestamp: number,
}): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(marker.type === 'commit' ? 1 : 0, 2)
  const value = Buffer.alloc(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(marker.coordinatorEpoch, 2)
  return encodeBatch([{ key, value }], {
    timestamp: options.timestamp, producerId: options.producerId,
    producerEpoch: options.producerEpoch, transactional: true, control: true,
  })
}

/** Reads the marker out of a control batch's single record. */
export function decodeControlRecord(record: LogRecord): ControlMarker {
  const { key, value } = record
  if (key === null || key.length < 4 || value === null || value.length < 6) {
    throw new WeirError('CORRUPT_MESSAGE', 'Control record is too short to be a marker.')
  }
  const type = key.readInt16BE(2)
  if (type !== 0 && type !== 1) {
    throw new WeirError('CORRUPT_MESSAGE', `Unknown control record type ${type}.`)
  }
  return { type: type === 1 ? 'commit' : 'abort', coordinatorEpoch: value.readInt32BE(2) }
}
