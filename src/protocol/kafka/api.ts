/**
 * One version of one Kafka API: its key, its version and the schemas of its request and
 * response body (header excluded). One file per API version under apis/ (issue 9), so a version
 * is read next to its predecessor and compared field by field with Kafka's message JSON.
 */
import type { MessageSchema } from './schema.ts'

export interface ApiVersionSchema {
  readonly apiKey: number
  readonly name: string
  readonly version: number
  readonly request: MessageSchema
  readonly response: MessageSchema
}
