/**
 * Goal: every built-in serde round-trips the values it accepts, and refuses bad bytes with
 * WEIR_ERR_SERDE_FAILED naming the serde (a deserialization error is never silent).
 */
import fc from 'fast-check'
import protobufjs from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { bytes, json, protobuf, string } from '../../src/streams/serdes.ts'
import { numRuns } from '../helpers/num-runs.ts'

const orderType = protobufjs.parse(`syntax = "proto3";
  enum Status { NEW = 0; PAID = 1; }
  message Order { string id = 1; int64 total_cents = 2; Status status = 3; repeated string items = 4; }`,
{ keepCase: true }).root.lookupType('Order')

interface Order { id: string, total_cents: number, status: 'NEW' | 'PAID', items: string[] }

describe('serdes', () => {
  it('property: json round-trips any JSON value', () => {
    const serde = json<unknown>()
    fc.assert(fc.property(fc.jsonValue(), value => {
      expect(serde.deserialize(serde.serialize(value))).toEqual(JSON.parse(JSON.stringify(value)))
    }), { numRuns: numRuns(200) })
  })

  it('property: string round-trips any well-formed text and bytes round-trips any bytes', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), fc.uint8Array(), (text, raw) => {
      expect(string().deserialize(string().serialize(text))).toBe(text)
      expect(bytes().deserialize(bytes().serialize(Buffer.from(raw)))).toEqual(Buffer.from(raw))
    }), { numRuns: numRuns(200) })
  })

  it('property: protobuf round-trips messages of its type', () => {
    const serde = protobuf<Order>(orderType)
    const order = fc.record({ id: fc.string(), total_cents: fc.maxSafeNat(),
      status: fc.constantFrom('NEW' as const, 'PAID' as const),
      items: fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }) })
    fc.assert(fc.property(order, value => {
      expect(serde.deserialize(serde.serialize(value))).toEqual(value)
    }), { numRuns: numRuns(200) })
  })

  it('refuses what it cannot read or write with WEIR_ERR_SERDE_FAILED naming the serde', () => {
    const code = { code: 'WEIR_ERR_SERDE_FAILED' }
    expect(() => json().deserialize(Buffer.from('{nope'))).toThrow(expect.objectContaining(code))
    expect(() => json().serialize(undefined)).toThrow(expect.objectContaining(code))
    expect(() => string().deserialize(Buffer.from([0xc3, 0x28])))
      .toThrow(expect.objectContaining(code))
    expect(() => protobuf<Order>(orderType).deserialize(Buffer.from([0x0f])))
      .toThrow(/protobuf Order/)
  })
})
