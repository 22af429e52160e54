/**
 * An app instance's counters that are not errors: today the records windowed operators dropped
 * as late (Kafka Streams' dropped-records sensor), per store. Counted as processing happens, so
 * a record processed again after an aborted commit counts again, as Kafka's metrics do.
 */
export interface StreamsMetricsSnapshot {
  /** Records dropped because every window they belong to had closed, by store. */
  readonly lateRecordsDropped: Readonly<Record<string, number>>
}

export class StreamsMetrics {
  private readonly late = new Map<string, number>()

  recordLate(store: string): void {
    this.late.set(store, (this.late.get(store) ?? 0) + 1)
  }

  snapshot(): StreamsMetricsSnapshot {
    return { lateRecordsDropped: Object.fromEntries(this.late) }
  }
}
