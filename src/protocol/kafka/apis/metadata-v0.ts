/**
 * Metadata v0 (key 3): brokers and topics with their partitions' leaders. An empty topic list
 * asks for every topic (from v1 on, null does).
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const requestTopic = struct(field('name', 'string'))
export const partitionV0 = struct(field('errorCode', 'int16'), field('partitionIndex', 'int32'),
  field('leaderId', 'int32'), field('replicaNodes', arrayOf('int32')),
  field('isrNodes', arrayOf('int32')))

export const metadataV0: ApiVersionSchema = {
  apiKey: 3, name: 'Metadata', version: 0,
  request: message(false, field('topics', arrayOf(requestTopic))),
  response: message(false,
    field('brokers', arrayOf(struct(field('nodeId', 'int32'), field('host', 'string'),
      field('port', 'int32')))),
    field('topics', arrayOf(struct(field('errorCode', 'int16'), field('name', 'string'),
      field('partitions', arrayOf(partitionV0)))))),
}
