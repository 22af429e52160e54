/**
 * Mutations of valid request bodies for the server's fuzz properties: each takes a valid body
 * and changes it the ways a broken or hostile client would — JSON with a field dropped, a value
 * of the wrong type or at a boundary, an extra field, the text cut short or bits flipped;
 * protobuf with a field dropped, a field re-sent with another wire type, an unknown field added,
 * the bytes cut short or bits flipped. A mutation may leave the body valid (an optional field
 * dropped, an unknown protobuf field, a flipped bit outside any checksum): the properties allow
 * for that rather than assume every mutation is refused.
 *
 * Protobuf bodies are edited on the wire (tag, wire type, payload), one level of nesting deep
 * (the repeated partition messages), so a mutation can produce bytes no encoder would.
 */
import { fc } from '@fast-check/vitest'
import protobufjs from 'protobufjs'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Step = string | number
type Path = readonly Step[]

type JsonNode = Json[] | { [key: string]: Json }

const isContainer = (value: Json): value is JsonNode => value !== null && typeof value === 'object'

function child(node: Json, step: Step): Json {
  return (node as Record<Step, Json>)[step]!
}

function at(root: Json, path: Path): Json {
  return path.reduce<Json>(child, root)
}

/** Every node of `value` (the root first) as the path that reaches it. */
function pathsOf(value: Json, path: Path = []): Path[] {
  if (!isContainer(value)) return [path]
  const entries: Array<[Step, Json]> = Array.isArray(value) ? value.map((v, i) => [i, v])
    : Object.entries(value)
  return [path, ...entries.flatMap(([step, item]) => pathsOf(item, [...path, step]))]
}

function kindOf(value: Json): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

/** Values of every JSON kind; a wrong-type mutation takes one of another kind. */
const WRONG_TYPES: readonly Json[] = [null, true, false, 1.5, -0.25, '', 'x', '1', 'AAEC', [],
  [null], ['a'], {}, { a: 1 }, 0, -1]

/**
 * In-type values at and past the schemas' bounds. No integer here lies in (3, 1e6]: a partition
 * count or record count there would be a valid, very costly request.
 */
const BOUNDARIES: Readonly<Record<string, readonly Json[]>> = {
  integer: [-1, 0, -(2 ** 31), 2 ** 31, 2 ** 53, 1e20],
  string: ['', 'x'.repeat(300), 'ü', '../a', 'a b', '\u0000'],
}

export type JsonMutation =
  | { readonly kind: 'drop', readonly pick: number }
  | { readonly kind: 'wrongType', readonly pick: number, readonly choice: number }
  | { readonly kind: 'boundary', readonly pick: number, readonly choice: number }
  | { readonly kind: 'extra', readonly pick: number, readonly key: string, readonly value: Json }
  | { readonly kind: 'truncate', readonly keep: number }
  | { readonly kind: 'flip', readonly bits: readonly number[] }

export const jsonMutationArb: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('wrongType' as const), pick: fc.nat(), choice: fc.nat() }),
  fc.record({ kind: fc.constant('boundary' as const), pick: fc.nat(), choice: fc.nat() }),
  fc.record({ kind: fc.constant('extra' as const), pick: fc.nat(),
    key: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('__proto__',
      'constructor', 'prototype')),
    value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const),
    bits: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }),
)

function replaceAt(root: Json, path: Path, value: Json): Json {
  if (path.length === 0) return value
  const parent = at(root, path.slice(0, -1)) as Record<Step, Json>
  parent[path[path.length - 1]!] = value
  return root
}

function flipBits(bytes: Uint8Array, bits: readonly number[]): Uint8Array {
  const flipped = Uint8Array.from(bytes)
  if (flipped.length === 0) return flipped
  for (const bit of bits) {
    const position = bit % (flipped.length * 8)
    flipped[position >> 3]! ^= 1 << (position & 7)
  }
  return flipped
}

/** The body `mutation` makes of `seed`: JSON text, or bytes when bits were flipped. */
export function mutateJson(seed: Json, mutation: JsonMutation): string | Uint8Array {
  const text = JSON.stringify(seed)
  if (mutation.kind === 'truncate') return text.slice(0, mutation.keep % text.length)
  if (mutation.kind === 'flip') return flipBits(Buffer.from(text), mutation.bits)
  const root = structuredClone(seed)
  const paths = pathsOf(root)
  const pick = <T>(items: readonly T[], index: number): T => items[index % items.length]!
  switch (mutation.kind) {
    case 'drop': {
      const fields = paths.filter(path => typeof path[path.length - 1] === 'string')
      const path = pick(fields, mutation.pick)
      delete (at(root, path.slice(0, -1)) as Record<string, Json>)[path[path.length - 1]!]
      return JSON.stringify(root)
    }
    case 'wrongType': {
      const path = pick(paths, mutation.pick)
      const kind = kindOf(at(root, path))
      const choices = WRONG_TYPES.filter(value => kindOf(value) !== kind)
      return JSON.stringify(replaceAt(root, path, pick(choices, mutation.choice)))
    }
    case 'boundary': {
      const scalars = paths.filter(path => kindOf(at(root, path)) in BOUNDARIES)
      if (scalars.length === 0) return JSON.stringify(root)
      const path = pick(scalars, mutation.pick)
      const choices = BOUNDARIES[kindOf(at(root, path))]!
      return JSON.stringify(replaceAt(root, path, pick(choices, mutation.choice)))
    }
    case 'extra': {
      const objects = paths.filter(path => kindOf(at(root, path)) === 'object')
      const target = at(root, pick(objects, mutation.pick)) as Record<string, Json>
      let key = mutation.key
      while (Object.hasOwn(target, key)) key += '_'
      // defineProperty: a plain assignment of '__proto__' would set the prototype, not a key.
      Object.defineProperty(target, key, { value: mutation.value, enumerable: true,
        writable: true, configurable: true })
      return JSON.stringify(root)
    }
  }
}

/** One protobuf field as it lies on the wire; `children` when parsed as a nested message. */
export interface WireField {
  readonly field: number
  readonly wireType: number
  /** The bytes after the tag (for length-delimited fields, after the length). */
  readonly payload: Uint8Array
  readonly children?: WireField[]
}

/** Splits a message into its fields, parsing the fields numbered in `nested` one level down. */
export function parseWire(bytes: Uint8Array, nested: ReadonlySet<number> = new Set()):
WireField[] {
  const reader = protobufjs.Reader.create(bytes)
  const fields: WireField[] = []
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    const field = tag >>> 3
    const wireType = tag & 7
    const start = reader.pos
    if (wireType === 2) {
      const payload = Uint8Array.from(reader.bytes())
      fields.push({ field, wireType, payload,
        ...nested.has(field) ? { children: parseWire(payload) } : {} })
    } else {
      reader.skipType(wireType)
      fields.push({ field, wireType, payload: bytes.slice(start, reader.pos) })
    }
  }
  return fields
}

const varint = (value: number): Uint8Array => protobufjs.Writer.create().uint32(value).finish()

export function encodeWire(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const field of fields) {
    parts.push(varint(((field.field << 3) | field.wireType) >>> 0))
    if (field.wireType === 2) {
      const payload = field.children === undefined ? field.payload : encodeWire(field.children)
      parts.push(varint(payload.length), payload)
    } else {
      parts.push(field.payload)
    }
  }
  return Buffer.concat(parts)
}

export type ProtoMutation =
  | { readonly kind: 'drop', readonly pick: number }
  | { readonly kind: 'wrongWireType', readonly pick: number, readonly wireType: number,
    readonly value: number, readonly bytes: Uint8Array }
  | { readonly kind: 'unknownField', readonly pick: number, readonly field: number,
    readonly wireType: number, readonly value: number, readonly bytes: Uint8Array }
  | { readonly kind: 'truncate', readonly keep: number }
  | { readonly kind: 'flip', readonly bits: readonly number[] }

const payloadParts = { value: fc.nat(), bytes: fc.uint8Array({ maxLength: 24 }) }

export const protoMutationArb: fc.Arbitrary<ProtoMutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('wrongWireType' as const), pick: fc.nat(),
    wireType: fc.integer({ min: 0, max: 7 }), ...payloadParts }),
  fc.record({ kind: fc.constant('unknownField' as const), pick: fc.nat(),
    field: fc.integer({ min: 16, max: 2 ** 29 - 1 }), wireType: fc.constantFrom(0, 1, 2, 5),
    ...payloadParts }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const),
    bits: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }),
)

/** A payload of `wireType` made from the mutation's value and bytes (raw for 3, 4, 6, 7). */
function payloadOf(wireType: number, value: number, bytes: Uint8Array): Uint8Array {
  if (wireType === 0) return varint(value)
  if (wireType === 1) return Buffer.concat([bytes, Buffer.alloc(8)]).subarray(0, 8)
  if (wireType === 5) return Buffer.concat([bytes, Buffer.alloc(4)]).subarray(0, 4)
  return bytes
}

type Slot = readonly [number] | readonly [number, number]

/** The body `mutation` makes of the valid message `seed` (nested fields as for `parseWire`). */
export function mutateProto(seed: Uint8Array, nested: ReadonlySet<number>,
  mutation: ProtoMutation): Uint8Array {
  if (mutation.kind === 'truncate') return seed.slice(0, mutation.keep % seed.length)
  if (mutation.kind === 'flip') return flipBits(seed, mutation.bits)
  const fields = parseWire(seed, nested)
  const slots: Slot[] = fields.flatMap((field, i): Slot[] => [[i],
    ...(field.children ?? []).map((_, j): Slot => [i, j])])
  const slot = slots[mutation.pick % slots.length]!
  // The list the slot lives in: the message itself or one nested message's fields.
  const list = slot.length === 1 ? fields : [...fields[slot[0]]!.children!]
  const index = slot.length === 1 ? slot[0] : slot[1]
  if (mutation.kind === 'drop') list.splice(index, 1)
  else if (mutation.kind === 'wrongWireType') {
    const old = list[index]!
    const wireType = mutation.wireType === old.wireType ? (old.wireType + 1) % 8
      : mutation.wireType
    list[index] = { field: old.field, wireType,
      payload: payloadOf(wireType, mutation.value, mutation.bytes) }
  } else {
    list.push({ field: mutation.field, wireType: mutation.wireType,
      payload: payloadOf(mutation.wireType, mutation.value, mutation.bytes) })
  }
  if (slot.length === 2) fields[slot[0]] = { ...fields[slot[0]]!, children: list }
  return encodeWire(fields)
}
