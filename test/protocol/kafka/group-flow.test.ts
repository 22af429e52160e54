/**
 * Goal (issue 9): a whole consumer-group flow over the Kafka listener, on real TCP against an
 * embedded broker, agrees with Weir's own view of the group and its offsets.
 * Method: two members on their own connections (a JoinGroup or a follower's SyncGroup holds its
 * connection until the barrier completes, as in Kafka) walk through FindCoordinator, JoinGroup
 * (the second member's join makes the first learn REBALANCE_IN_PROGRESS from its heartbeat and
 * rejoin), SyncGroup (the leader assigns opaque bytes), Heartbeat, OffsetCommit (per-partition
 * errors), OffsetFetch (−1 for no offset, null topics = all), DescribeGroups, ListGroups and
 * LeaveGroup (v3 per-member errors). Weir's admin describes the group and reads the offsets
 * committed through the listener; offsets committed through Weir's transport are read back
 * through the listener. Static membership (KIP-345): a second incarnation of a
 * group.instance.id fences the first (FENCED_INSTANCE_ID on its heartbeat), and LeaveGroup v3
 * removes a member by instance id alone.
 */
import type { Socket } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'

const world = listenerWorld('weir-kafka-group-flow-',
  { topics: [{ topic: 'orders', partitions: 3 }] })
const sockets: Socket[] = []

afterAll(() => {
  for (const socket of sockets) socket.destroy()
})

type Body = Record<string, unknown>

/** One Kafka connection, one request in flight at a time (each call waits for its answer). */
async function connection() {
  const socket = await open(world.listener.port)
  sockets.push(socket)
  const replies = responses(socket)
  let correlationId = 0
  return async (apiKey: number, version: number, request: object): Promise<Body> => {
    correlationId += 1
    socket.write(requestFrame(apiKey, version, correlationId, request))
    const frame = (await replies.frames(correlationId))[correlationId - 1]
    expect(frame, `response ${correlationId}`).toBeDefined()
    const answer = body(frame!, apiKey, version)
    expect(answer.correlationId).toBe(correlationId)
    return answer.value
  }
}

/** Waits, event by event and at most ~2 s, until Weir's coordinator shows the group state. */
async function groupState(groupId: string, state: string): Promise<void> {
  for (let turn = 0; turn < 400; turn++) {
    if ((await world.weir.admin().describeGroup(groupId)).state === state) return
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  throw new Error(`group ${groupId} never reached ${state}`)
}

const FIND_COORDINATOR = 10
const JOIN = 11
const HEARTBEAT = 12
const LEAVE = 13
const SYNC = 14
const COMMIT = 8
const FETCH_OFFSETS = 9
const DESCRIBE = 15
const LIST = 16

const metaA = Buffer.from('00000000000100066f726465727300000000', 'hex')
const metaB = Buffer.from('0000000000010006' + '6f7264657273' + '00000003' + 'ffffff', 'hex')
const asgA = Buffer.from('a55a0001', 'hex')
const asgB = Buffer.from('b44b0002ff', 'hex')

function joinRequest(memberId: string, metadata: Buffer) {
  return { groupId: 'flow', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 60_000, memberId,
    groupInstanceId: null, protocolType: 'consumer',
    protocols: [{ name: 'RoundRobinAssigner', metadata }] }
}

describe('a consumer group over the Kafka listener', () => {
  it('finds the coordinator: this node at the advertised address, for groups and '
    + 'transactions; an unknown key type is INVALID_REQUEST', async () => {
    const send = await connection()
    const here = { nodeId: 0, host: '127.0.0.1', port: world.listener.port }
    expect(await send(FIND_COORDINATOR, 0, { key: 'flow' })).toEqual({ errorCode: 0, ...here })
    expect(await send(FIND_COORDINATOR, 2, { key: 'tx', keyType: 1 })).toEqual({
      throttleTimeMs: 0, errorCode: 0, errorMessage: null, ...here })
    expect(await send(FIND_COORDINATOR, 1, { key: 'flow', keyType: 7 })).toMatchObject({
      errorCode: 42, nodeId: -1 })
  })

  it('joins, syncs, heartbeats, commits, fetches, describes, lists and leaves as Weir sees it',
    async () => {
      const a = await connection()
      const b = await connection()
      const admin = await connection()

      const first = await a(JOIN, 5, joinRequest('', metaA))
      const memberA = first.memberId as string
      expect(first).toMatchObject({ errorCode: 0, generationId: 1, leader: memberA,
        protocolName: 'RoundRobinAssigner',
        members: [{ memberId: memberA, groupInstanceId: null, metadata: metaA }] })
      expect(memberA).toMatch(/^id-/)
      expect(await a(SYNC, 3, { groupId: 'flow', generationId: 1, memberId: memberA,
        groupInstanceId: null, assignments: [{ memberId: memberA, assignment: asgA }] }))
        .toEqual({ throttleTimeMs: 0, errorCode: 0, assignment: asgA })

      // B joins (held); A learns of the rebalance from its heartbeat and rejoins.
      const joinB = b(JOIN, 2, { ...joinRequest('', metaB), groupInstanceId: undefined })
      await groupState('flow', 'PreparingRebalance')
      expect(await a(HEARTBEAT, 3, { groupId: 'flow', generationId: 1, memberId: memberA,
        groupInstanceId: null })).toEqual({ throttleTimeMs: 0, errorCode: 27 })
      const rejoinA = await a(JOIN, 5, joinRequest(memberA, metaA))
      const joinedB = await joinB
      const memberB = joinedB.memberId as string
      expect(rejoinA).toMatchObject({ errorCode: 0, generationId: 2, leader: memberA })
      expect(rejoinA.members).toEqual(expect.arrayContaining([
        { memberId: memberA, groupInstanceId: null, metadata: metaA },
        { memberId: memberB, groupInstanceId: null, metadata: metaB }]))
      expect(joinedB).toMatchObject({ errorCode: 0, generationId: 2, leader: memberA,
        members: [] })

      // B's sync waits for the leader's; each gets its own opaque bytes.
      const syncB = b(SYNC, 1, { groupId: 'flow', generationId: 2, memberId: memberB,
        assignments: [] })
      expect(await a(SYNC, 3, { groupId: 'flow', generationId: 2, memberId: memberA,
        groupInstanceId: null, assignments: [{ memberId: memberA, assignment: asgA },
          { memberId: memberB, assignment: asgB }] })).toMatchObject({ assignment: asgA })
      expect(await syncB).toEqual({ throttleTimeMs: 0, errorCode: 0, assignment: asgB })
      expect(await a(HEARTBEAT, 0, { groupId: 'flow', generationId: 2, memberId: memberA }))
        .toEqual({ errorCode: 0 })
      expect(await b(HEARTBEAT, 3, { groupId: 'flow', generationId: 1, memberId: memberB,
        groupInstanceId: null })).toEqual({ throttleTimeMs: 0, errorCode: 22 })

      const described = await admin(DESCRIBE, 2, { groups: ['flow', 'nobody'] })
      const weirView = await world.weir.admin().describeGroup('flow')
      expect(weirView).toMatchObject({ state: 'Stable', protocolType: 'consumer',
        protocol: 'RoundRobinAssigner', generationId: 2, leader: memberA })
      expect(described).toEqual({ throttleTimeMs: 0, groups: [
        { errorCode: 0, groupId: 'flow', groupState: 'Stable', protocolType: 'consumer',
          protocolData: 'RoundRobinAssigner', members: weirView.members.map(member => ({
            memberId: member.memberId, clientId: 'id', clientHost: '',
            memberMetadata: member.memberId === memberA ? metaA : metaB,
            memberAssignment: member.memberId === memberA ? asgA : asgB })) },
        { errorCode: 0, groupId: 'nobody', groupState: 'Dead', protocolType: '',
          protocolData: '', members: [] }] })
      expect(weirView.members.map(member => member.memberId).sort())
        .toEqual([memberA, memberB].sort())

      await commitAndFetch({ a, b, admin, memberA, memberB })

      expect(await admin(LIST, 2, {})).toMatchObject({ errorCode: 0,
        groups: expect.arrayContaining([{ groupId: 'flow', protocolType: 'consumer' }]) })

      await leaveUntilEmpty({ a, b, admin, memberA, memberB })
      await simpleCommits(admin)
    })
})


describe('static membership over the Kafka listener (KIP-345)', () => {
  it('a new incarnation of a group.instance.id fences the old one; it leaves by instance id',
    async () => {
      const first = await connection()
      const second = await connection()
      const request = { ...joinRequest('', metaA), groupId: 'static', groupInstanceId: 'i1' }
      const old = await first(JOIN, 5, request)
      expect(old).toMatchObject({ errorCode: 0, generationId: 1,
        members: [{ groupInstanceId: 'i1', metadata: metaA }] })
      const oldId = old.memberId as string
      expect(await first(SYNC, 3, { groupId: 'static', generationId: 1, memberId: oldId,
        groupInstanceId: 'i1', assignments: [{ memberId: oldId, assignment: asgA }] }))
        .toMatchObject({ errorCode: 0, assignment: asgA })
      const replacement = await second(JOIN, 5, request)
      expect(replacement).toMatchObject({ errorCode: 0 })
      const newId = replacement.memberId as string
      expect(newId).not.toBe(oldId)
      expect(await first(HEARTBEAT, 3, { groupId: 'static', generationId: 1, memberId: oldId,
        groupInstanceId: 'i1' })).toEqual({ throttleTimeMs: 0, errorCode: 82 })
      expect((await world.weir.admin().describeGroup('static')).members).toMatchObject([
        { memberId: newId, groupInstanceId: 'i1' }])
      expect(await second(LEAVE, 3, { groupId: 'static', members: [
        { memberId: '', groupInstanceId: 'i1' }] })).toEqual({ throttleTimeMs: 0,
        errorCode: 0, members: [{ memberId: '', groupInstanceId: 'i1', errorCode: 0 }] })
      expect((await world.weir.admin().describeGroup('static')).members).toEqual([])
    })
})

type Send = (apiKey: number, version: number, request: object) => Promise<Body>

interface Members {
  readonly a: Send
  readonly b: Send
  readonly admin: Send
  readonly memberA: string
  readonly memberB: string
}

async function commitAndFetch({ a, b, admin, memberA, memberB }: Members): Promise<void> {
  expect(await a(COMMIT, 5, { groupId: 'flow', generationId: 2, memberId: memberA, topics: [
    { name: 'orders', partitions: [
      { partitionIndex: 0, committedOffset: 5, committedMetadata: null },
      { partitionIndex: 1, committedOffset: 7, committedMetadata: 'a' },
      { partitionIndex: 9, committedOffset: 1, committedMetadata: null }] },
    { name: 'missing', partitions: [
      { partitionIndex: 0, committedOffset: 1, committedMetadata: null }] }] }))
    .toEqual({ throttleTimeMs: 0, topics: [
      { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 },
        { partitionIndex: 1, errorCode: 0 }, { partitionIndex: 9, errorCode: 3 }] },
      { name: 'missing', partitions: [{ partitionIndex: 0, errorCode: 3 }] }] })
  // A stale generation fails every partition of the commit alike.
  const stale = { groupId: 'flow', generationId: 1, memberId: memberB, retentionTimeMs: -1,
    topics: [{ name: 'orders', partitions: [
      { partitionIndex: 2, committedOffset: 1, committedMetadata: null },
      { partitionIndex: 0, committedOffset: 1, committedMetadata: null }] }] }
  expect(await b(COMMIT, 2, stale)).toEqual({ topics: [{ name: 'orders', partitions: [
    { partitionIndex: 2, errorCode: 22 }, { partitionIndex: 0, errorCode: 22 }] }] })
  // An unknown member is told so (checked before the generation, as Kafka).
  expect(await b(COMMIT, 4, { ...stale, memberId: 'x' })).toMatchObject({ topics: [
    { partitions: [{ errorCode: 25 }, { errorCode: 25 }] }] })
  expect((await world.weir.admin().fetchOffsets('flow')).map(({ topic, partition, offset,
    metadata }) => ({ topic, partition, offset, metadata }))).toEqual([
    { topic: 'orders', partition: 0, offset: 5, metadata: '' },
    { topic: 'orders', partition: 1, offset: 7, metadata: 'a' }])

  expect(await admin(FETCH_OFFSETS, 4, { groupId: 'flow', topics: [
    { name: 'orders', partitionIndexes: [0, 1, 2] }] })).toEqual({ throttleTimeMs: 0,
    errorCode: 0, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, committedOffset: 5, metadata: '', errorCode: 0 },
      { partitionIndex: 1, committedOffset: 7, metadata: 'a', errorCode: 0 },
      { partitionIndex: 2, committedOffset: -1, metadata: '', errorCode: 0 }] }] })
  // A partition named twice is answered twice, as Kafka does.
  expect(await admin(FETCH_OFFSETS, 4, { groupId: 'flow', topics: [
    { name: 'orders', partitionIndexes: [1, 1] }] })).toMatchObject({ topics: [{
    partitions: [{ partitionIndex: 1, committedOffset: 7 },
      { partitionIndex: 1, committedOffset: 7 }] }] })
  expect(await admin(FETCH_OFFSETS, 2, { groupId: 'flow', topics: null })).toEqual({
    errorCode: 0, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, committedOffset: 5, metadata: '', errorCode: 0 },
      { partitionIndex: 1, committedOffset: 7, metadata: 'a', errorCode: 0 }] }] })
  // A group-level error: per partition in v1, top-level (no partitions) from v2.
  const bad = { groupId: '', topics: [{ name: 'orders', partitionIndexes: [0] }] }
  expect(await admin(FETCH_OFFSETS, 1, bad)).toEqual({ topics: [{ name: 'orders',
    partitions: [{ partitionIndex: 0, committedOffset: -1, metadata: '', errorCode: 24 }] }] })
  expect(await admin(FETCH_OFFSETS, 3, bad)).toEqual({ throttleTimeMs: 0, errorCode: 24,
    topics: [] })
}

/** B leaves (v3, with a ghost beside it); A rejoins alone, then leaves (v1): the group is Empty. */
async function leaveUntilEmpty({ a, b, admin, memberA, memberB }: Members): Promise<void> {
  expect(await b(LEAVE, 3, { groupId: 'flow', members: [
    { memberId: memberB, groupInstanceId: null },
    { memberId: 'ghost', groupInstanceId: null }] })).toEqual({ throttleTimeMs: 0,
    errorCode: 0, members: [{ memberId: memberB, groupInstanceId: null, errorCode: 0 },
      { memberId: 'ghost', groupInstanceId: null, errorCode: 25 }] })
  expect((await world.weir.admin().describeGroup('flow')).state).toBe('PreparingRebalance')
  expect(await a(HEARTBEAT, 1, { groupId: 'flow', generationId: 2, memberId: memberA }))
    .toEqual({ throttleTimeMs: 0, errorCode: 27 })
  expect(await a(JOIN, 4, { ...joinRequest(memberA, metaA), groupInstanceId: undefined }))
    .toMatchObject({ errorCode: 0, generationId: 3, leader: memberA,
      members: [{ memberId: memberA, metadata: metaA }] })
  expect(await a(LEAVE, 1, { groupId: 'flow', memberId: memberA }))
    .toEqual({ throttleTimeMs: 0, errorCode: 0 })
  expect(await a(LEAVE, 0, { groupId: 'flow', memberId: memberA })).toEqual({ errorCode: 25 })
  expect(await admin(DESCRIBE, 0, { groups: ['flow'] })).toEqual({ groups: [
    { errorCode: 0, groupId: 'flow', groupState: 'Empty', protocolType: 'consumer',
      protocolData: '', members: [] }] })
  expect((await world.weir.admin().describeGroup('flow')).state).toBe('Empty')
}

/** With no members, generation −1 commits go both ways between the listener and Weir. */
async function simpleCommits(admin: Send): Promise<void> {
  // −1 (latest) is resolved by the listener, as KafkaJS's resetOffsets expects (empty: 0).
  expect(await admin(COMMIT, 3, { groupId: 'flow', generationId: -1, memberId: '',
    retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 2, committedOffset: 3, committedMetadata: null },
      { partitionIndex: 1, committedOffset: -1, committedMetadata: null }] }] }))
    .toEqual({ throttleTimeMs: 0, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 2, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] }] })
  expect((await world.weir.admin().fetchOffsets('flow', [{ topic: 'orders', partition: 1 }]))
    .map(entry => entry.offset)).toEqual([0])
  await world.weir.transport.commitOffsets({ groupId: 'flow', generationId: -1, memberId: '',
    offsets: [{ topic: 'orders', partition: 0, offset: 12, metadata: 'weir' }] })
  expect((await world.weir.admin().fetchOffsets('flow', [{ topic: 'orders', partition: 2 }]))
    .map(entry => entry.offset)).toEqual([3])
  expect(await admin(FETCH_OFFSETS, 4, { groupId: 'flow', topics: [
    { name: 'orders', partitionIndexes: [0, 2] }] })).toMatchObject({ errorCode: 0,
    topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, committedOffset: 12, metadata: 'weir', errorCode: 0 },
      { partitionIndex: 2, committedOffset: 3, metadata: '', errorCode: 0 }] }] })
}
