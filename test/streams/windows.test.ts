/**
 * Goal: the window definitions of src/streams/windows behave as Kafka Streams' do, checked
 * against brute-force models. Properties: a tumbling window set puts every timestamp in exactly
 * one window, aligned to the size; hopping windows for a timestamp are exactly the windows
 * [k·advance, k·advance + size) with k ≥ 0 that contain it, oldest first; merging records into
 * sessions one at a time, in any order, gives the sessions of the model (sorted timestamps split
 * where two neighbours are more than the gap apart); window store keys sort by key bytes, then
 * start, and decode to what was encoded. Examples pin the grace rules (a time window is open
 * while end + grace > stream time, a session while end + grace ≥ stream time) and refusals.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { SessionWindows, type SessionWindow } from '../../src/streams/windows/session-windows.ts'
import { TimeWindows } from '../../src/streams/windows/time-windows.ts'
import { decodeWindowKey, encodeWindowKey } from '../../src/streams/windows/window-key.ts'
import { numRuns } from '../helpers/num-runs.ts'

const timestamp = fc.integer({ min: 0, max: 10_000_000 })

describe('TimeWindows', () => {
  test.prop([fc.integer({ min: 1, max: 100_000 }), timestamp], { numRuns: numRuns(200) })(
    'tumbling: every timestamp is in exactly one window, aligned to the size',
    (size, t) => {
      const windows = TimeWindows.tumbling(size).windowsFor(t)
      expect(windows).toEqual([{ start: t - (t % size), end: t - (t % size) + size }])
    })

  test.prop([fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 500 }),
    fc.integer({ min: 0, max: 5_000 })], { numRuns: numRuns(300) })(
    'hopping: the windows of a timestamp are exactly those [k·advance, k·advance + size) that '
    + 'contain it, oldest first', (a, b, t) => {
      const [advance, size] = a <= b ? [a, b] : [b, a]
      const model = []
      for (let start = 0; start <= t; start += advance) {
        if (start + size > t) model.push({ start, end: start + size })
      }
      expect(TimeWindows.hopping(size, advance).windowsFor(t)).toEqual(model)
    })

  it('keeps a window open while end + grace > stream time; retention is size + grace', () => {
    const windows = TimeWindows.tumbling(60_000, { graceMs: 5_000 })
    expect(windows.isOpen(60_000, 64_999)).toBe(true)
    expect(windows.isOpen(60_000, 65_000)).toBe(false)
    expect(windows.retentionMs).toBe(65_000)
  })

  it('refuses sizes, advances and grace periods that make no windows', () => {
    for (const make of [() => TimeWindows.tumbling(0), () => TimeWindows.hopping(10, 11),
      () => TimeWindows.hopping(10, 0), () => TimeWindows.tumbling(10, { graceMs: -1 }),
      () => TimeWindows.tumbling(1.5)]) {
      expect(make).toThrow(expect.objectContaining({ code: 'WEIR_ERR_STREAMS_TOPOLOGY' }))
    }
  })
})

/** Sessions of sorted timestamps: a new one wherever neighbours are more than `gap` apart. */
function modelSessions(timestamps: readonly number[], gap: number):
Array<{ window: SessionWindow, aggregate: number }> {
  const sorted = [...timestamps].sort((a, b) => a - b)
  const sessions: Array<{ window: SessionWindow, aggregate: number }> = []
  for (const t of sorted) {
    const last = sessions[sessions.length - 1]
    if (last !== undefined && t - last.window.end <= gap) {
      sessions[sessions.length - 1] = { window: { start: last.window.start, end: t },
        aggregate: last.aggregate + 1 }
    } else {
      sessions.push({ window: { start: t, end: t }, aggregate: 1 })
    }
  }
  return sessions
}

describe('SessionWindows', () => {
  test.prop([fc.integer({ min: 1, max: 50 }),
    fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 40 })],
  { numRuns: numRuns(300) })(
    'merging records one at a time, in any order, gives the model\'s sessions (a record may '
    + 'join two sessions)', (gap, timestamps) => {
      const windows = SessionWindows.withGap(gap)
      let sessions: Array<{ window: SessionWindow, aggregate: number }> = []
      for (const t of timestamps) {
        const { window, merged } = windows.merge(t, sessions)
        sessions = [...sessions.filter(session => !merged.includes(session)),
          { window, aggregate: 1 + merged.reduce((sum, m) => sum + m.aggregate, 0) }]
      }
      sessions.sort((a, b) => a.window.start - b.window.start)
      expect(sessions).toEqual(modelSessions(timestamps, gap))
    })

  it('keeps a session open while end + grace ≥ stream time; refuses a gap of 0', () => {
    const windows = SessionWindows.withGap(1_000, { graceMs: 500 })
    expect(windows.isOpen(10_000, 10_500)).toBe(true)
    expect(windows.isOpen(10_000, 10_501)).toBe(false)
    expect(windows.retentionMs).toBe(1_500)
    expect(() => SessionWindows.withGap(0))
      .toThrow(expect.objectContaining({ code: 'WEIR_ERR_STREAMS_TOPOLOGY' }))
  })
})

describe('window keys', () => {
  const key = (length: number): fc.Arbitrary<Buffer> =>
    fc.uint8Array({ minLength: length, maxLength: length }).map(bytes => Buffer.from(bytes))
  const start = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })

  test.prop([fc.integer({ min: 0, max: 6 }).chain(length => fc.tuple(key(length), key(length))),
    start, start], { numRuns: numRuns(300) })(
    'keys of one length sort by key bytes, then by window start', ([a, b], s1, s2) => {
      const order = Math.sign(Buffer.compare(encodeWindowKey(a, s1), encodeWindowKey(b, s2)))
      const expected = Buffer.compare(a, b) !== 0 ? Math.sign(Buffer.compare(a, b))
        : Math.sign(s1 - s2)
      expect(order).toBe(expected)
    })

  test.prop([fc.uint8Array({ maxLength: 20 }).map(bytes => Buffer.from(bytes)), start,
    fc.nat(1_000_000)], { numRuns: numRuns(200) })(
    'decode returns what was encoded, with and without a session end', (bytes, s, length) => {
      expect(decodeWindowKey(encodeWindowKey(bytes, s))).toEqual({ key: bytes, start: s })
      const end = Math.min(Number.MAX_SAFE_INTEGER, s + length)
      expect(decodeWindowKey(encodeWindowKey(bytes, s, end), true))
        .toEqual({ key: bytes, start: s, end })
    })
})
