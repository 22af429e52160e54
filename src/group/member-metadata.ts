/**
 * One member of a classic group (Kafka's MemberMetadata): its ids, timeouts, the protocols it
 * supports, its current assignment, its session deadline, and the JoinGroup/SyncGroup request it
 * has waiting, if any. A waiting request is a `Pending` promise the coordinator settles later;
 * a member has at most one of each, and a newer one supersedes (fails) the older.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { GroupProtocol, JoinGroupResponse, SyncGroupResponse } from './group-requests.ts'

/** A promise with its settle functions, for a request held until the group moves on. */
export class Pending<T> {
  readonly promise: Promise<T>
  resolve!: (value: T) => void
  reject!: (error: WeirError) => void

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }
}

export interface MemberOptions {
  readonly memberId: string
  readonly groupInstanceId: string | undefined
  readonly clientId: string
  readonly sessionTimeoutMs: number
  readonly rebalanceTimeoutMs: number
  readonly protocols: readonly GroupProtocol[]
}

export class MemberMetadata {
  /** Changes only when a static member is replaced by a new incarnation (KIP-345). */
  memberId: string
  readonly groupInstanceId: string | undefined
  readonly clientId: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocols: readonly GroupProtocol[]
  assignment: Buffer = Buffer.alloc(0)
  /** The member is removed when `expire` runs at or after this time with nothing pending. */
  sessionDeadlineMs = 0
  /** True until the member's first JoinGroup response (it has never been in a generation). */
  isNew = true
  awaitingJoin: Pending<JoinGroupResponse> | undefined
  awaitingSync: Pending<SyncGroupResponse> | undefined

  constructor(options: MemberOptions) {
    assert(options.memberId !== '', 'a member has an id')
    assert(options.protocols.length > 0, 'a member supports at least one protocol')
    this.memberId = options.memberId
    this.groupInstanceId = options.groupInstanceId
    this.clientId = options.clientId
    this.sessionTimeoutMs = options.sessionTimeoutMs
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs
    this.protocols = options.protocols
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== undefined
  }

  /** Kafka's shouldKeepAlive: a member with a request waiting is never expired. */
  isExpired(nowMs: number): boolean {
    if (this.awaitingJoin !== undefined || this.awaitingSync !== undefined) return false
    return nowMs >= this.sessionDeadlineMs
  }

  /** Pushes the session deadline (on every join, sync, heartbeat and commit). */
  touch(nowMs: number): void {
    assert(this.sessionTimeoutMs > 0, 'a session timeout is positive')
    this.sessionDeadlineMs = nowMs + this.sessionTimeoutMs
  }

  /** The metadata this member sent for `protocolName`, which it must support. */
  metadataFor(protocolName: string): Buffer {
    const protocol = this.protocols.find(candidate => candidate.name === protocolName)
    assert(protocol !== undefined, `member ${this.memberId} supports ${protocolName}`)
    return protocol.metadata
  }

  supports(protocolName: string): boolean {
    return this.protocols.some(protocol => protocol.name === protocolName)
  }

  /** Same protocols, in the same order, with the same metadata bytes (Kafka's `matches`). */
  matches(protocols: readonly GroupProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false
    return protocols.every((protocol, i) => protocol.name === this.protocols[i]!.name
      && protocol.metadata.equals(this.protocols[i]!.metadata))
  }

  /** Holds a new JoinGroup, failing a previous one still waiting (the client gave up on it). */
  awaitJoin(): Pending<JoinGroupResponse> {
    this.awaitingJoin?.reject(new WeirError('REBALANCE_IN_PROGRESS', `JoinGroup of member `
      + `${this.memberId} was superseded by a newer JoinGroup from the same member.`))
    this.awaitingJoin = new Pending()
    return this.awaitingJoin
  }

  /** Holds a new SyncGroup, failing a previous one still waiting. */
  awaitSync(): Pending<SyncGroupResponse> {
    this.awaitingSync?.reject(new WeirError('REBALANCE_IN_PROGRESS', `SyncGroup of member `
      + `${this.memberId} was superseded by a newer SyncGroup from the same member.`))
    this.awaitingSync = new Pending()
    return this.awaitingSync
  }

  completeJoin(response: JoinGroupResponse): void {
    const pending = this.awaitingJoin
    assert(pending !== undefined, 'only a waiting join is completed')
    assert(response.memberId === this.memberId, 'a join response names its member')
    this.awaitingJoin = undefined
    this.isNew = false
    pending.resolve(response)
  }

  completeSync(assignment: Buffer): void {
    const pending = this.awaitingSync
    assert(pending !== undefined, 'only a waiting sync is completed')
    this.awaitingSync = undefined
    pending.resolve({ assignment })
  }

  /** Fails whatever request the member has waiting. */
  failPending(error: WeirError): void {
    this.awaitingJoin?.reject(error)
    this.awaitingSync?.reject(error)
    this.awaitingJoin = undefined
    this.awaitingSync = undefined
  }
}
