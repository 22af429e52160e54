/**
 * JSON forms of the group-coordination messages that carry opaque bytes (protocol metadata and
 * assignments): the bytes travel as base64 strings. Every other JSON request and response of the
 * server is the broker's own type as it is, so only these need a mapping; both the server and the
 * remote client use it.
 */
import type {
  GroupDescription, JoinGroupRequest, JoinGroupResponse, SyncGroupRequest, SyncGroupResponse,
} from '../group/group-requests.ts'

/** `T` with every Buffer field replaced by its base64 string, recursively. */
export type Base64Fields<T> = T extends Buffer ? string
  : T extends ReadonlyArray<infer E> ? Array<Base64Fields<E>>
    : T extends object ? { [K in keyof T]: Base64Fields<T[K]> } : T

const b64 = (bytes: Buffer): string => bytes.toString('base64')
const bytes = (text: string): Buffer => Buffer.from(text, 'base64')

export function joinGroupRequestToJson(request: JoinGroupRequest): Base64Fields<JoinGroupRequest> {
  return { ...request,
    protocols: request.protocols.map(p => ({ ...p, metadata: b64(p.metadata) })) }
}

export function joinGroupRequestFromJson(json: Base64Fields<JoinGroupRequest>): JoinGroupRequest {
  return { ...json, protocols: json.protocols.map(p => ({ ...p, metadata: bytes(p.metadata) })) }
}

export function joinGroupResponseToJson(response: JoinGroupResponse):
Base64Fields<JoinGroupResponse> {
  return { ...response, members: response.members.map(m => ({ ...m, metadata: b64(m.metadata) })) }
}

export function joinGroupResponseFromJson(json: Base64Fields<JoinGroupResponse>):
JoinGroupResponse {
  return { ...json, members: json.members.map(m => ({ ...m, metadata: bytes(m.metadata) })) }
}

export function syncGroupRequestToJson(request: SyncGroupRequest): Base64Fields<SyncGroupRequest> {
  return { ...request,
    assignments: request.assignments.map(a => ({ ...a, assignment: b64(a.assignment) })) }
}

export function syncGroupRequestFromJson(json: Base64Fields<SyncGroupRequest>): SyncGroupRequest {
  return { ...json,
    assignments: json.assignments.map(a => ({ ...a, assignment: bytes(a.assignment) })) }
}

export function syncGroupResponseToJson(response: SyncGroupResponse):
Base64Fields<SyncGroupResponse> {
  return { assignment: b64(response.assignment) }
}

export function syncGroupResponseFromJson(json: Base64Fields<SyncGroupResponse>):
SyncGroupResponse {
  return { assignment: bytes(json.assignment) }
}

export function groupDescriptionToJson(description: GroupDescription):
Base64Fields<GroupDescription> {
  return { ...description, members: description.members.map(m => ({ ...m,
    metadata: b64(m.metadata), assignment: b64(m.assignment) })) }
}

export function groupDescriptionFromJson(json: Base64Fields<GroupDescription>): GroupDescription {
  return { ...json, members: json.members.map(m => ({ ...m,
    metadata: bytes(m.metadata), assignment: bytes(m.assignment) })) }
}
