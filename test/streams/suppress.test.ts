/**
 * Goal: `suppress(untilWindowCloses(windows))` emits one final result per window (issue 7).
 * Property: for records with random keys and event times (out of order within and beyond grace)
 * counted in tumbling or hopping windows, suppress emits exactly the model's final counts, each
 * window once, when stream time closes it (end + grace ≤ stream time), windows closing together
 * ordered by end, start, key; windows still open at the end emit nothing. Examples: session
 * windows (a merged session's pending result goes with its removal), and a restart in the middle
 * (pending results come back from the store's changelog and are emitted once).
 *
 * Method: the topology harness (embedded broker, exactly-once app); the model is a loop over
 * the same records.
 */
import { fc, test } from '@fast-check/vitest'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  sessionCount, SessionWindows, suppress, TimeWindows, topology, untilWindowCloses, windowedCount,
} from '../../src/index.ts'
import { harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'

interface Input { key: string, timestamp: number }

/** The final results suppress emits, in order, as `key@start-end=count`. */
function model(records: readonly Input[], windows: TimeWindows): string[] {
  let streamTime = -1
  const pending = new Map<string, { key: string, start: number, end: number, count: number }>()
  const out: string[] = []
  for (const { key, timestamp } of records) {
    streamTime = Math.max(streamTime, timestamp)
    let updated = false
    for (let start = 0; start <= timestamp; start += windows.advanceMs) {
      const end = start + windows.sizeMs
      if (end <= timestamp || end + windows.graceMs <= streamTime) continue
      const id = `${key}@${start}`
      const current = pending.get(id)?.count ?? 0
      pending.set(id, { key, start, end, count: current + 1 })
      updated = true
    }
    if (!updated) continue // a late record reaches no window, and suppress sees nothing
    const closed = [...pending.entries()].filter(([, p]) => p.end + windows.graceMs <= streamTime)
      .sort(([, a], [, b]) => a.end - b.end || a.start - b.start || a.key.localeCompare(b.key))
    for (const [id, p] of closed) {
      out.push(`${p.key}@${p.start}-${p.end}=${p.count}`)
      pending.delete(id)
    }
  }
  return out
}

const windowsArbitrary = fc.oneof(
  fc.record({ size: fc.integer({ min: 1, max: 40 }), grace: fc.nat(20) })
    .map(({ size, grace }) => TimeWindows.tumbling(size, { graceMs: grace })),
  fc.record({ size: fc.integer({ min: 2, max: 40 }), divisor: fc.integer({ min: 1, max: 4 }),
    grace: fc.nat(20) })
    .map(({ size, divisor, grace }) => TimeWindows.hopping(size,
      Math.max(1, Math.floor(size / divisor)), { graceMs: grace })),
)

const inputsArbitrary = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'),
  timestamp: fc.nat(200) }), { minLength: 1, maxLength: 30 })

type Emitted = { window: { start: number, end: number }, value: number }

function show(records: ReadonlyArray<{ key: string | null, value: string | null }>): string[] {
  return records.map(r => {
    const { window, value } = JSON.parse(r.value!) as Emitted
    return `${r.key}@${window.start}-${window.end}=${value}`
  })
}

describe('suppress(untilWindowCloses)', () => {
  test.prop([windowsArbitrary, inputsArbitrary], { numRuns: numRuns(25) })(
    'emits exactly the model\'s final result of each closed window, once, in closing order',
    async (windows, inputs) => {
      const h = await harness([{ topic: 'in' }, { topic: 'out' }])
      try {
        const t = topology('suppressed')
        t.stream<string>('in').pipe(windowedCount(windows, { store: 'wc' }),
          suppress(untilWindowCloses(windows), { store: 'wc-final' })).to('out')
        await h.produce('in', inputs.map(({ key, timestamp }) => ({ key, value: '"x"',
          timestamp })))
        const app = await h.start(t)
        await app.caughtUp()
        expect(show(await h.read('out'))).toEqual(model(inputs, windows))
      } finally {
        await h.close()
      }
    })

  it('session windows: only the final session is emitted; a merged session\'s pending result '
    + 'is dropped with its removal', async () => {
    const h = await harness([{ topic: 'in' }, { topic: 'out' }])
    try {
      const sessions = SessionWindows.withGap(10, { graceMs: 20 })
      const t = topology('suppressed-sessions')
      t.stream<string>('in').pipe(sessionCount(sessions, { store: 'sc' }),
        suppress(untilWindowCloses(sessions), { store: 'sc-final' })).to('out')
      // Sessions [0] and [15] merge through 8 into [0, 15]; 40 closes it (15 + 20 < 40).
      await h.produce('in', [0, 15, 8, 40].map(timestamp => ({ key: 'k', value: '"x"',
        timestamp })))
      const app = await h.start(t)
      await app.caughtUp()
      expect(show(await h.read('out'))).toEqual(['k@0-15=3'])
    } finally {
      await h.close()
    }
  })

  it('pending results survive a restart (the store is restored from its changelog) and are '
    + 'emitted once', async () => {
    const h = await harness([{ topic: 'in' }, { topic: 'out' }])
    try {
      const windows = TimeWindows.tumbling(10)
      const build = (): ReturnType<typeof topology> => {
        const t = topology('suppressed-restart')
        t.stream<string>('in').pipe(windowedCount(windows, { store: 'wc' }),
          suppress(untilWindowCloses(windows), { store: 'wc-final' })).to('out')
        return t
      }
      await h.produce('in', [1, 2, 12].map(timestamp => ({ key: 'k', value: '"x"', timestamp })))
      const first = await h.start(build())
      await first.caughtUp()
      await first.close()
      // 20 closes [10, 20) exactly: its end + grace (0) ≤ stream time.
      await h.produce('in', [13, 20].map(timestamp => ({ key: 'k', value: '"x"', timestamp })))
      const second = await h.start(build(), { stateDir: join(h.dir, 'restored') })
      await second.caughtUp()
      expect(show(await h.read('out'))).toEqual(['k@0-10=2', 'k@10-20=2'])
    } finally {
      await h.close()
    }
  })
})
