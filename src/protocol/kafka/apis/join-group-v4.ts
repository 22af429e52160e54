/**
 * JoinGroup v4: as v3 in layout. The bump (KIP-394) lets the coordinator answer a first join
 * (empty member id) with MEMBER_ID_REQUIRED (79) and a member id to rejoin with; Weir's
 * coordinator assigns the id in the first response instead, which every client accepts (see
 * group-join-handler.ts).
 */
import type { ApiVersionSchema } from '../api.ts'
import { joinGroupV3 } from './join-group-v3.ts'

export const joinGroupV4: ApiVersionSchema = { ...joinGroupV3, version: 4 }
