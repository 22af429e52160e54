/**
 * Goal: the pure parts of the CLI do what the commands promise: input split into lines exactly
 * (the basis of produce → consume being byte-identical), option values parsed or refused as
 * usage errors, tables aligned, the progress bar drawn within its bounds, failures one line.
 * Method: call them in-process; the line splitter by a property over arbitrary bytes and
 * arbitrary chunk boundaries against a model (split the whole input at '\n').
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/errors.ts'
import { failureLine, parseInteger, UsageError } from '../../src/cli/command.ts'
import { parsePosition } from '../../src/cli/commands/groups.ts'
import { parseTopicConfig } from '../../src/cli/commands/topics.ts'
import { LineSplitter } from '../../src/cli/line-splitter.ts'
import { renderProgress } from '../../src/cli/progress-bar.ts'
import { formatTable } from '../../src/cli/table.ts'
import { camelCase } from '../../src/cli/topology-module.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(200)

/** The model: the input split at every '\n', without the empty piece after a final '\n'. */
function modelLines(input: Buffer): string[] {
  const pieces = input.toString('latin1').split('\n')
  if (pieces.at(-1) === '') pieces.pop()
  return pieces
}

describe('LineSplitter', () => {
  const bytes = fc.uint8Array({ maxLength: 300 }).map(array => Buffer.from(array))
  const newlineHeavy = fc.array(fc.constantFrom(0x0a, 0x0d, 0x61, 0xc3, 0xa9, 0xff),
    { maxLength: 200 }).map(array => Buffer.from(array))

  test.prop([fc.oneof(bytes, newlineHeavy), fc.array(fc.nat(), { maxLength: 10 })], { numRuns })(
    'splitting at any chunk boundaries gives the lines of the whole input, byte for byte',
    (input, cuts) => {
      const at = [...new Set(cuts.map(cut => cut % (input.length + 1)))].sort((a, b) => a - b)
      const chunks = [0, ...at].map((start, i) => input.subarray(start, [...at,
        input.length][i]))
      const splitter = new LineSplitter(1024)
      const lines = chunks.flatMap(chunk => splitter.push(chunk))
      const last = splitter.end()
      if (last !== undefined) lines.push(last)
      expect(lines.map(line => line.toString('latin1'))).toEqual(modelLines(input))
    })

  it('refuses a line longer than its bound with MESSAGE_TOO_LARGE, naming the line', () => {
    const splitter = new LineSplitter(4)
    expect(splitter.push(Buffer.from('ok\n1234'))).toHaveLength(1)
    expect(() => splitter.push(Buffer.from('5'))).toThrow(/Line 2 is longer than 4 bytes/)
  })
})

describe('option values', () => {
  it('topic configs take Weir\'s and Kafka\'s names and refuse unknown keys or bad values', () => {
    expect(parseTopicConfig(['retention.ms=1000', 'cleanupPolicy=compact', 'flush=250',
      'max.message.bytes=2048'])).toEqual({ retentionMs: 1000, cleanupPolicy: 'compact',
      flush: { intervalMs: 250 }, recordBytesMax: 2048 })
    expect(parseTopicConfig(['flush=always'])).toEqual({ flush: 'always' })
    expect(() => parseTopicConfig(['colour=blue'])).toThrow(UsageError)
    expect(() => parseTopicConfig(['cleanup.policy=shred'])).toThrow(/delete or compact/)
    expect(() => parseTopicConfig(['segmentMs=soon'])).toThrow(UsageError)
    expect(() => parseTopicConfig(['retentionMs'])).toThrow(/key=value/)
  })

  it('reset positions are earliest, latest, an offset or @time', () => {
    expect(parsePosition('earliest')).toBe('earliest')
    expect(parsePosition('42')).toEqual({ offset: 42 })
    expect(parsePosition('@1700000000000')).toEqual({ timestamp: 1_700_000_000_000 })
    expect(parsePosition('@2025-01-31T12:00:00Z')).toEqual({ timestamp: Date.UTC(2025, 0, 31,
      12) })
    expect(() => parsePosition('-1')).toThrow(UsageError)
    expect(() => parsePosition('@yesterday')).toThrow(UsageError)
  })

  it('integers must be whole and in range', () => {
    expect(parseInteger('7', '--n', { min: 1, max: 9 })).toBe(7)
    for (const text of ['0', '10', '1.5', '', '3x', '1e3']) {
      expect(() => parseInteger(text, '--n', { min: 1, max: 9 }), text).toThrow(UsageError)
    }
  })
})

describe('output', () => {
  it('tables align columns, numbers to the right, without trailing spaces', () => {
    expect(formatTable(['TOPIC', 'PARTITIONS', 'CONFIG'], [['orders', 3, '-'],
      ['customer-summaries', 12, 'cleanupPolicy=compact']])).toBe(
      'TOPIC               PARTITIONS  CONFIG\n'
      + 'orders                       3  -\n'
      + 'customer-summaries          12  cleanupPolicy=compact\n')
  })

  it('the progress bar stays 30 cells wide from empty to past full', () => {
    expect(renderProgress(0, 1000, 0)).toMatch(/^\[\.{30}\]   0% {2}0 records {2}0\.0\/0\.0 MB$/)
    expect(renderProgress(500_000, 1_000_000, 12_345)).toMatch(
      /^\[#{15}\.{15}\]  50% {2}12,345 records {2}0\.5\/1\.0 MB$/)
    expect(renderProgress(2_000_000, 1_000_000, 1)).toMatch(/^\[#{30}\] 100%/)
    expect(renderProgress(0, 0, 0)).toMatch(/^\[#{30}\] 100%/)
  })

  it('a failure is one line with the WeirError code, or Node\'s code', () => {
    expect(failureLine(new WeirError('UNKNOWN_TOPIC', 'No topic x.\nCreate it.')))
      .toBe('weir: UNKNOWN_TOPIC: No topic x. Create it.')
    const enoent = Object.assign(new Error('ENOENT: no such file or directory, open \'f\''),
      { code: 'ENOENT' })
    expect(failureLine(enoent)).toBe('weir: ENOENT: no such file or directory, open \'f\'')
  })

  it('a topology file\'s main export is its name in camelCase', () => {
    expect(camelCase('orders-projection')).toBe('ordersProjection')
    expect(camelCase('inventory')).toBe('inventory')
  })
})
