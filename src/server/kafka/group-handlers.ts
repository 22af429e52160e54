/** The handlers of the group APIs, by API key (see kafka-context.ts for the contract). */
import type { KafkaHandler } from './kafka-context.ts'

export const groupHandlers: ReadonlyMap<number, KafkaHandler> = new Map()
