/** The handlers of the txn-admin APIs, by API key (see kafka-context.ts for the contract). */
import type { KafkaHandler } from './kafka-context.ts'

export const txnAdminHandlers: ReadonlyMap<number, KafkaHandler> = new Map()
