/**
 * Goal (issue 9): the schema interpreter (src/protocol/kafka/schema.ts) is exact and safe.
 * Properties, over every request and response schema the listener serves:
 * - round trip: any value that fits a schema, written then read, is the same value, and the
 *   read consumes exactly the bytes written;
 * - hostile input: any bytes — random, or a valid encoding cut short or with a byte changed —
 *   either read as some value or are refused with WEIR_ERR_KAFKA_MALFORMED; nothing else is
 *   thrown, and no length or count beyond the frame is trusted (an array of 2^31 elements in a
 *   short frame is refused before anything is allocated).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../../src/errors.ts'
import { apiSchemas } from '../../../src/protocol/kafka/apis/index.ts'
import {
  type FieldType, FrameReader, FrameWriter, type MessageSchema, readMessage, type Struct,
  writeMessage,
} from '../../../src/protocol/kafka/schema.ts'
import { numRuns } from '../../helpers/num-runs.ts'

const int = (bits: number) => fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 })

function arbitraryOf(type: FieldType): fc.Arbitrary<unknown> {
  if (typeof type !== 'string') {
    if ('fields' in type) return structOf(type)
    const items = fc.array(arbitraryOf(type.array), { maxLength: 3 })
    return type.nullable === true ? fc.option(items, { nil: null }) : items
  }
  switch (type) {
    case 'int8': return int(8)
    case 'int16': return int(16)
    case 'int32': return int(32)
    case 'int64': return fc.maxSafeInteger().map(n => n)
    case 'bool': return fc.boolean()
    case 'uvarint': return fc.integer({ min: 0, max: 2 ** 32 - 1 })
    case 'string': return fc.string({ unit: 'grapheme', maxLength: 12 })
    case 'nullableString': return fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }),
      { nil: null })
    case 'bytes': return fc.uint8Array({ maxLength: 16 }).map(bytes => Buffer.from(bytes))
    case 'nullableBytes': return fc.option(fc.uint8Array({ maxLength: 16 })
      .map(bytes => Buffer.from(bytes)), { nil: null })
  }
}

function structOf(struct: Struct): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(struct.fields.map(f => [f.name, arbitraryOf(f.type)])))
}

const schemas: Array<[string, MessageSchema]> = apiSchemas.flatMap(api => [
  [`${api.name} v${api.version} request`, api.request] as [string, MessageSchema],
  [`${api.name} v${api.version} response`, api.response] as [string, MessageSchema]])

const encoded = (schema: MessageSchema, value: object): Buffer => {
  const writer = new FrameWriter()
  writeMessage(writer, schema, value)
  return writer.toBuffer()
}

/** Reads `bytes`; returns 'read' or 'refused', and fails on any other outcome. */
function readOrRefuse(schema: MessageSchema, bytes: Buffer): 'read' | 'refused' {
  try {
    readMessage(new FrameReader(bytes), schema)
    return 'read'
  } catch (error) {
    if (WeirError.is(error, 'WEIR_ERR_KAFKA_MALFORMED')) return 'refused'
    throw error
  }
}

describe.each(schemas)('%s', (_name, schema) => {
  test.prop([structOf(schema)], { numRuns: numRuns(40) })(
    'round trip: written then read is the same value, every byte consumed', value => {
      const bytes = encoded(schema, value)
      const reader = new FrameReader(bytes)
      expect(readMessage(reader, schema)).toEqual(value)
      expect(reader.remaining).toBe(0)
    })

  test.prop([structOf(schema), fc.nat(), fc.integer({ min: 0, max: 255 }),
    fc.uint8Array({ maxLength: 64 })], { numRuns: numRuns(40) })(
    'hostile input: cut, changed or random bytes are read or refused, nothing else',
    (value, at, byte, random) => {
      const bytes = encoded(schema, value)
      if (bytes.length > 0) {
        expect(readOrRefuse(schema, bytes.subarray(0, at % bytes.length))).toMatch(/read|refused/)
        const changed = Buffer.from(bytes)
        changed[at % bytes.length] = byte
        expect(readOrRefuse(schema, changed)).toMatch(/read|refused/)
      }
      expect(readOrRefuse(schema, Buffer.from(random))).toMatch(/read|refused/)
    })
})

describe('counts beyond the frame', () => {
  it('an array count of 2^31 − 1 in a 4-byte frame is refused before allocating', () => {
    const frame = Buffer.from('7fffffff', 'hex')
    const schema = apiSchemas.find(api => api.name === 'Metadata' && api.version === 1)!.request
    expect(readOrRefuse(schema, frame)).toBe('refused')
  })
})
