/**
 * A consumer's life in a group (Kafka's ConsumerCoordinator over the classic protocol): join,
 * the leader assigns, sync, heartbeat; rejoin when the coordinator says a rebalance is on.
 *
 * Eager assignors: before rejoining, every owned partition is revoked (callback, commit). With a
 * cooperative assignor (KIP-429) a member keeps its partitions across the rebalance and sends them
 * as `ownedPartitions`; after sync it revokes only what it lost and, if it lost anything, rejoins
 * at once so the partitions can be handed to their new owner in a second round.
 *
 * Protocol metadata (opaque to the coordinator) is JSON:
 *   subscription: { version: 1, topics: string[], ownedPartitions: TopicPartition[] }
 *   assignment:   { version: 1, partitions: TopicPartition[] }
 */
import { WeirError } from '../errors.ts'
import type { Assignor, AssignorMember, TopicPartition } from '../group/assignor.ts'
import { assignorByName } from '../group/assignors/index.ts'
import { assert } from '../util/assert.ts'
import { type CancelTimer, type Scheduler, sleep } from '../util/clock.ts'
import type { ConsumerConfig } from './consumer-config.ts'
import { partitionKey } from './subscription-state.ts'
import { describeExistingTopics } from './topic-metadata-cache.ts'
import type { Transport } from './transport/transport.ts'

export interface MembershipHooks {
  /** Topics this member subscribes to now (patterns already resolved). */
  subscribedTopics(): Promise<string[]>
  owned(): TopicPartition[]
  /** Give up partitions: callback, commit, forget positions. */
  revoke(partitions: readonly TopicPartition[]): Promise<void>
  /** Partitions lost without a chance to commit (membership expired). */
  lose(partitions: readonly TopicPartition[]): Promise<void>
  assign(partitions: readonly TopicPartition[]): Promise<void>
  onError(error: unknown): void
}

interface Subscription {
  readonly version: 1
  readonly topics: string[]
  readonly ownedPartitions: TopicPartition[]
}

export class GroupMembership {
  memberId = ''
  generationId = -1
  private assignors: Assignor[]
  private rejoinNeeded = true
  private running = false
  private stopped = false
  private cancelHeartbeat: CancelTimer | undefined
  private wake: (() => void) | undefined

  constructor(
    private readonly groupId: string,
    private readonly transport: Transport,
    private readonly config: ConsumerConfig,
    private readonly scheduler: Scheduler,
    private readonly hooks: MembershipHooks,
  ) {
    this.assignors = config.assignors.map(entry => {
      const assignor = typeof entry === 'string' ? assignorByName(entry) : entry
      if (assignor === undefined) {
        throw new WeirError('INVALID_CONFIG', `Unknown assignor '${String(entry)}'; use range, `
          + 'roundrobin or cooperative-sticky.')
      }
      return assignor
    })
  }

  /** Whether the group's chosen assignor is cooperative (known after the first join). */
  private protocol: Assignor | undefined

  get stable(): boolean {
    return !this.rejoinNeeded && this.generationId >= 0
  }

  start(): void {
    if (this.running) return
    this.running = true
    void this.loop().finally(() => {
      this.running = false
    })
  }

  /** Asks for a rejoin (subscription changed, or the coordinator said so). */
  requestRejoin(): void {
    this.rejoinNeeded = true
    this.wake?.()
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (!this.rejoinNeeded) {
        await new Promise<void>(resolve => { this.wake = resolve })
        this.wake = undefined
        continue
      }
      try {
        await this.joinAndSync()
      } catch (error) {
        if (this.stopped) return
        await this.handleError(error)
      }
    }
  }

  private async joinAndSync(): Promise<void> {
    this.rejoinNeeded = false
    this.cancelHeartbeat?.() // the join itself keeps the session alive
    if (this.protocol?.protocol !== 'cooperative') await this.hooks.revoke(this.hooks.owned())
    const topics = await this.hooks.subscribedTopics()
    const subscription: Subscription = { version: 1, topics,
      ownedPartitions: this.protocol?.protocol === 'cooperative' ? this.hooks.owned() : [] }
    const metadata = Buffer.from(JSON.stringify(subscription))
    const joined = await this.transport.joinGroup({ groupId: this.groupId,
      memberId: this.memberId, ...this.instance(), clientId: this.config.clientId,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      rebalanceTimeoutMs: this.config.rebalanceTimeoutMs, protocolType: 'consumer',
      protocols: this.assignors.map(assignor => ({ name: assignor.name, metadata })) })
    this.memberId = joined.memberId
    this.generationId = joined.generationId
    this.protocol = this.assignors.find(assignor => assignor.name === joined.protocolName)
    assert(this.protocol !== undefined, 'the coordinator picks one of our protocols')
    const assignments = joined.leader === joined.memberId
      ? await this.assign(this.protocol, joined.members) : []
    const synced = await this.transport.syncGroup({ groupId: this.groupId,
      generationId: joined.generationId, memberId: this.memberId, ...this.instance(),
      assignments })
    const assigned = decodeAssignment(synced.assignment)
    await this.apply(assigned)
    this.startHeartbeat()
  }

  private instance(): { groupInstanceId?: string } {
    return this.config.groupInstanceId === undefined ? {}
      : { groupInstanceId: this.config.groupInstanceId }
  }

  /** The leader's part: run the assignor over every member's subscription. */
  private async assign(assignor: Assignor,
    members: ReadonlyArray<{ memberId: string, groupInstanceId?: string, metadata: Buffer }>):
    Promise<Array<{ memberId: string, assignment: Buffer }>> {
    const subscriptions: AssignorMember[] = members.map(member => {
      const parsed = JSON.parse(member.metadata.toString('utf8')) as Subscription
      return { memberId: member.memberId, topics: parsed.topics,
        ownedPartitions: parsed.ownedPartitions,
        ...(member.groupInstanceId === undefined ? {}
          : { groupInstanceId: member.groupInstanceId }) }
    })
    const topics = [...new Set(subscriptions.flatMap(member => member.topics))]
    const partitionsPerTopic = new Map<string, number>()
    for (const description of await describeExistingTopics(this.transport, topics)) {
      partitionsPerTopic.set(description.name, description.partitions)
    }
    const result = assignor.assign(subscriptions, partitionsPerTopic)
    return subscriptions.map(member => ({ memberId: member.memberId,
      assignment: Buffer.from(JSON.stringify({ version: 1,
        partitions: result.get(member.memberId) ?? [] })) }))
  }

  private async apply(assigned: readonly TopicPartition[]): Promise<void> {
    const owned = this.hooks.owned()
    const assignedKeys = new Set(assigned.map(partitionKey))
    const ownedKeys = new Set(owned.map(partitionKey))
    const revoked = owned.filter(tp => !assignedKeys.has(partitionKey(tp)))
    const added = assigned.filter(tp => !ownedKeys.has(partitionKey(tp)))
    if (revoked.length > 0) await this.hooks.revoke(revoked)
    if (added.length > 0) await this.hooks.assign(added)
    // Cooperative: what we gave up can only reach its new owner in another round.
    if (revoked.length > 0 && this.protocol?.protocol === 'cooperative') this.requestRejoin()
  }

  private startHeartbeat(): void {
    this.cancelHeartbeat?.()
    this.cancelHeartbeat = this.scheduler.every(this.config.heartbeatIntervalMs, () => {
      if (this.rejoinNeeded || this.stopped) return
      this.transport.heartbeat({ groupId: this.groupId, generationId: this.generationId,
        memberId: this.memberId, ...this.instance() })
        .catch((error: unknown) => this.handleError(error))
    })
  }

  private async handleError(error: unknown): Promise<void> {
    if (WeirError.is(error, 'REBALANCE_IN_PROGRESS')) return this.requestRejoin()
    if (WeirError.is(error, 'UNKNOWN_MEMBER_ID') || WeirError.is(error, 'ILLEGAL_GENERATION')) {
      // Our membership is gone: the partitions may already belong to someone else.
      await this.hooks.lose(this.hooks.owned())
      if (WeirError.is(error, 'UNKNOWN_MEMBER_ID')) this.memberId = ''
      this.generationId = -1
      return this.requestRejoin()
    }
    if (WeirError.is(error) && error.retriable) {
      await sleep(this.scheduler, this.config.heartbeatIntervalMs)
      return this.requestRejoin()
    }
    this.stopped = WeirError.is(error, 'FENCED_INSTANCE_ID') || this.stopped
    this.hooks.onError(error)
    if (!this.stopped) {
      await sleep(this.scheduler, this.config.heartbeatIntervalMs)
      this.requestRejoin()
    }
  }

  /** Leaves the group (a static member stays, so a quick restart keeps its partitions). */
  async leave(): Promise<void> {
    this.stopped = true
    this.cancelHeartbeat?.()
    this.wake?.()
    if (this.memberId === '' || this.config.groupInstanceId !== undefined) return
    await this.transport.leaveGroup({ groupId: this.groupId,
      members: [{ memberId: this.memberId }] }).catch(() => undefined)
  }
}

function decodeAssignment(bytes: Buffer): TopicPartition[] {
  if (bytes.length === 0) return []
  const parsed = JSON.parse(bytes.toString('utf8')) as { partitions: TopicPartition[] }
  return parsed.partitions
}
