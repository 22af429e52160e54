/**
 * One classic group as the coordinator holds it in memory (Kafka's GroupMetadata /
 * ClassicGroup): state, generation, protocol type and selected protocol, leader, members and the
 * static-instance-id → member-id map. It answers questions (does a joiner's protocol fit? which
 * protocol wins? has everyone rejoined?) and makes the small, asserted mutations; the rebalance
 * rules that sequence them live in group-join.ts and group-rebalance.ts.
 *
 * Invariants: an Empty or Dead group has no members; a group with members has a leader that is
 * one of them; every static member is in the instance map and vice versa; generation ids only
 * increase.
 */
import { WeirError } from '../errors.ts'
import { assert } from '../util/assert.ts'
import type { JoinGroupResponse, JoinGroupResponseMember } from './group-requests.ts'
import { assertTransition, type GroupState } from './group-state.ts'
import type { MemberMetadata } from './member-metadata.ts'

export class GroupMetadata {
  state: GroupState = 'Empty'
  generationId = 0
  /** Set by the first member to join; kept while the group is Empty (as Kafka). */
  protocolType: string | undefined
  /** The protocol selected for the current generation; undefined while it has none. */
  protocolName: string | undefined
  leaderId: string | undefined
  /** Insertion order is join order: it decides the leader when the old one did not rejoin. */
  readonly members = new Map<string, MemberMetadata>()
  private readonly staticMembers = new Map<string, string>()
  /** While PreparingRebalance: when the join completes with whoever has rejoined. */
  rebalanceDeadlineMs: number | undefined
  /**
   * While a new group's initial rebalance delay runs (group.initial.rebalance.delay.ms): the
   * join waits for the deadline even if everyone has joined, and each new member pushes the
   * deadline, up to `limitMs`.
   */
  initialDelay: { readonly limitMs: number } | undefined

  constructor(readonly groupId: string) {
    assert(groupId !== '', 'a group has an id')
  }

  transitionTo(next: GroupState): void {
    assertTransition(this.state, next)
    if (next === 'Empty' || next === 'Dead') {
      assert(this.members.size === 0, `a group entering ${next} has no members`)
    }
    if (next !== 'PreparingRebalance') {
      this.rebalanceDeadlineMs = undefined
      this.initialDelay = undefined
    }
    this.state = next
  }

  get size(): number {
    return this.members.size
  }

  get(memberId: string): MemberMetadata | undefined {
    return this.members.get(memberId)
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId)
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId
  }

  add(member: MemberMetadata, protocolType: string): void {
    assert(!this.members.has(member.memberId), 'a member joins once')
    assert(this.state !== 'Dead', 'a Dead group takes no members')
    if (this.members.size === 0) this.protocolType = protocolType
    assert(this.protocolType === protocolType, 'members of a group share its protocol type')
    this.members.set(member.memberId, member)
    if (member.groupInstanceId !== undefined) {
      assert(!this.staticMembers.has(member.groupInstanceId), 'an instance id has one member')
      this.staticMembers.set(member.groupInstanceId, member.memberId)
    }
    this.leaderId ??= member.memberId
  }

  /** Removes a member; a new leader is the first remaining member (as Kafka). */
  remove(memberId: string): MemberMetadata {
    const member = this.members.get(memberId)
    assert(member !== undefined, `member ${memberId} is in the group to be removed`)
    this.members.delete(memberId)
    if (member.groupInstanceId !== undefined) this.staticMembers.delete(member.groupInstanceId)
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value
    assert(this.leaderId === undefined || this.members.has(this.leaderId), 'leader is a member')
    return member
  }

  /**
   * Gives a static member a new member id (KIP-345: a restarted instance rejoined with
   * memberId ''). Whatever the old incarnation has waiting fails with FENCED_INSTANCE_ID, and
   * from now on the old id is fenced.
   */
  replaceStaticMember(groupInstanceId: string, newMemberId: string): MemberMetadata {
    const oldMemberId = this.staticMembers.get(groupInstanceId)
    assert(oldMemberId !== undefined, 'only a known static member is replaced')
    assert(!this.members.has(newMemberId), 'the new member id is unused')
    const member = this.members.get(oldMemberId)!
    member.failPending(new WeirError('FENCED_INSTANCE_ID', `Member ${oldMemberId} was replaced `
      + `by a new instance with group.instance.id ${groupInstanceId}; stop this instance.`))
    this.members.delete(oldMemberId)
    member.memberId = newMemberId
    this.members.set(newMemberId, member)
    this.staticMembers.set(groupInstanceId, newMemberId)
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId
    return member
  }

  /** The largest rebalance timeout of the members: how long a rebalance waits for rejoins. */
  rebalanceTimeoutMs(): number {
    let timeout = 0
    for (const member of this.members.values()) {
      timeout = Math.max(timeout, member.rebalanceTimeoutMs)
    }
    assert(this.members.size === 0 || timeout > 0, 'members have positive rebalance timeouts')
    return timeout
  }

  allMembersJoined(): boolean {
    for (const member of this.members.values()) if (member.awaitingJoin === undefined) return false
    return true
  }

  /**
   * Whether a member with these protocols may join (Kafka's supportsProtocols): an Empty group
   * takes any non-empty type and list; otherwise the type must match and at least one of the
   * protocols must be supported by every other member. `memberId` (an existing member that is
   * rejoining, possibly with different protocols) is left out of the count.
   */
  supportsProtocols(protocolType: string, protocolNames: readonly string[],
    memberId?: string): boolean {
    if (protocolType === '' || protocolNames.length === 0) return false
    const others = [...this.members.values()].filter(member => member.memberId !== memberId)
    if (others.length === 0) return true
    if (this.protocolType !== protocolType) return false
    return protocolNames.some(name => others.every(member => member.supports(name)))
  }

  /**
   * Kafka's selectProtocol: among the protocols every member supports, each member votes for
   * the first in its own preference order; the most votes wins, ties going to the protocol
   * that got its first vote earliest (members in join order).
   */
  selectProtocol(): string {
    const members = [...this.members.values()]
    assert(members.length > 0, 'a protocol is selected for a group with members')
    const candidates = members[0]!.protocols.map(protocol => protocol.name)
      .filter(name => members.every(member => member.supports(name)))
    assert(candidates.length > 0, 'members of a group share a protocol')
    const votes = new Map<string, number>()
    for (const member of members) {
      const vote = member.protocols.find(protocol => candidates.includes(protocol.name))!.name
      votes.set(vote, (votes.get(vote) ?? 0) + 1)
    }
    let winner = ''
    let most = 0
    for (const [name, count] of votes) {
      if (count > most) [winner, most] = [name, count]
    }
    return winner
  }

  /** Starts the next generation (Kafka's initNextGeneration). */
  initNextGeneration(): void {
    assert(this.state === 'PreparingRebalance', 'a generation starts after a rebalance')
    const previous = this.generationId
    this.generationId += 1
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol()
      this.transitionTo('CompletingRebalance')
    } else {
      this.protocolName = undefined
      this.leaderId = undefined
      this.transitionTo('Empty')
    }
    assert(this.generationId > previous, 'generations only increase')
  }

  /** The JoinGroup response of the current generation for `member`. */
  joinResponseFor(member: MemberMetadata): JoinGroupResponse {
    const protocolName = this.protocolName
    assert(protocolName !== undefined, 'a generation with members has a protocol')
    const isLeader = this.isLeader(member.memberId)
    const members: JoinGroupResponseMember[] = isLeader
      ? [...this.members.values()].map(each => ({
          memberId: each.memberId,
          ...(each.groupInstanceId === undefined ? {} : { groupInstanceId: each.groupInstanceId }),
          metadata: each.metadataFor(protocolName),
        }))
      : []
    return { generationId: this.generationId, protocolName, leader: this.leaderId ?? '',
      memberId: member.memberId, members }
  }
}
