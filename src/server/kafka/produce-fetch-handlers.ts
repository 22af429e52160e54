/** The handlers of the produce-fetch APIs, by API key (see kafka-context.ts for the contract). */
import { handleFetch } from './fetch-handler.ts'
import type { KafkaHandler } from './kafka-context.ts'
import { handleListOffsets } from './list-offsets-handler.ts'
import { handleProduce } from './produce-handler.ts'

export const produceFetchHandlers: ReadonlyMap<number, KafkaHandler> = new Map([
  [0, handleProduce],
  [1, handleFetch],
  [2, handleListOffsets],
])
