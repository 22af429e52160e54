/**
 * Serdes: how a topology turns record keys and values into bytes and back (Kafka Streams' Serde).
 * A null value (a tombstone) never reaches a serde: it stays null. A failure to encode or
 * decode is a WEIR_ERR_SERDE_FAILED error naming the serde, which the runtime hands to the
 * configured deserialization error handler — never a silent skip.
 *
 * Out of the box: `json<T>()` (UTF-8 JSON), `string()` (UTF-8), `bytes()` (as stored) and
 * `protobuf<T>(type)` for a protobufjs message type (values are plain objects: enums as their
 * names, missing fields as their defaults, 64-bit integers as numbers — exact only up to 2^53,
 * so give larger values a string or bytes field).
 */
import type { Type } from 'protobufjs'
import { WeirError } from '../errors.ts'

export interface Serde<T> {
  /** Named in errors. */
  readonly name: string
  serialize(value: T): Buffer
  deserialize(bytes: Buffer): T
}

function failure(serde: string, action: 'serialize' | 'deserialize', cause: unknown): WeirError {
  return new WeirError('WEIR_ERR_SERDE_FAILED', `The ${serde} serde could not ${action} a value `
    + `(${cause instanceof Error ? cause.message : String(cause)}); check the topic's producers `
    + 'and the serde given to the topology.', { cause })
}

/** UTF-8 JSON. `undefined` cannot be represented and is refused. */
export function json<T>(): Serde<T> {
  return {
    name: 'json',
    serialize(value) {
      const text = JSON.stringify(value)
      if (text === undefined) throw failure('json', 'serialize', new Error('undefined'))
      return Buffer.from(text)
    },
    deserialize(bytes) {
      try {
        return JSON.parse(bytes.toString('utf8')) as T
      } catch (error) {
        throw failure('json', 'deserialize', error)
      }
    },
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** UTF-8 text; invalid UTF-8 is an error rather than replacement characters. */
export function string(): Serde<string> {
  return {
    name: 'string',
    serialize: value => Buffer.from(value, 'utf8'),
    deserialize(bytes) {
      try {
        return utf8.decode(bytes)
      } catch (error) {
        throw failure('string', 'deserialize', error)
      }
    },
  }
}

/** The bytes as stored. */
export function bytes(): Serde<Buffer> {
  return { name: 'bytes', serialize: value => value, deserialize: value => value }
}

/** A protobufjs message type; values are plain objects of the message's fields. */
export function protobuf<T extends object>(type: Type): Serde<T> {
  const name = `protobuf ${type.fullName.replace(/^\./, '')}`
  return {
    name,
    serialize(value) {
      // fromObject converts as protobufjs does (enum names, numeric strings); verify then
      // refuses what is still not a valid message.
      const message = type.fromObject(value)
      const problem = type.verify(message)
      if (problem !== null) throw failure(name, 'serialize', new Error(problem))
      return Buffer.from(type.encode(message).finish())
    },
    deserialize(bytes) {
      try {
        return type.toObject(type.decode(bytes), { longs: Number, enums: String,
          defaults: true }) as T
      } catch (error) {
        throw failure(name, 'deserialize', error)
      }
    },
  }
}

/**
 * The default key serde: strings as UTF-8 (what a producer sending string keys wrote, so keys
 * partition like theirs), Buffers as they are, anything else as JSON text. Keys read back are
 * strings. Give a typed serde (`keySerde`) when keys are not strings.
 */
export function defaultKeySerde(): Serde<unknown> {
  return {
    name: 'key',
    serialize(value) {
      if (typeof value === 'string') return Buffer.from(value, 'utf8')
      if (Buffer.isBuffer(value)) return value
      const text = JSON.stringify(value)
      if (text === undefined) throw failure('key', 'serialize', new Error(String(value)))
      return Buffer.from(text)
    },
    deserialize: bytes => bytes.toString('utf8'),
  }
}
