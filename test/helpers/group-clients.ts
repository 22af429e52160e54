/**
 * Builders for group requests and a minimal classic-protocol client for tests: it joins, lets
 * the leader assign partitions round-robin (members sorted by id, partition p to member
 * p mod n), syncs, heartbeats, and rejoins when told to, the way a Kafka consumer's
 * AbstractCoordinator would. Assignments travel as JSON arrays of partition numbers.
 */
import { WeirError } from '../../src/errors.ts'
import type {
  GroupCoordinator, JoinGroupRequest, JoinGroupResponse, SyncGroupResponse,
} from '../../src/group/group-coordinator.ts'

export const SESSION_TIMEOUT_MS = 1000
export const REBALANCE_TIMEOUT_MS = 3000
export const GROUP = 'g'

export function joinRequest(overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: GROUP, memberId: '', clientId: 'client', sessionTimeoutMs: SESSION_TIMEOUT_MS,
    rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS, protocolType: 'consumer',
    protocols: [{ name: 'roundrobin', metadata: Buffer.from('topics:t') }], ...overrides,
  }
}

/** Round-robin over `partitionCount` partitions, members ordered by id. */
export function roundRobin(memberIds: readonly string[], partitionCount: number):
Array<{ memberId: string, assignment: Buffer }> {
  const sorted = [...memberIds].sort()
  return sorted.map((memberId, i) => {
    const partitions: number[] = []
    for (let p = i; p < partitionCount; p += sorted.length) partitions.push(p)
    return { memberId, assignment: Buffer.from(JSON.stringify(partitions)) }
  })
}

export const partitionsOf = (response: SyncGroupResponse): number[] =>
  response.assignment.length === 0 ? [] : JSON.parse(response.assignment.toString()) as number[]

/** Syncs as `join` says: the leader sends round-robin assignments, followers none. */
export function syncAfterJoin(coordinator: GroupCoordinator, join: JoinGroupResponse,
  partitionCount: number, groupInstanceId?: string): Promise<SyncGroupResponse> {
  const isLeader = join.leader === join.memberId
  return coordinator.syncGroup({
    groupId: GROUP, generationId: join.generationId, memberId: join.memberId,
    ...(groupInstanceId === undefined ? {} : { groupInstanceId }),
    assignments: isLeader ? roundRobin(join.members.map(m => m.memberId), partitionCount) : [],
  })
}

/** Joins `clientIds` together, syncs everyone; returns each one's join and sync responses. */
export async function formGroup(coordinator: GroupCoordinator, clientIds: readonly string[],
  partitionCount = 6, overrides: (clientId: string) => Partial<JoinGroupRequest> = () => ({})):
Promise<Array<{ join: JoinGroupResponse, partitions: number[] }>> {
  const joins = await Promise.all(clientIds.map(clientId =>
    coordinator.joinGroup(joinRequest({ clientId, ...overrides(clientId) }))))
  const syncs = await Promise.all(joins.map((join, i) => syncAfterJoin(coordinator, join,
    partitionCount, overrides(clientIds[i]!).groupInstanceId)))
  return joins.map((join, i) => ({ join, partitions: partitionsOf(syncs[i]!) }))
}

export type ClientStatus = 'idle' | 'busy' | 'stable'

/**
 * A simulated consumer. `step()` heartbeats when stable and (re)joins when idle; join and sync
 * run in the background and move it to 'stable' or back to 'idle'. A crashed client stops
 * acting but keeps recording the responses it gets, so tests know its last member id.
 */
export class SimulatedClient {
  memberId = ''
  generationId = -1
  status: ClientStatus = 'idle'
  partitions: number[] = []
  crashed = false
  left = false
  /** Generation ids of every JoinGroup response, in order. */
  readonly generations: number[] = []
  /** Errors a Kafka client would not expect here (the test asserts there are none). */
  readonly unexpected: unknown[] = []

  constructor(private readonly coordinator: GroupCoordinator, readonly clientId: string,
    private readonly partitionCount: number) {}

  get alive(): boolean {
    return !this.crashed && !this.left
  }

  async step(): Promise<void> {
    if (!this.alive || this.status === 'busy') return
    if (this.status === 'idle') {
      this.status = 'busy'
      void this.rejoin()
      return
    }
    try {
      await this.coordinator.heartbeat({ groupId: GROUP, generationId: this.generationId,
        memberId: this.memberId })
    } catch (error) {
      this.onError(error)
    }
  }

  private async rejoin(): Promise<void> {
    try {
      const join = await this.coordinator.joinGroup(joinRequest({ clientId: this.clientId,
        memberId: this.memberId }))
      this.memberId = join.memberId
      this.generations.push(join.generationId)
      if (!this.alive) return
      this.generationId = join.generationId
      const sync = await syncAfterJoin(this.coordinator, join, this.partitionCount)
      if (!this.alive) return
      this.partitions = partitionsOf(sync)
      this.status = 'stable'
    } catch (error) {
      this.onError(error)
    }
  }

  private onError(error: unknown): void {
    if (!WeirError.is(error)) {
      this.unexpected.push(error)
      return
    }
    if (!this.alive) return
    if (error.code === 'UNKNOWN_MEMBER_ID') this.memberId = ''
    else if (error.code !== 'REBALANCE_IN_PROGRESS' && error.code !== 'ILLEGAL_GENERATION') {
      this.unexpected.push(error)
    }
    this.partitions = []
    this.status = 'idle'
  }
}
