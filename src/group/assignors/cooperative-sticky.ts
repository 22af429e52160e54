/**
 * Kafka's CooperativeStickyAssignor (`cooperative-sticky`; KIP-54 stickiness, KIP-341 ownership,
 * KIP-429 incremental rebalancing). Each call does two things:
 *
 * 1. Target. A balanced assignment that keeps as much current ownership as balance allows:
 *    a. Keep: every member keeps each partition it claims that exists, whose topic it still
 *       subscribes to, and that no member earlier in Kafka's member order already kept. So a
 *       partition claimed twice has one deterministic keeper (see "Conflicting claims").
 *    b. Place: each partition nobody kept goes to the least-loaded member that can be reached
 *       from the partition's subscribers by handing on partitions placed in this step (an
 *       alternating path), the nearest such member on ties. Kept partitions do not move here.
 *    c. Balance: while some member can pass one partition along a chain of eligible members to a
 *       member with at least two fewer, do so (shortest chain, heaviest giver first, partitions
 *       placed in step b before kept ones). Each pass lowers the sum of squared loads, so it ends.
 *    The result has no such chain left, which makes it an optimal "semi-matching" (Harvey, Ladner,
 *    Lovász, Tamir, "Semi-matchings for bipartite graphs and load balancing"): it minimises the
 *    largest load and the sum of squared loads at once. With identical subscriptions the counts
 *    then differ by at most one. With differing ones it is as balanced as the subscriptions allow
 *    (no member holds a partition that an eligible member with two fewer could take, even by a
 *    chain); Kafka's general-case heuristic (AbstractStickyAssignor#generalAssign) promises less.
 *    Step b is the incremental semi-matching algorithm (ASM1 in that paper), optimal given the
 *    kept partitions, which is what makes the protocol converge in two rounds (below).
 *
 * 2. Cooperative step (KIP-429): a partition whose target owner is not its only current claimant
 *    is left out of this round's assignment. Its owner sees it missing, revokes it and rejoins;
 *    the next round finds it unowned and hands it out. So no member is ever assigned a partition
 *    another member still owns.
 *
 * Two rounds suffice after any change. Round one's target T is optimal; what survives it is a
 * subset of T; in round two step a keeps all of it, step b completes it optimally (T itself is one
 * completion, so the completion is optimal overall), step c finds nothing to do, and nothing is
 * revoked. test/group/assignors/cooperative-sticky.test.ts checks this over random histories.
 *
 * Conflicting claims. Kafka breaks them by generation (KIP-341 userData; the interface carries
 * none); at equal generations it drops the partition from every claimant and holds it back for a
 * round (AbstractStickyAssignor#allSubscriptionsEqual, partitionsWithMultiplePreviousOwners).
 * Here the first claimant in member order keeps it in the target, so balance counts it there,
 * and it is held back all the same: in effect what Kafka does.
 *
 * Cost: step b is O(members) per partition when a least-loaded subscriber is at hand (always, with
 * identical subscriptions); a search that needs chains is O(members · topics · subscribers).
 *
 * Not done: rack awareness (KIP-881). Not byte-for-byte Kafka: when several partitions could
 * move, the one chosen may differ from Kafka's choice; the guarantees above are at least Kafka's.
 */
import { assert } from '../../util/assert.ts'
import type { Assignor, AssignorMember, TopicPartition } from '../assignor.ts'
import { compareMembers, compareStrings, emptyAssignment } from './range.ts'

const NONE = -1

/** The fixed part of one call. Partitions are numbered 0..count-1 in (topic, partition) order. */
interface Layout {
  /** Members in Kafka's member order; a member is referred to by its index here. */
  readonly members: readonly AssignorMember[]
  /** Topics somebody subscribes to that have partitions, sorted. */
  readonly topics: readonly string[]
  readonly topicIndex: ReadonlyMap<string, number>
  /** First partition number of each topic, and the total count at the end. */
  readonly topicBase: readonly number[]
  readonly topicOf: Int32Array
  /** Topic index → subscribing members, in member order. */
  readonly subscribers: readonly (readonly number[])[]
  /** Member → topic indices it subscribes to. */
  readonly subscriptions: readonly ReadonlySet<number>[]
  /** Members subscribed to at least one topic in the layout. */
  readonly eligible: readonly number[]
}

/** A member's partitions of one topic, split by whether the member kept them (step a). */
interface Holding {
  readonly placed: Set<number>
  readonly kept: Set<number>
}

/** Who holds what while the target is computed. */
interface Placement {
  readonly holder: Int32Array
  /** The member that kept the partition in step a, or NONE. */
  readonly keeper: Int32Array
  readonly load: Int32Array
  readonly holdings: readonly Map<number, Holding>[]
}

function buildLayout(members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>): Layout {
  const sorted = [...members].sort(compareMembers)
  const topics = [...new Set(sorted.flatMap(member => member.topics))]
    .filter(topic => (partitionsPerTopic.get(topic) ?? 0) > 0)
    .sort(compareStrings)
  const topicIndex = new Map(topics.map((topic, index) => [topic, index]))
  const topicBase = [0]
  for (const topic of topics) topicBase.push(topicBase.at(-1)! + partitionsPerTopic.get(topic)!)
  const topicOf = new Int32Array(topicBase.at(-1)!)
  topics.forEach((_, topic) => topicOf.fill(topic, topicBase[topic]!, topicBase[topic + 1]!))
  const subscriptions = sorted.map(member => new Set(member.topics
    .map(topic => topicIndex.get(topic)).filter(index => index !== undefined)))
  const subscribers = topics.map((_, topic) => sorted.flatMap((_member, index) =>
    subscriptions[index]!.has(topic) ? [index] : []))
  assert(subscribers.every(list => list.length > 0), 'every layout topic has a subscriber')
  const eligible = sorted.flatMap((_, index) => subscriptions[index]!.size > 0 ? [index] : [])
  assert(topics.length === 0 || eligible.length > 0, 'topics come from subscriptions')
  return { members: sorted, topics, topicIndex, topicBase, topicOf, subscribers, subscriptions,
    eligible }
}

/** The partition number of `partition` in the layout, or undefined if it is not in it. */
function indexOf(layout: Layout, partition: TopicPartition): number | undefined {
  const topic = layout.topicIndex.get(partition.topic)
  if (topic === undefined) return undefined
  const base = layout.topicBase[topic]!
  const count = layout.topicBase[topic + 1]! - base
  const valid = Number.isSafeInteger(partition.partition) && partition.partition >= 0
  return valid && partition.partition < count ? base + partition.partition : undefined
}

function put(layout: Layout, placement: Placement, partition: number, member: number): void {
  assert(placement.holder[partition] === NONE, `partition ${partition} is placed twice`)
  const topic = layout.topicOf[partition]!
  assert(layout.subscriptions[member]!.has(topic), 'a member only holds subscribed topics')
  const holdings = placement.holdings[member]!
  let holding = holdings.get(topic)
  if (holding === undefined) {
    holding = { placed: new Set(), kept: new Set() }
    holdings.set(topic, holding)
  }
  if (placement.keeper[partition] === member) holding.kept.add(partition)
  else holding.placed.add(partition)
  placement.holder[partition] = member
  placement.load[member]!++
}

function move(layout: Layout, placement: Placement, partition: number, to: number): void {
  const from = placement.holder[partition]!
  assert(from !== NONE && from !== to, `partition ${partition} moves from a holder to another`)
  const topic = layout.topicOf[partition]!
  const holding = placement.holdings[from]!.get(topic)!
  holding.placed.delete(partition)
  holding.kept.delete(partition)
  if (holding.placed.size + holding.kept.size === 0) placement.holdings[from]!.delete(topic)
  placement.holder[partition] = NONE
  placement.load[from]!--
  put(layout, placement, partition, to)
}

/** Claims on layout partitions: the first claimant in member order, and whether others claim. */
interface Claims {
  readonly first: Int32Array
  readonly contested: Uint8Array
}

/** Step a: records every claim and keeps each valid one that nobody earlier kept. */
function keepOwned(layout: Layout, placement: Placement): Claims {
  const count = layout.topicOf.length
  const claims = { first: new Int32Array(count).fill(NONE), contested: new Uint8Array(count) }
  layout.members.forEach((member, index) => {
    const owned = new Set(member.ownedPartitions.map(partition => indexOf(layout, partition)))
    // Last first: `movable` hands on a member's first kept partition, so like Kafka's
    // constrainedAssign a member that must give some up keeps the first in (topic, partition).
    const partitions = [...owned].filter(p => p !== undefined).sort((a, b) => b - a)
    for (const partition of partitions) {
      if (claims.first[partition] === NONE) claims.first[partition] = index
      else claims.contested[partition] = 1
      const subscribed = layout.subscriptions[index]!.has(layout.topicOf[partition]!)
      if (subscribed && placement.holder[partition] === NONE) {
        placement.keeper[partition] = index
        put(layout, placement, partition, index)
      }
    }
  })
  return claims
}

/**
 * The partitions `member` can hand on, one per topic: placed ones (step b) first, then, unless
 * `placedOnly`, topics where it holds kept ones only.
 */
function* movable(holdings: Map<number, Holding>, placedOnly: boolean):
Generator<[topic: number, partition: number]> {
  for (const [topic, holding] of holdings) {
    const first = holding.placed.values().next()
    if (first.done !== true) yield [topic, first.value]
  }
  if (placedOnly) return
  for (const [topic, holding] of holdings) {
    if (holding.placed.size === 0) yield [topic, holding.kept.values().next().value!]
  }
}

interface Search {
  readonly receiver: number
  /** Member → the member it was reached from (NONE for a start). */
  readonly parent: Int32Array
  /** Member → the partition its parent would hand it. */
  readonly via: Int32Array
}

interface SearchOptions {
  readonly placedOnly: boolean
  /** A member that may not receive (the giver in step c), or NONE. */
  readonly exclude: number
  /** The lowest load any member has: reaching it ends the search, nothing can beat it. */
  readonly loadFloor: number
}

/**
 * Breadth-first search from `starts` over the edges "x holds a movable partition of a topic y
 * subscribes to". Returns the least-loaded member reached (the nearest, then the first found,
 * on ties) with the tree that reaches it, or undefined if only excluded members were reached.
 * Members are judged as they are found, so the search stops as soon as one at `loadFloor` is.
 */
function search(layout: Layout, placement: Placement, starts: readonly number[],
  options: SearchOptions): Search | undefined {
  const memberCount = layout.members.length
  const unseen = -2
  const parent = new Int32Array(memberCount).fill(unseen)
  const via = new Int32Array(memberCount).fill(NONE)
  const queue: number[] = []
  let best = NONE
  /** Records a found member; true when nothing can beat it. */
  const found = (member: number, from: number, partition: number): boolean => {
    parent[member] = from
    via[member] = partition
    queue.push(member)
    const load = placement.load[member]!
    if (member === options.exclude) return false
    if (best === NONE || load < placement.load[best]!) best = member
    return load <= options.loadFloor
  }
  let done = starts.some(start => found(start, NONE, NONE))
  for (let head = 0; !done && head < queue.length; head++) {
    const member = queue[head]!
    for (const [topic, partition] of movable(placement.holdings[member]!, options.placedOnly)) {
      for (const next of layout.subscribers[topic]!) {
        if (parent[next] === unseen && found(next, member, partition)) done = true
        if (done) break
      }
      if (done) break
    }
  }
  assert(queue.length <= memberCount, 'the search finds each member at most once')
  return best === NONE ? undefined : { receiver: best, parent, via }
}

/** Hands one partition along each edge of the path to the receiver; returns the path's start. */
function shiftAlong(layout: Layout, placement: Placement, found: Search): number {
  let member = found.receiver
  for (let hops = 0; found.parent[member]! !== NONE; hops++) {
    assert(hops < layout.members.length, 'a search path visits each member once')
    const from = found.parent[member]!
    const partition = found.via[member]!
    assert(placement.holder[partition] === from, 'the handed partition is still the parent\'s')
    move(layout, placement, partition, member)
    member = from
  }
  return member
}

/** The lowest load among members that can hold anything (Infinity when there are none). */
function lowestLoad(layout: Layout, placement: Placement): number {
  return layout.eligible.reduce((lowest, member) => Math.min(lowest, placement.load[member]!),
    Infinity)
}

/** Step b: places every partition nobody kept (ASM1, see the file header). */
function placeUnowned(layout: Layout, placement: Placement): void {
  for (let partition = 0; partition < layout.topicOf.length; partition++) {
    if (placement.holder[partition] !== NONE) continue
    const starts = layout.subscribers[layout.topicOf[partition]!]!
    const found = search(layout, placement, starts,
      { placedOnly: true, exclude: NONE, loadFloor: lowestLoad(layout, placement) })
    assert(found !== undefined, 'a partition of a subscribed topic reaches a subscriber')
    put(layout, placement, partition, shiftAlong(layout, placement, found))
  }
  assert(placement.holder.every(holder => holder !== NONE), 'step b places every partition')
}

/** Step c, one pass: moves one partition's worth of load from a heavy member to a light one. */
function improveOnce(layout: Layout, placement: Placement): boolean {
  const load = placement.load
  const floor = lowestLoad(layout, placement)
  const givers = [...layout.eligible].sort((a, b) => load[b]! - load[a]! || a - b)
  for (const giver of givers) {
    if (load[giver]! < floor + 2) return false
    const found = search(layout, placement, [giver],
      { placedOnly: false, exclude: giver, loadFloor: floor })
    if (found === undefined || load[found.receiver]! > load[giver]! - 2) continue
    const before = load[giver]!
    assert(shiftAlong(layout, placement, found) === giver, 'the path starts at the giver')
    assert(load[giver] === before - 1, 'the giver ends one partition lighter')
    return true
  }
  return false
}

/** Step c: balances until no chain of eligible members leads to one with two fewer. */
function rebalance(layout: Layout, placement: Placement): void {
  // Every pass lowers the sum of squared loads by at least 2, and it starts below count².
  const count = layout.topicOf.length
  const passesMax = (count * count) / 2 + 1
  for (let passes = 0; improveOnce(layout, placement); passes++) {
    assert(passes < passesMax, 'balancing ends: each pass lowers the sum of squared loads')
  }
}

/** The cooperative step: every partition goes to its target owner unless someone else claims it. */
function handOut(layout: Layout, placement: Placement, claims: Claims,
  assignment: Map<string, TopicPartition[]>): void {
  for (let partition = 0; partition < layout.topicOf.length; partition++) {
    const holder = placement.holder[partition]!
    assert(holder !== NONE, 'the target places every partition')
    const claimant = claims.first[partition]!
    if (claims.contested[partition] === 1 || (claimant !== NONE && claimant !== holder)) continue
    const topic = layout.topicOf[partition]!
    const number = partition - layout.topicBase[topic]!
    assignment.get(layout.members[holder]!.memberId)!.push({ topic: layout.topics[topic]!,
      partition: number })
  }
}

function assign(members: readonly AssignorMember[],
  partitionsPerTopic: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const assignment = emptyAssignment(members, partitionsPerTopic)
  const layout = buildLayout(members, partitionsPerTopic)
  const count = layout.topicOf.length
  const placement: Placement = {
    holder: new Int32Array(count).fill(NONE),
    keeper: new Int32Array(count).fill(NONE),
    load: new Int32Array(layout.members.length),
    holdings: layout.members.map(() => new Map()),
  }
  const claims = keepOwned(layout, placement)
  placeUnowned(layout, placement)
  rebalance(layout, placement)
  handOut(layout, placement, claims, assignment)
  return assignment
}

/**
 * Kafka's `cooperative-sticky` assignor: balanced, keeps ownership where balance allows, and
 * never assigns a partition another member still owns (KIP-429).
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky', protocol: 'cooperative', assign,
}
