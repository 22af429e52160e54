/**
 * OffsetCommit v2 (key 8), the lowest version served (librdkafka 2.0.2 needs the range to meet
 * [1, 2]; v0–1 stored offsets in ZooKeeper or carried per-partition timestamps): a member of a
 * generation (or anyone with generation −1 while the group is Empty) commits offsets with
 * optional metadata. retention_time_ms (v2–4) is read and ignored: Weir keeps committed offsets
 * until the group is deleted.
 */
import type { ApiVersionSchema } from '../api.ts'
import { arrayOf, field, message, struct } from '../schema.ts'

export const offsetCommitRequestTopic = struct(field('name', 'string'),
  field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
    field('committedOffset', 'int64'), field('committedMetadata', 'nullableString')))))
export const offsetCommitResponseTopic = struct(field('name', 'string'),
  field('partitions', arrayOf(struct(field('partitionIndex', 'int32'),
    field('errorCode', 'int16')))))

export const offsetCommitV2: ApiVersionSchema = {
  apiKey: 8, name: 'OffsetCommit', version: 2,
  request: message(false, field('groupId', 'string'), field('generationId', 'int32'),
    field('memberId', 'string'), field('retentionTimeMs', 'int64'),
    field('topics', arrayOf(offsetCommitRequestTopic))),
  response: message(false, field('topics', arrayOf(offsetCommitResponseTopic))),
}
