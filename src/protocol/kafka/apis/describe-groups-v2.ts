/** DescribeGroups v2: as v1 (the bump marks client-side throttling, KIP-219, not layout). */
import type { ApiVersionSchema } from '../api.ts'
import { describeGroupsV1 } from './describe-groups-v1.ts'

export const describeGroupsV2: ApiVersionSchema = { ...describeGroupsV1, version: 2 }
