/**
 * Goal: keep the error registry (`src/errors.ts`) and its documentation (`docs/errors.md`) in
 * step, hold codes to the naming rule, and show that `WeirError` carries its registry entry and
 * is recognised by its brand, not by `instanceof`.
 *
 * Method: parse the table rows of docs/errors.md and compare them with `errorCodes` and
 * `errorCodeInfo` both ways (code set, retriable column, Kafka code column); check every code
 * against the naming pattern; construct each code and probe `WeirError.is` with instances,
 * look-alikes and non-errors.
 */
import { readFileSync } from 'node:fs'
import { test, fc } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { type ErrorCode, errorCodeInfo, errorCodes, WeirError } from '../src/errors.ts'
import { numRuns as defaultNumRuns } from './helpers/num-runs.ts'

const numRuns = defaultNumRuns(100)

interface DocumentedCode {
  readonly code: string
  readonly retriable: string
  readonly kafkaErrorCode: string
  readonly meaning: string
}

function documentedCodes(): DocumentedCode[] {
  const markdown = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const rows: DocumentedCode[] = []
  for (const line of markdown.split('\n')) {
    const match = /^\|\s*`([^`]+)`\s*\|([^|]*)\|([^|]*)\|(.*)\|\s*$/.exec(line)
    if (match === null) continue
    rows.push({
      code: match[1]!, retriable: match[2]!.trim(), kafkaErrorCode: match[3]!.trim(),
      meaning: match[4]!.trim(),
    })
  }
  return rows
}

const documented = documentedCodes()

describe('docs/errors.md and errorCodes', () => {
  it('documents codes in a table that the parser can read', () => {
    // Guards the comparisons below against passing vacuously on an empty parse.
    expect(documented.length).toBeGreaterThanOrEqual(errorCodes.length)
  })

  it('documents every code in errorCodes', () => {
    const missing = errorCodes.filter((code) => !documented.some((row) => row.code === code))
    expect(missing).toEqual([])
  })

  it('documents no code that errorCodes lacks', () => {
    const known: readonly string[] = errorCodes
    const unknown = documented.filter((row) => !known.includes(row.code)).map((row) => row.code)
    expect(unknown).toEqual([])
  })

  it('documents each code exactly once', () => {
    const codes = documented.map((row) => row.code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  for (const row of documented) {
    it(`documents ${row.code} with the retriable flag and Kafka code of errorCodeInfo`, () => {
      const info = errorCodeInfo[row.code as ErrorCode]
      expect(info).toBeDefined()
      expect(row.retriable).toBe(info.retriable ? 'yes' : 'no')
      const kafka = info.kafkaErrorCode
      if (kafka === undefined) expect(row.kafkaErrorCode).toMatch(/^[–—-]$/)
      else expect(row.kafkaErrorCode).toBe(String(kafka))
      expect(row.meaning.length).toBeGreaterThan(10)
    })
  }
})

describe('errorCodes', () => {
  it('holds only codes that follow the naming rule', () => {
    const pattern = /^([A-Z_]+|WEIR_ERR_[A-Z]+_[A-Z_]+)$/
    expect(errorCodes.filter((code) => !pattern.test(code))).toEqual([])
  })

  it('gives Weir\'s own codes an area and a what after WEIR_ERR_', () => {
    const own = errorCodes.filter((code) => code.startsWith('WEIR_'))
    expect(own.length).toBeGreaterThan(0)
    for (const code of own) expect(code).toMatch(/^WEIR_ERR_[A-Z]+_[A-Z][A-Z_]*[A-Z]$/)
  })

  it('holds each code once and has registry info for exactly those codes', () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length)
    expect(Object.keys(errorCodeInfo).sort()).toEqual([...errorCodes].sort())
  })
})

describe('WeirError', () => {
  for (const code of errorCodes) {
    it(`carries the registry entry of ${code}`, () => {
      const cause = new Error('underlying')
      const error = new WeirError(code, 'what happened; what to do', { cause })
      expect(error).toBeInstanceOf(Error)
      expect(error.name).toBe('WeirError')
      expect(error.code).toBe(code)
      expect(error.retriable).toBe(errorCodeInfo[code].retriable)
      expect(error.kafkaErrorCode).toBe(errorCodeInfo[code].kafkaErrorCode)
      expect(error.message).toBe('what happened; what to do')
      expect(error.cause).toBe(cause)
    })
  }

  test.prop([fc.constantFrom(...errorCodes), fc.constantFrom(...errorCodes)], { numRuns })(
    'WeirError.is recognises an instance, and with a code only an instance of that code',
    (code, asked) => {
      const error = new WeirError(code, 'message')
      expect(WeirError.is(error)).toBe(true)
      expect(WeirError.is(error, asked)).toBe(code === asked)
    })

  test.prop([fc.anything()], { numRuns })(
    'WeirError.is rejects any value that does not carry the brand',
    (value) => {
      expect(WeirError.is(value)).toBe(false)
    })

  it('rejects plain Errors, even ones with a matching code property', () => {
    const plain = Object.assign(new Error('boom'), { code: 'CORRUPT_MESSAGE' })
    expect(WeirError.is(new Error('boom'))).toBe(false)
    expect(WeirError.is(plain)).toBe(false)
    expect(WeirError.is(plain, 'CORRUPT_MESSAGE')).toBe(false)
    expect(WeirError.is(null)).toBe(false)
    expect(WeirError.is('CORRUPT_MESSAGE')).toBe(false)
  })

  it('rejects an object whose brand is a different symbol or not exactly true', () => {
    expect(WeirError.is({ [Symbol('weir.error')]: true, code: 'CORRUPT_MESSAGE' })).toBe(false)
    expect(WeirError.is({ [Symbol.for('weir.error')]: 'yes', code: 'CORRUPT_MESSAGE' })).toBe(false)
  })

  it('recognises an error branded by another copy of the module', () => {
    // A second copy of errors.ts would create its own class but share the registered symbol.
    const fromOtherCopy = Object.assign(new Error('boom'), {
      [Symbol.for('weir.error')]: true, code: 'WEIR_ERR_LOG_CLOSED',
    })
    expect(WeirError.is(fromOtherCopy)).toBe(true)
    expect(WeirError.is(fromOtherCopy, 'WEIR_ERR_LOG_CLOSED')).toBe(true)
    expect(WeirError.is(fromOtherCopy, 'WEIR_ERR_LOG_OFFLINE')).toBe(false)
  })
})
