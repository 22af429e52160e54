/** The handlers of the produce-fetch APIs, by API key (see kafka-context.ts for the contract). */
import type { KafkaHandler } from './kafka-context.ts'

export const produceFetchHandlers: ReadonlyMap<number, KafkaHandler> = new Map()
