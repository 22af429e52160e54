/**
 * What the Kafka listener's handlers share: the broker (through Weir's client transport, the
 * same interface the embedded and remote clients use, so the listener adds no second path into
 * the broker), and how this single node describes itself in Metadata.
 */
import type { Transport } from '../../client/transport/transport.ts'
import { WeirError } from '../../errors.ts'
import type { RequestHeader } from '../../protocol/kafka/header.ts'

/** The one node of a Weir cluster: its id in Metadata, FindCoordinator and partition leaders. */
export const NODE_ID = 0
export const CLUSTER_ID = 'weir'

export interface KafkaContext {
  readonly transport: Transport
  /** The address clients reconnect to after bootstrap (Metadata `brokers`). */
  readonly advertised: { readonly host: string, readonly port: number }
  /** Whether Metadata may create the topics it is asked for (the broker's autoCreateTopics). */
  readonly autoCreateTopics: boolean
}

/**
 * Answers one decoded request body with a response body (undefined: no response, as for a
 * Produce with acks 0). One handler serves every version of its API: fields a version lacks
 * are undefined in the request and ignored in the response.
 */
export type KafkaHandler = (request: Record<string, unknown>, context: KafkaContext,
  header: RequestHeader) => Promise<object | undefined>

/** Kafka's error code for a failure: a WeirError's own mapping, else UNKNOWN_SERVER_ERROR. */
export function kafkaErrorCode(error: unknown): number {
  if (WeirError.is(error) && error.kafkaErrorCode !== undefined) return error.kafkaErrorCode
  return -1
}
