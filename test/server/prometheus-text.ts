/**
 * A strict reader of Prometheus' text exposition format 0.0.4 for the /metrics tests: every line
 * must be `# HELP name text`, `# TYPE name type` or a sample `name{label="value",...} value`;
 * each family has one HELP and one TYPE, given before its samples; a histogram's buckets are
 * cumulative, ordered by `le`, and end at `le="+Inf"` equal to its `_count`.
 */
import { expect } from 'vitest'

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'

/** Label pairs of a sample line, `a="x",b="y"`, with Prometheus' escapes (\\, \", \n). */
function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  const pair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/
  let rest = text
  while (rest.length > 0) {
    const match = pair.exec(rest)
    if (match === null) throw new Error(`bad labels: {${text}}`)
    expect(labels[match[1]!], `label ${match[1]} twice`).toBeUndefined()
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
    rest = rest.slice(match[0].length)
  }
  return labels
}

/**
 * Parses Prometheus text format 0.0.4, failing on any line that is not `# HELP`, `# TYPE` or a
 * sample; checks each family has one HELP and one TYPE before its samples, and that every
 * histogram's buckets are cumulative and end at +Inf = _count.
 */
export function parsePrometheus(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true)
  const types = new Map<string, string>()
  const helps = new Set<string>()
  const samples: Sample[] = []
  for (const line of text.slice(0, -1).split('\n')) {
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line)
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)
      .exec(line)
    const sample = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line)
    if (help !== null) {
      expect(helps.has(help[1]!), `HELP ${help[1]} twice`).toBe(false)
      helps.add(help[1]!)
    } else if (type !== null) {
      expect(types.has(type[1]!), `TYPE ${type[1]} twice`).toBe(false)
      types.set(type[1]!, type[2]!)
    } else if (sample !== null) {
      const [, name, labels, value] = sample
      const family = types.has(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, '')
      expect(types.get(family), `sample ${name} before its TYPE`).toBeDefined()
      if (family !== name) expect(types.get(family)).toBe('histogram')
      const number = value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value)
      expect(Number.isNaN(number) && value !== 'NaN', `value of ${line}`).toBe(false)
      samples.push({ name: name!, labels: parseLabels(labels ?? ''), value: number })
    } else {
      throw new Error(`not Prometheus text: ${JSON.stringify(line)}`)
    }
  }
  for (const [family, type] of types) {
    expect(helps.has(family), `HELP of ${family}`).toBe(true)
    if (type === 'histogram') checkHistogram(family, samples)
  }
  return samples
}

function checkHistogram(family: string, samples: readonly Sample[]): void {
  const seriesOf = (sample: Sample): string => JSON.stringify(Object.entries(sample.labels)
    .filter(([name]) => name !== 'le'))
  const counts = samples.filter(s => s.name === `${family}_count`)
  for (const count of counts) {
    const buckets = samples.filter(s => s.name === `${family}_bucket`
      && seriesOf(s) === seriesOf(count))
    const bounds = buckets.map(b => b.labels.le === '+Inf' ? Infinity : Number(b.labels.le))
    expect(bounds).toEqual([...bounds].sort((x, y) => x - y))
    expect(buckets.map(b => b.value)).toEqual(buckets.map(b => b.value).sort((x, y) => x - y))
    expect(bounds[bounds.length - 1]).toBe(Infinity)
    expect(buckets[buckets.length - 1]!.value).toBe(count.value)
    expect(samples.some(s => s.name === `${family}_sum` && seriesOf(s) === seriesOf(count)))
      .toBe(true)
  }
}

/** Values of `name`'s samples whose labels include `labels`. */
export function sampled(samples: readonly Sample[], name: string,
  labels: Readonly<Record<string, string>> = {}): number[] {
  return samples.filter(s => s.name === name
    && Object.entries(labels).every(([label, value]) => s.labels[label] === value))
    .map(s => s.value)
}
