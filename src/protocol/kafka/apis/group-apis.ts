/**
 * The group API versions the listener serves (one file per version next to this one): the
 * reference's Profile A ranges, each complete from its lowest version (apis/index.ts
 * advertises the contiguous range from the lowest version present).
 */
import type { ApiVersionSchema } from '../api.ts'
import { describeGroupsV0 } from './describe-groups-v0.ts'
import { describeGroupsV1 } from './describe-groups-v1.ts'
import { describeGroupsV2 } from './describe-groups-v2.ts'
import { findCoordinatorV0 } from './find-coordinator-v0.ts'
import { findCoordinatorV1 } from './find-coordinator-v1.ts'
import { findCoordinatorV2 } from './find-coordinator-v2.ts'
import { heartbeatV0 } from './heartbeat-v0.ts'
import { heartbeatV1 } from './heartbeat-v1.ts'
import { heartbeatV2 } from './heartbeat-v2.ts'
import { heartbeatV3 } from './heartbeat-v3.ts'
import { joinGroupV0 } from './join-group-v0.ts'
import { joinGroupV1 } from './join-group-v1.ts'
import { joinGroupV2 } from './join-group-v2.ts'
import { joinGroupV3 } from './join-group-v3.ts'
import { joinGroupV4 } from './join-group-v4.ts'
import { joinGroupV5 } from './join-group-v5.ts'
import { leaveGroupV0 } from './leave-group-v0.ts'
import { leaveGroupV1 } from './leave-group-v1.ts'
import { leaveGroupV2 } from './leave-group-v2.ts'
import { leaveGroupV3 } from './leave-group-v3.ts'
import { listGroupsV0 } from './list-groups-v0.ts'
import { listGroupsV1 } from './list-groups-v1.ts'
import { listGroupsV2 } from './list-groups-v2.ts'
import { offsetCommitV2 } from './offset-commit-v2.ts'
import { offsetCommitV3 } from './offset-commit-v3.ts'
import { offsetCommitV4 } from './offset-commit-v4.ts'
import { offsetCommitV5 } from './offset-commit-v5.ts'
import { offsetFetchV1 } from './offset-fetch-v1.ts'
import { offsetFetchV2 } from './offset-fetch-v2.ts'
import { offsetFetchV3 } from './offset-fetch-v3.ts'
import { offsetFetchV4 } from './offset-fetch-v4.ts'
import { offsetFetchV5 } from './offset-fetch-v5.ts'
import { offsetFetchV6 } from './offset-fetch-v6.ts'
import { offsetFetchV7 } from './offset-fetch-v7.ts'
import { syncGroupV0 } from './sync-group-v0.ts'
import { syncGroupV1 } from './sync-group-v1.ts'
import { syncGroupV2 } from './sync-group-v2.ts'
import { syncGroupV3 } from './sync-group-v3.ts'

export const groupApis: readonly ApiVersionSchema[] = [
  offsetCommitV2, offsetCommitV3, offsetCommitV4, offsetCommitV5,
  offsetFetchV1, offsetFetchV2, offsetFetchV3, offsetFetchV4, offsetFetchV5, offsetFetchV6,
  offsetFetchV7,
  findCoordinatorV0, findCoordinatorV1, findCoordinatorV2,
  joinGroupV0, joinGroupV1, joinGroupV2, joinGroupV3, joinGroupV4, joinGroupV5,
  heartbeatV0, heartbeatV1, heartbeatV2, heartbeatV3,
  leaveGroupV0, leaveGroupV1, leaveGroupV2, leaveGroupV3,
  syncGroupV0, syncGroupV1, syncGroupV2, syncGroupV3,
  describeGroupsV0, describeGroupsV1, describeGroupsV2,
  listGroupsV0, listGroupsV1, listGroupsV2,
]
