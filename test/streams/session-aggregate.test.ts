/**
 * Goal: session-windowed aggregation at run time equals a model computed from the input, with
 * merges (a record bridging two sessions), grace, late drops and retention. Property: for records
 * with random keys and timestamps (in random order, nearly in order, or in triples made to
 * bridge; some late) on one partition, a topology counting them in session windows emits, in
 * input order, exactly the events of the model — per record that is not late, a removal (value
 * null) for each session it merges, oldest first, unless the new session is [t, t], then the new
 * session's count — and its store ends equal to the model's live sessions (a key whose sessions
 * are all past retention may be gone: the store's expiry sweep). An example checks
 * sessionAggregate (with a custom serde) and sessionReduce.
 *
 * The model is a plain loop, independent of SessionWindows: per key a list of sessions; a
 * session is forgotten once end + gap + grace < stream time; a record merges the sessions it is
 * within the gap of; it is late when the merged end + grace < stream time (the largest timestamp
 * so far, this record's included).
 *
 * Method: the topology harness (real embedded broker, exactly-once app).
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import {
  type Serde, sessionAggregate, sessionCount, sessionReduce, SessionWindows, type StoredSession,
  topology,
} from '../../src/index.ts'
import { harness } from '../helpers/topology-runner.ts'
import { numRuns } from '../helpers/num-runs.ts'
import { type Input, sessionModel as model } from '../helpers/window-models.ts'

const keyArbitrary = fc.constantFrom('a', 'b', 'c')

/** Records with random keys and timestamps in 0..300, in random order. */
const shuffled: fc.Arbitrary<Input[]> = fc.array(
  fc.record({ key: keyArbitrary, timestamp: fc.nat(300) }), { minLength: 1, maxLength: 30 })

/** Records in timestamp order, each delayed by up to 60 ms: earlier sessions live longer. */
const delayed: fc.Arbitrary<Input[]> = fc.array(
  fc.record({ key: keyArbitrary, timestamp: fc.nat(300), delay: fc.nat(60) }),
  { minLength: 1, maxLength: 30 })
  .map(records => [...records].sort((x, y) => x.timestamp + x.delay - y.timestamp - y.delay)
    .map(({ key, timestamp }) => ({ key, timestamp })))

/**
 * Triples base, base + gap + split, then base + max(mid, split) — within the gap of both, so it
 * bridges their sessions when both are still kept — the triples nearly in order of base. Some
 * repeat base (a record meeting a session [t, t] at t, which Kafka updates without a removal).
 */
function bridging(gap: number): fc.Arbitrary<Input[]> {
  return fc.array(fc.record({ key: keyArbitrary, base: fc.nat(300 - 2 * gap),
    split: fc.integer({ min: 1, max: gap }), mid: fc.nat(gap), delay: fc.nat(60),
    repeat: fc.boolean() }), { minLength: 1, maxLength: 10 })
    .map(triples => [...triples].sort((x, y) => x.base + x.delay - y.base - y.delay)
      .flatMap(({ key, base, split, mid, repeat }) => [...repeat ? [base] : [], base,
        base + gap + split, base + Math.max(mid, split)].map(timestamp => ({ key, timestamp }))))
}

/**
 * Gap, grace and records; the bridging shape gets half the runs (bridges are rare otherwise), and
 * a quarter get grace 0, where every in-order record is on the lateness boundary.
 */
const caseArbitrary = fc.record({ gap: fc.integer({ min: 1, max: 40 }),
  grace: fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat(30), weight: 3 }) })
  .chain(({ gap, grace }) => fc.record({ gap: fc.constant(gap), grace: fc.constant(grace),
    inputs: fc.oneof({ arbitrary: shuffled, weight: 1 }, { arbitrary: delayed, weight: 1 },
      { arbitrary: bridging(gap), weight: 2 }) }))

/** A test serde for numbers as decimal text, to exercise the framed store layout. */
const decimal: Serde<number> = {
  name: 'decimal',
  serialize: n => Buffer.from(String(n)),
  deserialize: bytes => Number(bytes.toString()),
}

describe('session-windowed aggregation', () => {
  test.prop([caseArbitrary], { numRuns: numRuns(12) })(
    'sessionCount emits the model\'s removals and updates in input order; its store equals '
      + 'the model\'s live sessions',
    async ({ gap, grace, inputs }) => {
      const h = await harness([{ topic: 'in' }, { topic: 'out' }])
      try {
        const t = topology('session-count')
        t.stream<string>('in')
          .pipe(sessionCount(SessionWindows.withGap(gap, { graceMs: grace }), { store: 'sc' }))
          .to('out')
        await h.produce('in', inputs.map(({ key, timestamp }) =>
          ({ key, value: '"x"', timestamp })))
        const app = await h.start(t)
        await app.caughtUp()
        const expected = model(inputs, gap, grace)
        const out = await h.read('out')
        expect(out.map(r => ({ key: r.key, ...JSON.parse(r.value!) as object })))
          .toEqual(expected.events)
        const stored = await app.query<Array<StoredSession<number>>>('sc').all()
        // Retention: a key may be gone once its last session is past end + gap + grace.
        const streamTime = Math.max(...inputs.map(input => input.timestamp))
        const kept = [...expected.sessions].filter(([, sessions]) =>
          Math.max(...sessions.map(s => s.end)) + gap + grace >= streamTime)
        const byKey = new Map(stored.map(({ key, value }) => [key as unknown as string, value]))
        for (const [key, sessions] of kept) expect(byKey.get(key)).toEqual(sessions)
        for (const [key, sessions] of byKey) expect(sessions).toEqual(expected.sessions.get(key))
        expect(app.metrics().lateRecordsDropped.sc ?? 0).toBe(expected.late)
      } finally {
        await h.close()
      }
    })

  it(
    'sessionAggregate joins two sessions through a bridging record; sessionReduce too',
    async () => {
      const h = await harness([{ topic: 'in' }, { topic: 'sums' }, { topic: 'maxima' }])
      try {
        const windows = SessionWindows.withGap(10, { graceMs: 10 })
        const t = topology('session-folds')
        const numbers = t.stream<number>('in')
        numbers.pipe(sessionAggregate(windows, () => 0, (sum, n: number) => sum + n,
          (a, b) => a + b, { store: 'sums', serde: decimal })).to('sums')
        numbers.pipe(sessionReduce(windows, (a: number, b: number) => Math.max(a, b),
          { store: 'maxima' })).to('maxima')
        await h.produce('in', [[0, 1], [20, 2], [10, 4], [5, 8], [50, 16], [50, 64], [25, 32]]
          .map(([ts, n]) => ({ key: 'k', value: String(n), timestamp: ts })))
        const app = await h.start(t)
        await app.caughtUp()
        const values = async (topic: string): Promise<string[]> => (await h.read(topic))
          .map(r => { const { window, value } = JSON.parse(r.value!) as {
            window: { start: number, end: number }, value: number | null }
          return `${window.start}-${window.end}:${value}` })
        // [0,0] is kept at stream time 20 (0 + gap + grace ≥ 20). 10 is within the gap of [0,0]
        // and [20,20]: both are removed, [0,20] takes 1 + 2 + 4. 5 falls inside [0,20]: removed
        // and re-emitted. 50 moves stream time past 20 + 10 + 10, so [0,20] is forgotten, and
        // 50 again only updates [50,50] (no removal, as in Kafka). 25 makes [25,25], closed at
        // stream time 50 (25 + 10 < 50): dropped.
        expect(await values('sums')).toEqual(['0-0:1', '20-20:2', '0-0:null', '20-20:null',
          '0-20:7', '0-20:null', '0-20:15', '50-50:16', '50-50:80'])
        expect(await values('maxima')).toEqual(['0-0:1', '20-20:2', '0-0:null', '20-20:null',
          '0-20:4', '0-20:null', '0-20:8', '50-50:16', '50-50:64'])
        for (const [store, value] of [['sums', 80], ['maxima', 64]] as const) {
          expect(await app.query(store).all())
            .toEqual([{ key: 'k', value: [{ start: 50, end: 50, value }] }])
        }
      } finally {
        await h.close()
      }
    })
})
