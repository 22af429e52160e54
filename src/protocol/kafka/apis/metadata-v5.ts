/** Metadata v5: partitions list their offline replicas. */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'
import { brokerV1 } from './metadata-v1.ts'
import { metadataV4 } from './metadata-v4.ts'

export const partitionV5 = struct(field('errorCode', 'int16'), field('partitionIndex', 'int32'),
  field('leaderId', 'int32'), field('replicaNodes', arrayOf('int32')),
  field('isrNodes', arrayOf('int32')), field('offlineReplicas', arrayOf('int32')))

export const metadataV5: ApiVersionSchema = {
  apiKey: 3, name: 'Metadata', version: 5,
  request: metadataV4.request,
  response: message(false, field('throttleTimeMs', 'int32'), field('brokers', arrayOf(brokerV1)),
    field('clusterId', 'nullableString'), field('controllerId', 'int32'),
    field('topics', arrayOf(struct(field('errorCode', 'int16'), field('name', 'string'),
      field('isInternal', 'bool'), field('partitions', arrayOf(partitionV5)))))),
}
