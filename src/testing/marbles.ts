/**
 * Marble diagrams for short driver cases, as RxJS's testing writes them: each character is one
 * frame of `frameMs` (default 1,000 ms) of event time from `startMs` (default 0).
 *
 * - `-`: a frame in which nothing happens;
 * - a letter or digit: a record whose value is `values[letter]`, at that frame's time;
 * - `(ab)`: several records in one frame (the group takes one frame);
 * - spaces are ignored; `|` ends the diagram.
 *
 * @example
 * marbles('a-b--(cd)', { a: 1, b: 2, c: 3, d: 4 }, { key: 'k' })
 * // → records at 0, 2000, 5000 and 5000 ms with values 1, 2, 3, 4 and key 'k'
 */
import { WeirError } from '../errors.ts'
import type { ReadRecord, TestRecord } from './model.ts'

export interface MarbleOptions<V> {
  /** A key for every record, or one computed from its value; default the letter. */
  readonly key?: string | ((value: V, letter: string) => string)
  readonly frameMs?: number
  readonly startMs?: number
}

function badDiagram(diagram: string, why: string): WeirError {
  return new WeirError('INVALID_REQUEST', `Marble diagram '${diagram}': ${why}.`)
}

/** The records a diagram stands for, in order. @throws INVALID_REQUEST for a bad diagram */
export function marbles<V>(diagram: string, values: Readonly<Record<string, V>>,
  options: MarbleOptions<V> = {}): Array<TestRecord<string, V>> {
  const frameMs = options.frameMs ?? 1_000
  const startMs = options.startMs ?? 0
  const records: Array<TestRecord<string, V>> = []
  let frame = 0
  let group: string[] | undefined
  const emit = (letter: string, at: number): void => {
    if (!(letter in values)) throw badDiagram(diagram, `'${letter}' has no value`)
    const value = values[letter]!
    const key = typeof options.key === 'function' ? options.key(value, letter)
      : options.key ?? letter
    records.push({ key, value, timestamp: startMs + at * frameMs })
  }
  for (const char of diagram) {
    if (char === ' ') continue
    if (char === '|') break
    if (char === '(') {
      if (group !== undefined) throw badDiagram(diagram, 'groups do not nest')
      group = []
    } else if (char === ')') {
      if (group === undefined) throw badDiagram(diagram, "')' without '('")
      for (const letter of group) emit(letter, frame)
      group = undefined
      frame++
    } else if (group !== undefined) {
      group.push(char)
    } else {
      if (char !== '-') emit(char, frame)
      frame++
    }
  }
  if (group !== undefined) throw badDiagram(diagram, "'(' is not closed")
  return records
}

/**
 * The diagram of records read back (the inverse of `marbles` for their values and times): a
 * value is written as the letter whose value equals it (by JSON), `?` when none does.
 */
export function toMarbles<V>(records: ReadonlyArray<ReadRecord<unknown, V>>,
  values: Readonly<Record<string, V>>, options: { frameMs?: number, startMs?: number } = {}):
  string {
  const frameMs = options.frameMs ?? 1_000
  const startMs = options.startMs ?? 0
  const letterOf = new Map(Object.entries(values).map(([letter, value]) =>
    [JSON.stringify(value), letter]))
  const frames = new Map<number, string[]>()
  for (const record of records) {
    const frame = Math.floor((record.timestamp - startMs) / frameMs)
    frames.set(frame, [...frames.get(frame) ?? [], letterOf.get(JSON.stringify(record.value))
      ?? '?'])
  }
  const last = Math.max(-1, ...frames.keys())
  let diagram = ''
  for (let frame = 0; frame <= last; frame++) {
    const letters = frames.get(frame) ?? []
    diagram += letters.length === 0 ? '-' : letters.length === 1 ? letters[0]
      : `(${letters.join('')})`
  }
  return diagram
}
