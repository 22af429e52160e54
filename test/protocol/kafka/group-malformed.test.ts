/**
 * Goal (issue 9): malformed or invalid input to the group APIs gets an error code or a closed
 * connection, never a crash, a hang or a partial response; the listener serves the next
 * connection as before.
 * Method, over real TCP against an embedded broker:
 * - requests that parse but are invalid (empty or over-long group ids, session timeouts out of
 *   range, no protocols, duplicate protocols, unknown members, negative offsets, oversized
 *   offset metadata, an empty LeaveGroup batch) get Kafka's error code;
 * - every strict prefix of a valid request of every group API version is a truncated body: the
 *   connection closes without any response byte;
 * - seeded random byte flips in the bodies of the APIs that answer at once (everything but
 *   JoinGroup, which may wait for a rebalance) are answered or close the connection, and the
 *   listener's close reasons are only "malformed" ones (a TypeError or an assertion would be a
 *   bug surfacing as a closed connection).
 */
import { describe, expect, it } from 'vitest'
import { groupApis } from '../../../src/protocol/kafka/apis/group-apis.ts'
import { mulberry32 } from '../../../src/testing/sim-disk.ts'
import { body, listenerWorld, open, requestFrame, responses } from './kafka-wire.ts'

const closes: string[] = []
const world = listenerWorld('weir-kafka-group-malformed-', {
  topics: [{ topic: 'orders', partitions: 2 }],
  listener: { onConnectionClosed: reason => closes.push(reason) },
})

async function ask(apiKey: number, version: number, request: object):
Promise<Record<string, unknown>> {
  const socket = await open(world.listener.port)
  const replies = responses(socket)
  socket.write(requestFrame(apiKey, version, 1, request))
  const [frame] = await replies.frames(1)
  socket.destroy()
  expect(frame, `a response to ${apiKey} v${version}`).toBeDefined()
  return body(frame!, apiKey, version).value
}

const protocols = [{ name: 'range', metadata: Buffer.from('0001', 'hex') }]
const joinBody = { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
  memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols }
const commitBody = { groupId: 'g', generationId: -1, memberId: '', retentionTimeMs: -1,
  topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 1,
    committedMetadata: null }] }] }

/** A valid request body for every group API version (fields a version lacks are ignored). */
const samples: Record<number, object> = {
  8: commitBody,
  9: { groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1] }] },
  10: { key: 'g', keyType: 0 },
  11: joinBody,
  12: { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null },
  13: { groupId: 'g', memberId: 'm', members: [{ memberId: 'm', groupInstanceId: null }] },
  14: { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null,
    assignments: [{ memberId: 'm', assignment: Buffer.from('00', 'hex') }] },
  15: { groups: ['g', 'h'] },
  16: {},
}

describe('malformed and invalid group requests', () => {
  it('answer invalid fields with Kafka error codes', async () => {
    expect(await ask(11, 5, { ...joinBody, groupId: '' })).toMatchObject({ errorCode: 24,
      generationId: -1, members: [] })
    expect(await ask(11, 5, { ...joinBody, groupId: 'x'.repeat(300) }))
      .toMatchObject({ errorCode: 24 })
    expect(await ask(11, 0, { ...joinBody, sessionTimeoutMs: 1 })).toMatchObject({
      errorCode: 26 })
    expect(await ask(11, 5, { ...joinBody, protocols: [] })).toMatchObject({ errorCode: 23 })
    expect(await ask(11, 5, { ...joinBody, protocolType: '' })).toMatchObject({ errorCode: 23 })
    expect(await ask(11, 5, { ...joinBody, protocols: [...protocols, ...protocols] }))
      .toMatchObject({ errorCode: 42 })
    expect(await ask(11, 5, { ...joinBody, memberId: 'stranger' })).toMatchObject({
      errorCode: 25, memberId: 'stranger' })
    expect(await ask(14, 3, samples[14]!)).toEqual({ throttleTimeMs: 0, errorCode: 25,
      assignment: Buffer.alloc(0) })
    expect(await ask(12, 3, samples[12]!)).toEqual({ throttleTimeMs: 0, errorCode: 25 })
    expect(await ask(13, 3, { groupId: 'g', members: [] })).toEqual({ throttleTimeMs: 0,
      errorCode: 42, members: [] })
    expect(await ask(13, 3, { groupId: '', members: [{ memberId: 'm',
      groupInstanceId: null }] })).toMatchObject({ errorCode: 24, members: [{ errorCode: 24 }] })
    const negative = { ...commitBody, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 0, committedOffset: -5, committedMetadata: null },
      { partitionIndex: 7, committedOffset: 1, committedMetadata: null }] }] }
    expect(await ask(8, 5, negative)).toEqual({ throttleTimeMs: 0, topics: [{ name: 'orders',
      partitions: [{ partitionIndex: 0, errorCode: 42 }, { partitionIndex: 7, errorCode: 3 }] }] })
    const large = { ...commitBody, topics: [{ name: 'orders', partitions: [
      { partitionIndex: 1, committedOffset: 1, committedMetadata: 'm'.repeat(5000) }] }] }
    expect(await ask(8, 2, large)).toEqual({ topics: [{ name: 'orders',
      partitions: [{ partitionIndex: 1, errorCode: 42 }] }] })
    expect(await ask(15, 1, { groups: ['', 'g'] })).toMatchObject({ groups: [
      { errorCode: 24, groupId: '' }, { errorCode: 0, groupId: 'g', groupState: 'Dead' }] })
    expect(await world.weir.admin().fetchOffsets('g')).toEqual([])
  })

  it('close the connection, without a response byte, on every truncation of every version',
    async () => {
      const before = closes.length
      let cases = 0
      for (const api of groupApis) {
        const frame = requestFrame(api.apiKey, api.version, 1, samples[api.apiKey]!)
        // Cut inside the body only (a cut header is covered by listener.test.ts).
        for (let end = 4 + 10 + 1; end < frame.length; end++) {
          const cut = Buffer.from(frame.subarray(0, end))
          cut.writeInt32BE(cut.length - 4)
          if (cut.length - 4 < 10 + 1) continue
          const socket = await open(world.listener.port)
          const replies = responses(socket)
          socket.write(cut)
          expect(await replies.closed(), `${api.name} v${api.version} cut at ${end}`)
            .toEqual({ frames: 0, partial: 0 })
          cases += 1
        }
      }
      expect(cases).toBeGreaterThan(500)
      expect(closes.slice(before)).toHaveLength(cases)
      expect(closes.slice(before).every(reason => /Malformed Kafka request/.test(reason)))
        .toBe(true)
    })

  it('answer or close on random byte flips in the body, and keep serving', async () => {
    const seed = Number(process.env.WEIR_SEED ?? 0x5eed)
    console.log(`group-malformed seed ${seed} (replay with WEIR_SEED=${seed})`)
    const source = mulberry32(seed)
    const next = (): number => source.random()
    const before = closes.length
    let answered = 0
    for (const api of groupApis.filter(candidate => candidate.apiKey !== 11)) {
      for (let round = 0; round < 20; round++) {
        const frame = requestFrame(api.apiKey, api.version, 1, samples[api.apiKey]!)
        const bodyStart = 4 + 10
        for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) {
          const at = bodyStart + Math.floor(next() * (frame.length - bodyStart))
          frame[at] = Math.floor(next() * 256)
        }
        const socket = await open(world.listener.port)
        const replies = responses(socket)
        socket.write(frame)
        const outcome = await Promise.race([replies.frames(1), replies.closed()])
        if (Array.isArray(outcome) && outcome.length === 1) answered += 1
        socket.destroy()
      }
    }
    expect(answered).toBeGreaterThan(0)
    const reasons = closes.slice(before)
    expect(reasons.filter(reason => !/Malformed Kafka request|socket error/.test(reason)))
      .toEqual([])
    expect(await ask(16, 2, {})).toMatchObject({ errorCode: 0 })
  })
})
