/**
 * Goal: an indexed task store lists exactly its present keys, and expiry deletes exactly what
 * has expired, through commits and discarded intervals (task-store.ts).
 *
 * Property: for random sequences of puts, deletes, commits (flush, then the KeyValueStore's
 * commit), discards (a failed commit), sweeps at a rising stream time and reopenings (index
 * loaded from LevelDB), `keys()` equals the model's present keys after every step, and the
 * values equal the model's. The model is a map of committed entries plus one of this
 * interval's writes; a discard drops the latter; a sweep deletes the entries whose expiry
 * (here: the value) is at or before the stream time, when a sweep is due.
 *
 * Method: a real TaskStore over a real classic-level KeyValueStore in a temporary directory.
 */
import { fc, test } from '@fast-check/vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect } from 'vitest'
import { json } from '../../src/index.ts'
import { KeyValueStore } from '../../src/state/key-value-store.ts'
import { TaskStore } from '../../src/streams/runtime/task-store.ts'
import type { StoreSpec } from '../../src/streams/operator-info.ts'
import { defaultKeySerde } from '../../src/streams/serdes.ts'
import { numRuns } from '../helpers/num-runs.ts'

const SWEEP_INTERVAL = 5

type Step =
  | { op: 'put', key: string, value: number }
  | { op: 'delete', key: string }
  | { op: 'commit' }
  | { op: 'discard' }
  | { op: 'sweep', advance: number }
  | { op: 'reopen' }

const key = fc.constantFrom('a', 'b', 'c')
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('put' as const), key, value: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 2, arbitrary: fc.constant({ op: 'commit' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'discard' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('sweep' as const), advance: fc.nat(8) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) },
)

const spec: StoreSpec = { name: 'indexed', keySerde: defaultKeySerde(), valueSerde: json(),
  expiry: { sweepIntervalMs: SWEEP_INTERVAL, expiresAtMs: (_key, value) => value as number } }

describe('indexed task store', () => {
  test.prop([fc.array(step, { maxLength: 40 })], { numRuns: numRuns(200) })(
    'keys() lists exactly the present keys and sweeps delete exactly the expired ones, across '
    + 'commits, discards and reopenings', async steps => {
      const dir = await mkdtemp(join(tmpdir(), 'weir-index-'))
      const open = async (): Promise<TaskStore> => {
        const store = new TaskStore(spec, 'changelog', await KeyValueStore.open({ name: 'indexed',
          directory: dir }), 2)
        await store.loadIndex()
        return store
      }
      let store = await open()
      let offset = 0
      const committed = new Map<string, number>()
      let pending = new Map<string, number | undefined>()
      let streamTime = 0
      let nextSweep = -1
      const present = (): Map<string, number> => {
        const view = new Map(committed)
        for (const [k, v] of pending) {
          if (v === undefined) view.delete(k)
          else view.set(k, v)
        }
        return view
      }
      try {
        for (const s of steps) {
          if (s.op === 'put') {
            store.put(s.key, s.value)
            pending.set(s.key, s.value)
          } else if (s.op === 'delete') {
            store.delete(s.key)
            pending.set(s.key, undefined)
          } else if (s.op === 'commit') {
            store.flush()
            await store.kv.commit(++offset)
            store.committed()
            for (const [k, v] of present()) committed.set(k, v)
            for (const k of [...committed.keys()]) if (!present().has(k)) committed.delete(k)
            pending = new Map()
          } else if (s.op === 'discard') {
            store.discard()
            pending = new Map()
            nextSweep = -1
          } else if (s.op === 'sweep') {
            streamTime += s.advance
            store.sweep(streamTime)
            if (streamTime >= nextSweep) {
              nextSweep = streamTime + SWEEP_INTERVAL
              for (const [k, v] of present()) if (v <= streamTime) pending.set(k, undefined)
            }
          } else {
            await store.kv.close()
            store = await open()
            pending = new Map()
            nextSweep = -1
          }
          const expected = present()
          expect(new Set(store.keys() as string[]), `after ${JSON.stringify(s)}`)
            .toEqual(new Set(expected.keys()))
          for (const [k, v] of expected) expect(store.get(k)).toBe(v)
        }
      } finally {
        await store.kv.close()
        await rm(dir, { recursive: true, force: true })
      }
    })
})
