/**
 * OffsetFetch v1 (key 9), the lowest version served (v0 read ZooKeeper offsets; librdkafka
 * 2.0.2 needs v1 in the range): a group's committed offsets for the named partitions, −1 where
 * none is committed. v1 has no group-level error: a group's error goes on every partition.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const offsetFetchRequestTopic = struct(field('name', 'string'),
  field('partitionIndexes', arrayOf('int32')))
export const offsetFetchResponseTopic = struct(field('name', 'string'),
  field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
    field('committedOffset', 'int64'), field('metadata', 'nullableString'),
    field('errorCode', 'int16')))))

export const offsetFetchV1: ApiVersionSchema = {
  apiKey: 9, name: 'OffsetFetch', version: 1,
  request: message(false, field('groupId', 'string'),
    field('topics', arrayOf(offsetFetchRequestTopic))),
  response: message(false, field('topics', arrayOf(offsetFetchResponseTopic))),
}
