/** ApiVersions: the advertised range of every API the listener serves (apis/index.ts). */
import { advertisedVersions } from '../../protocol/kafka/apis/index.ts'
import type { KafkaHandler } from './kafka-context.ts'

export const handleApiVersions: KafkaHandler = async () =>
  ({ errorCode: 0, apiKeys: advertisedVersions(), throttleTimeMs: 0 })
