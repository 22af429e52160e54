/**
 * Counters, gauges and histograms rendered in Prometheus' text exposition format (version 0.0.4).
 * Small on purpose: label sets are fixed per series at first use, histograms have fixed buckets,
 * and gauges whose value lives elsewhere (log end offsets, lag) are collected at scrape time.
 */

type Labels = Readonly<Record<string, string>>

function labelText(labels: Labels): string {
  const entries = Object.entries(labels)
  if (entries.length === 0) return ''
  const escaped = entries.map(([name, value]) =>
    `${name}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
  return `{${escaped.join(',')}}`
}

/** The identity of a label set, whatever the order of its names; on every request's path. */
function seriesKey(labels: Labels): string {
  const names = Object.keys(labels)
  if (names.length > 1) names.sort()
  let key = ''
  for (const name of names) key += `${name}\u0000${labels[name]}\u0001`
  return key
}

interface Metric {
  render(): string[]
}

export class Counter implements Metric {
  private readonly series = new Map<string, { labels: Labels, value: number }>()

  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = seriesKey(labels)
    const found = this.series.get(key)
    if (found === undefined) this.series.set(key, { labels, value: by })
    else found.value += by
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`,
      ...[...this.series.values()].map(s => `${this.name}${labelText(s.labels)} ${s.value}`)]
  }
}

/** Seconds; buckets from 0.1 ms to 10 s. */
const DEFAULT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1, 2.5, 5, 10]

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels, counts: number[], sum: number,
    count: number }>()

  constructor(readonly name: string, readonly help: string,
    private readonly buckets: readonly number[] = DEFAULT_BUCKETS) {}

  observe(value: number, labels: Labels = {}): void {
    const key = seriesKey(labels)
    let found = this.series.get(key)
    if (found === undefined) {
      found = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }
      this.series.set(key, found)
    }
    const index = this.buckets.findIndex(bound => value <= bound)
    if (index >= 0) found.counts[index]!++
    found.sum += value
    found.count++
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const s of this.series.values()) {
      let cumulative = 0
      this.buckets.forEach((bound, i) => {
        cumulative += s.counts[i]!
        const labels = labelText({ ...s.labels, le: String(bound) })
        lines.push(`${this.name}_bucket${labels} ${cumulative}`)
      })
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`)
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`)
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`)
    }
    return lines
  }
}

/** A gauge whose samples are read when scraped. */
export class CollectedGauge implements Metric {
  private samples: Array<{ labels: Labels, value: number }> = []

  constructor(readonly name: string, readonly help: string) {}

  set(samples: Array<{ labels: Labels, value: number }>): void {
    this.samples = samples
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`,
      ...this.samples.map(s => `${this.name}${labelText(s.labels)} ${s.value}`)]
  }
}

export class MetricRegistry {
  private readonly metrics: Metric[] = []

  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric)
    return metric
  }

  render(): string {
    return `${this.metrics.flatMap(metric => metric.render()).join('\n')}\n`
  }
}
