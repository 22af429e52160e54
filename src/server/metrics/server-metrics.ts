/**
 * The metrics `/metrics` serves. Rates and latencies are counted as requests pass; log end
 * offsets, group lag and open transactions are read from the broker when scraped, so a scrape
 * always shows the present (lag of every group costs one offset fetch per group: fine for the
 * tens of groups one node has).
 */
import { Admin } from '../../client/admin.ts'
import type { EmbeddedTransport } from '../../client/transport/embedded.ts'
import { CollectedGauge, Counter, Histogram, MetricRegistry } from './metric-registry.ts'

export class ServerMetrics {
  readonly registry = new MetricRegistry()
  readonly requests = this.registry.register(new Counter('weir_http_requests_total',
    'HTTP requests answered, by route and status.'))
  readonly requestSeconds = this.registry.register(new Histogram(
    'weir_http_request_duration_seconds', 'Time from request to response, by route (fetch '
    + 'includes its long-poll wait).'))
  readonly rpcCalls = this.registry.register(new Counter('weir_rpc_calls_total',
    'Calls answered on WebSocket /v1/rpc, by call (produce, fetch) and status (as HTTP\'s).'))
  readonly rpcCallSeconds = this.registry.register(new Histogram(
    'weir_rpc_call_duration_seconds', 'Time from a /v1/rpc request frame to its response, by '
    + 'call (fetch includes its long-poll wait).'))
  readonly producedRecords = this.registry.register(new Counter('weir_produce_records_total',
    'Records appended through the server, by topic.'))
  readonly producedBytes = this.registry.register(new Counter('weir_produce_bytes_total',
    'Record batch bytes appended through the server, by topic.'))
  readonly produceErrors = this.registry.register(new Counter('weir_produce_errors_total',
    'Produced batches refused, by error code.'))
  readonly fetchedBytes = this.registry.register(new Counter('weir_fetch_bytes_total',
    'Record batch bytes returned by fetches (HTTP and WebSocket), by topic.'))
  readonly fsyncSeconds = this.registry.register(new Histogram('weir_fsync_duration_seconds',
    'Duration of each fdatasync of a log file or fsync of a directory.'))
  readonly connections = this.registry.register(new CollectedGauge('weir_connections',
    'Connections open (HTTP and WebSocket).'))
  readonly logEndOffsets = this.registry.register(new CollectedGauge('weir_log_end_offset',
    'High watermark of each partition.'))
  readonly logStartOffsets = this.registry.register(new CollectedGauge('weir_log_start_offset',
    'Log start offset of each partition.'))
  readonly groupLag = this.registry.register(new CollectedGauge('weir_group_lag',
    'Records between a group\'s committed offset and the last stable offset, per partition.'))
  readonly openTransactions = this.registry.register(new CollectedGauge(
    'weir_open_transactions', 'Transactions begun and not yet completed.'))

  /** Reads the gauges from the broker, then renders every metric. */
  async scrape(transport: EmbeddedTransport, connections: number): Promise<string> {
    this.connections.set([{ labels: {}, value: connections }])
    const topics = transport.broker.listTopics({ includeInternal: true })
    const ends = []
    const starts = []
    for (const topic of topics) {
      for (const state of transport.broker.describeTopic(topic.name).partitionStates) {
        const labels = { topic: topic.name, partition: String(state.partition) }
        ends.push({ labels, value: state.highWatermark })
        starts.push({ labels, value: state.logStartOffset })
      }
    }
    this.logEndOffsets.set(ends)
    this.logStartOffsets.set(starts)
    const admin = new Admin(transport)
    const lag = []
    for (const group of await transport.listGroups()) {
      for (const partition of await admin.lag(group.groupId)) {
        lag.push({ labels: { group: group.groupId, topic: partition.topic,
          partition: String(partition.partition) }, value: partition.lag })
      }
    }
    this.groupLag.set(lag)
    const open = (await transport.listTransactions()).filter(t =>
      t.state === 'Ongoing' || t.state === 'PrepareCommit' || t.state === 'PrepareAbort')
    this.openTransactions.set([{ labels: {}, value: open.length }])
    return this.registry.render()
  }
}
