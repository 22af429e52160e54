/**
 * Every Kafka API version the listener serves, and the ranges it advertises in ApiVersions.
 * A range is advertised only if every version in it is here (the reference's rule: never
 * advertise a version you cannot read, KafkaJS and librdkafka pick the highest in range).
 */
import type { ApiVersionSchema } from '../api.ts'
import { apiVersionsV0 } from './api-versions-v0.ts'
import { apiVersionsV1 } from './api-versions-v1.ts'
import { apiVersionsV2 } from './api-versions-v2.ts'
import { apiVersionsV3 } from './api-versions-v3.ts'
import { metadataV0 } from './metadata-v0.ts'
import { metadataV1 } from './metadata-v1.ts'
import { metadataV2 } from './metadata-v2.ts'
import { metadataV3 } from './metadata-v3.ts'
import { metadataV4 } from './metadata-v4.ts'
import { metadataV5 } from './metadata-v5.ts'
import { metadataV6 } from './metadata-v6.ts'
import { groupApis } from './group-apis.ts'
import { produceFetchApis } from './produce-fetch-apis.ts'
import { txnAdminApis } from './txn-admin-apis.ts'

export const apiSchemas: readonly ApiVersionSchema[] = [
  apiVersionsV0, apiVersionsV1, apiVersionsV2, apiVersionsV3,
  metadataV0, metadataV1, metadataV2, metadataV3, metadataV4, metadataV5, metadataV6,
  ...produceFetchApis, ...groupApis, ...txnAdminApis,
]

const byKey = new Map<number, Map<number, ApiVersionSchema>>()
for (const schema of apiSchemas) {
  const versions = byKey.get(schema.apiKey) ?? new Map<number, ApiVersionSchema>()
  versions.set(schema.version, schema)
  byKey.set(schema.apiKey, versions)
}

/** The schema of `apiKey` at `version`, if served. */
export function schemaFor(apiKey: number, version: number): ApiVersionSchema | undefined {
  return byKey.get(apiKey)?.get(version)
}

export interface ApiVersionRange {
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
}

/** Per API key, the contiguous range of served versions from the lowest, by key. */
export function advertisedVersions(): ApiVersionRange[] {
  return [...byKey.entries()].sort(([a], [b]) => a - b).map(([apiKey, versions]) => {
    const minVersion = Math.min(...versions.keys())
    let maxVersion = minVersion
    while (versions.has(maxVersion + 1)) maxVersion++
    return { apiKey, minVersion, maxVersion }
  })
}
