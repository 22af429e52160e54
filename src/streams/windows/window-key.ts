/**
 * Keys of window stores on classic-level: the record key's bytes followed by the window start
 * as 8 bytes big-endian (and, for sessions, the end likewise), so that LevelDB orders a key's
 * windows by start and a range [key + from, key + to) finds a key's windows in a time range
 * (Kafka's WindowKeySchema). Starts are ≥ 0 (no window starts before time 0), so unsigned
 * big-endian order is numeric order.
 *
 * A range for one key can also hold entries of a longer key that begins with the same bytes;
 * `decodeWindowKey` with the expected key length tells them apart.
 */
import { assert } from '../../util/assert.ts'
import type { Serde } from '../serdes.ts'

const TIME_BYTES = 8

export interface DecodedWindowKey {
  readonly key: Buffer
  readonly start: number
  /** Present for session keys. */
  readonly end?: number
}

export function encodeWindowKey(key: Buffer, start: number, end?: number): Buffer {
  assert(Number.isSafeInteger(start) && start >= 0, 'window starts are non-negative integers')
  const times = end === undefined ? 1 : 2
  const bytes = Buffer.allocUnsafe(key.length + TIME_BYTES * times)
  key.copy(bytes, 0)
  bytes.writeBigUInt64BE(BigInt(start), key.length)
  if (end !== undefined) {
    assert(Number.isSafeInteger(end) && end >= start, 'a session ends at or after its start')
    bytes.writeBigUInt64BE(BigInt(end), key.length + TIME_BYTES)
  }
  return bytes
}

/** Splits a stored key; `session` says whether it carries an end. */
export function decodeWindowKey(bytes: Buffer, session = false): DecodedWindowKey {
  const times = session ? 2 : 1
  assert(bytes.length >= TIME_BYTES * times, 'a window key holds its times')
  const keyLength = bytes.length - TIME_BYTES * times
  const start = Number(bytes.readBigUInt64BE(keyLength))
  return session
    ? { key: bytes.subarray(0, keyLength), start,
      end: Number(bytes.readBigUInt64BE(keyLength + TIME_BYTES)) }
    : { key: bytes.subarray(0, keyLength), start }
}

/** A window store's key: the record key and the window's start. */
export interface WindowedKey {
  readonly key: unknown
  readonly start: number
}

/** The store key serde: the record key's bytes, then the window start (big-endian). */
export function windowedKeySerde(keySerde: Serde<unknown>): Serde<unknown> {
  return {
    name: `windowed ${keySerde.name}`,
    serialize: value => {
      const { key, start } = value as WindowedKey
      return encodeWindowKey(keySerde.serialize(key), start)
    },
    deserialize: bytes => {
      const { key, start } = decodeWindowKey(bytes)
      return { key: keySerde.deserialize(key), start }
    },
  }
}
