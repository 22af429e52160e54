/**
 * What a streams app writes in the metadata of its committed input offsets: the task's stream
 * time (the largest event time it has processed), so that a task opened after a restart, a crash
 * or a rebalance judges late records against the same stream time as before — as Kafka Streams
 * keeps partition time in its commit metadata (KAFKA-7994). Without it a restarted task would
 * start at −1 and fold records into windows that had closed before the restart.
 */
const PREFIX = 'weir-streams:v1:'

export function encodeCommitMetadata(streamTimeMs: number): string {
  return `${PREFIX}${streamTimeMs}`
}

/** The stream time in committed metadata, or −1 for none (another writer's, or no commit). */
export function decodeStreamTime(metadata: string): number {
  if (!metadata.startsWith(PREFIX)) return -1
  const value = Number(metadata.slice(PREFIX.length))
  return Number.isSafeInteger(value) && value >= -1 ? value : -1
}
