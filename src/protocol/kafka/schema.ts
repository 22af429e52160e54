/**
 * Kafka's message schemas as data, and one interpreter that reads and writes them (the approach
 * of Kafka's own generated messages, as an interpreter instead of generated code): each API
 * version file (apis/) declares its request and response as a list of fields, and handlers work
 * on plain objects, so one handler serves every version.
 *
 * Encodings (Kafka protocol guide; KIP-482 for flexible versions):
 * - classic: string = int16 length + UTF-8 (−1 null), bytes = int32 length (−1 null),
 *   array = int32 count (−1 null);
 * - flexible: compact string / bytes / array = unsigned varint (length + 1, 0 = null), and every
 *   struct (the body and each array element) ends with a tagged-field section, skipped when
 *   read and written empty.
 *
 * Reading is bounded by the frame: every length and count is checked against the bytes left
 * before anything is allocated, so an absurd count is refused (WEIR_ERR_KAFKA_MALFORMED) rather
 * than trusted, and a truncated frame never reads past its end. int64 fields are numbers: Weir's
 * offsets, ids and timestamps are exact up to 2^53, and a larger value is refused the same way.
 */
import { WeirError } from '../../errors.ts'

export type Primitive = 'int8' | 'int16' | 'int32' | 'int64' | 'bool' | 'uvarint'
  | 'string' | 'nullableString' | 'bytes' | 'nullableBytes'

export interface ArrayType {
  readonly array: FieldType
  readonly nullable?: boolean
}

export type FieldType = Primitive | ArrayType | Struct

export interface Field {
  readonly name: string
  readonly type: FieldType
}

export interface Struct {
  readonly fields: readonly Field[]
}

/** A request or response body of one API version. */
export interface MessageSchema extends Struct {
  /** Compact strings, bytes and arrays, and tagged fields after each struct (KIP-482). */
  readonly flexible: boolean
}

export const struct = (...fields: Field[]): Struct => ({ fields })
export const field = (name: string, type: FieldType): Field => ({ name, type })
export const arrayOf = (type: FieldType, nullable = false): ArrayType => ({ array: type, nullable })
export const message = (flexible: boolean, ...fields: Field[]): MessageSchema =>
  ({ flexible, fields })

function malformed(what: string): WeirError {
  return new WeirError('WEIR_ERR_KAFKA_MALFORMED', `Malformed Kafka request: ${what}.`)
}

/** Reads fields from a frame without ever reading past its end. */
export class FrameReader {
  position: number

  constructor(readonly buffer: Buffer, start = 0, private readonly end = buffer.length) {
    this.position = start
  }

  get remaining(): number {
    return this.end - this.position
  }

  private need(bytes: number, what: string): void {
    if (bytes > this.remaining) {
      throw malformed(`${what} needs ${bytes} bytes, ${this.remaining} left in the frame`)
    }
  }

  int8(): number {
    this.need(1, 'an int8')
    return this.buffer.readInt8(this.position++)
  }

  int16(): number {
    this.need(2, 'an int16')
    const value = this.buffer.readInt16BE(this.position)
    this.position += 2
    return value
  }

  int32(): number {
    this.need(4, 'an int32')
    const value = this.buffer.readInt32BE(this.position)
    this.position += 4
    return value
  }

  int64(): number {
    this.need(8, 'an int64')
    const value = this.buffer.readBigInt64BE(this.position)
    this.position += 8
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw malformed(`int64 ${value} is beyond 2^53`)
    }
    return Number(value)
  }

  uvarint(): number {
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1, 'a varint')
      const byte = this.buffer[this.position++]!
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
    }
    throw malformed('an unsigned varint is longer than 5 bytes')
  }

  /** `length` bytes as a view into the frame (copy it to keep it beyond the request). */
  bytes(length: number, what: string): Buffer {
    this.need(length, what)
    const view = this.buffer.subarray(this.position, this.position + length)
    this.position += length
    return view
  }
}

function readLength(reader: FrameReader, flexible: boolean, wide: boolean): number {
  if (flexible) return reader.uvarint() - 1
  return wide ? reader.int32() : reader.int16()
}

function readPrimitive(reader: FrameReader, type: Primitive, flexible: boolean): unknown {
  switch (type) {
    case 'int8': return reader.int8()
    case 'int16': return reader.int16()
    case 'int32': return reader.int32()
    case 'int64': return reader.int64()
    case 'bool': return reader.int8() !== 0
    case 'uvarint': return reader.uvarint()
    case 'string':
    case 'nullableString': {
      const length = readLength(reader, flexible, false)
      if (length < 0) {
        if (type === 'string') throw malformed('a non-nullable string is null')
        return null
      }
      return reader.bytes(length, 'a string').toString('utf8')
    }
    case 'bytes':
    case 'nullableBytes': {
      const length = readLength(reader, flexible, true)
      if (length < 0) {
        if (type === 'bytes') throw malformed('non-nullable bytes are null')
        return null
      }
      return reader.bytes(length, 'bytes')
    }
  }
}

/** Skips a flexible struct's tagged fields: Weir knows none, and Kafka says to ignore them. */
function skipTaggedFields(reader: FrameReader): void {
  const count = reader.uvarint()
  if (count > reader.remaining) throw malformed(`${count} tagged fields in a short frame`)
  for (let i = 0; i < count; i++) {
    reader.uvarint()
    reader.bytes(reader.uvarint(), 'a tagged field')
  }
}

function readType(reader: FrameReader, type: FieldType, flexible: boolean): unknown {
  if (typeof type === 'string') return readPrimitive(reader, type, flexible)
  if ('fields' in type) return readStruct(reader, type, flexible)
  const count = readLength(reader, flexible, true)
  if (count < 0) {
    if (type.nullable !== true) throw malformed('a non-nullable array is null')
    return null
  }
  // Every element takes at least one byte: a larger count cannot be honest.
  if (count > reader.remaining) {
    throw malformed(`an array of ${count} elements in ${reader.remaining} bytes`)
  }
  const items: unknown[] = []
  for (let i = 0; i < count; i++) items.push(readType(reader, type.array, flexible))
  return items
}

function readStruct(reader: FrameReader, schema: Struct, flexible: boolean):
Record<string, unknown> {
  const value: Record<string, unknown> = {}
  for (const { name, type } of schema.fields) value[name] = readType(reader, type, flexible)
  if (flexible) skipTaggedFields(reader)
  return value
}

/**
 * Reads a message body that ends at the reader's end. The caller's type is the schema's shape:
 * the interpreter guarantees it.
 * @throws WEIR_ERR_KAFKA_MALFORMED
 */
export function readMessage<T>(reader: FrameReader, schema: MessageSchema): T {
  return readStruct(reader, schema, schema.flexible) as T
}

/** Collects encoded chunks; `toBuffer` joins them once. */
export class FrameWriter {
  private readonly chunks: Buffer[] = []
  private size = 0

  get length(): number {
    return this.size
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
  }

  fixed(bytes: number, write: (buffer: Buffer) => void): void {
    const buffer = Buffer.allocUnsafe(bytes)
    write(buffer)
    this.push(buffer)
  }

  uvarint(value: number): void {
    const bytes: number[] = []
    let rest = value
    while (rest >= 0x80) {
      bytes.push((rest % 0x80) | 0x80)
      rest = Math.floor(rest / 0x80)
    }
    bytes.push(rest)
    this.push(Buffer.from(bytes))
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.size)
  }
}

function writeLength(writer: FrameWriter, length: number, flexible: boolean, wide: boolean): void {
  if (flexible) writer.uvarint(length + 1)
  else if (wide) writer.fixed(4, b => b.writeInt32BE(length))
  else writer.fixed(2, b => b.writeInt16BE(length))
}

function invalid(name: string, expected: string, value: unknown): Error {
  return new TypeError(`Kafka field ${name} must be ${expected}, got ${String(value)}`)
}

function writeBytesLike(writer: FrameWriter, name: string, type: Primitive, value: unknown,
  flexible: boolean): void {
  const nullable = type === 'nullableString' || type === 'nullableBytes'
  const wide = type === 'bytes' || type === 'nullableBytes'
  if (value === null || value === undefined) {
    if (!nullable) throw invalid(name, 'non-null', value)
    writeLength(writer, -1, flexible, wide)
    return
  }
  const bytes = wide ? value : Buffer.from(value as string, 'utf8')
  if (!Buffer.isBuffer(bytes)) throw invalid(name, 'a Buffer', value)
  writeLength(writer, bytes.length, flexible, wide)
  writer.push(bytes)
}

function writePrimitive(writer: FrameWriter, name: string, type: Primitive, value: unknown,
  flexible: boolean): void {
  const number = (): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw invalid(name, 'an integer', value)
    }
    return value
  }
  switch (type) {
    case 'int8': return writer.fixed(1, b => b.writeInt8(number()))
    case 'int16': return writer.fixed(2, b => b.writeInt16BE(number()))
    case 'int32': return writer.fixed(4, b => b.writeInt32BE(number()))
    case 'int64': return writer.fixed(8, b => b.writeBigInt64BE(BigInt(number())))
    case 'bool': return writer.fixed(1, b => b.writeInt8(value === true ? 1 : 0))
    case 'uvarint': return writer.uvarint(number())
    default: return writeBytesLike(writer, name, type, value, flexible)
  }
}

function writeType(writer: FrameWriter, name: string, type: FieldType, value: unknown,
  flexible: boolean): void {
  if (typeof type === 'string') return writePrimitive(writer, name, type, value, flexible)
  if ('fields' in type) return writeStruct(writer, type, value, flexible)
  if (value === null || value === undefined) {
    if (type.nullable !== true) throw invalid(name, 'an array', value)
    return writeLength(writer, -1, flexible, true)
  }
  if (!Array.isArray(value)) throw invalid(name, 'an array', value)
  writeLength(writer, value.length, flexible, true)
  for (const item of value) writeType(writer, name, type.array, item, flexible)
}

function writeStruct(writer: FrameWriter, schema: Struct, value: unknown, flexible: boolean):
void {
  const record = value as Record<string, unknown>
  for (const { name, type } of schema.fields) writeType(writer, name, type, record[name], flexible)
  if (flexible) writer.uvarint(0) // no tagged fields
}

/**
 * Appends a message body. A value that does not fit its schema is a bug in Weir's handler, not
 * bad input: it throws a TypeError.
 */
export function writeMessage(writer: FrameWriter, schema: MessageSchema, value: object): void {
  writeStruct(writer, schema, value, schema.flexible)
}
