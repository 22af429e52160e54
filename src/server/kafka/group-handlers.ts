/** The handlers of the group APIs, by API key (see kafka-context.ts for the contract). */
import { handleDescribeGroups, handleListGroups } from './group-describe-handler.ts'
import { handleFindCoordinator } from './group-find-coordinator-handler.ts'
import { handleHeartbeat } from './group-heartbeat-handler.ts'
import { handleJoinGroup } from './group-join-handler.ts'
import { handleLeaveGroup } from './group-leave-handler.ts'
import { handleOffsetCommit } from './group-offset-commit-handler.ts'
import { handleOffsetFetch } from './group-offset-fetch-handler.ts'
import { handleSyncGroup } from './group-sync-handler.ts'
import type { KafkaHandler } from './kafka-context.ts'

export const groupHandlers: ReadonlyMap<number, KafkaHandler> = new Map([
  [8, handleOffsetCommit],
  [9, handleOffsetFetch],
  [10, handleFindCoordinator],
  [11, handleJoinGroup],
  [12, handleHeartbeat],
  [13, handleLeaveGroup],
  [14, handleSyncGroup],
  [15, handleDescribeGroups],
  [16, handleListGroups],
])
