/**
 * Goal: the state store keeps buffered writes out of the database until commit, then applies
 * them atomically with the checkpoint, so a reopened store holds exactly the committed state and
 * the offset it reaches; range and prefix queries see committed state in key order.
 */
import fc from 'fast-check'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KeyValueStore } from '../../src/state/key-value-store.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

const b = (text: string): Buffer => Buffer.from(text)
const text = (bytes: Buffer | undefined): string | undefined => bytes?.toString()

describe('key-value store', () => {
  it('buffers writes until commit; a reopened store has the committed state and checkpoint', async () => {
    await withTempDir('weir-store-', async dir => {
      const directory = join(dir, 'counts')
      let store = await KeyValueStore.open({ name: 'counts', directory })
      expect(store.checkpoint).toBeUndefined()
      store.put(b('a'), b('1'))
      store.put(b('b'), b('2'))
      expect(text(store.get(b('a')))).toBe('1') // reads see buffered writes
      expect(await store.entries()).toEqual([]) // queries see committed state only
      await store.commit(7)
      store.put(b('a'), b('9'))
      store.delete(b('b'))
      expect(text(store.get(b('a')))).toBe('9')
      expect(store.get(b('b'))).toBeUndefined()
      store.discard() // the transaction aborted
      expect(text(store.get(b('b')))).toBe('2')
      store.put(b('c'), b('3'))
      await store.close() // uncommitted writes are lost with the process
      store = await KeyValueStore.open({ name: 'counts', directory })
      try {
        expect(store.checkpoint).toBe(7)
        expect((await store.entries()).map(e => `${e.key}=${e.value}`)).toEqual(['a=1', 'b=2'])
        expect(store.get(b('c'))).toBeUndefined()
      } finally {
        await store.close()
      }
    })
  })

  it('answers range and prefix queries in key order', async () => {
    await withTempDir('weir-store-', async dir => {
      const store = await KeyValueStore.open({ name: 's', directory: join(dir, 's') })
      try {
        for (const key of ['user:1', 'user:2', 'user:10', 'order:1', 'z']) store.put(b(key), b(key))
        store.put(Buffer.from([0xff, 0xff]), b('high'))
        await store.commit(1)
        const keys = async (query: Parameters<KeyValueStore['entries']>[0]) =>
          (await store.entries(query)).map(e => e.key.toString('latin1'))
        expect(await keys({ prefix: b('user:') })).toEqual(['user:1', 'user:10', 'user:2'])
        expect(await keys({ from: b('order:'), to: b('user:10') }))
          .toEqual(['order:1', 'user:1'])
        expect(await keys({ prefix: Buffer.from([0xff]) })).toEqual(['\xff\xff'])
        expect(await keys({ limit: 2 })).toEqual(['order:1', 'user:1'])
      } finally {
        await store.close()
      }
    })
  })

  it('property: after any puts, deletes, commits, discards and reopens the store equals the fold of the committed writes', async () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd')
    const op = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), key, value: fc.string({ maxLength: 4 }) }),
      fc.record({ kind: fc.constant('delete' as const), key }),
      fc.record({ kind: fc.constant('commit' as const) }),
      fc.record({ kind: fc.constant('discard' as const) }),
      fc.record({ kind: fc.constant('reopen' as const) }))
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 30 }), async ops => {
      await withTempDir('weir-store-', async dir => {
        const directory = join(dir, 's')
        let store = await KeyValueStore.open({ name: 's', directory })
        const committed = new Map<string, string>()
        let pending = new Map<string, string | null>()
        let offset = 0
        try {
          for (const each of ops) {
            if (each.kind === 'put') {
              store.put(b(each.key), b(each.value))
              pending.set(each.key, each.value)
            } else if (each.kind === 'delete') {
              store.delete(b(each.key))
              pending.set(each.key, null)
            } else if (each.kind === 'commit') {
              await store.commit(++offset)
              for (const [k, v] of pending) v === null ? committed.delete(k) : committed.set(k, v)
              pending = new Map()
            } else {
              if (each.kind === 'reopen') {
                await store.close()
                store = await KeyValueStore.open({ name: 's', directory })
              } else {
                store.discard()
              }
              pending = new Map()
            }
            for (const k of ['a', 'b', 'c', 'd']) {
              const expected = pending.has(k) ? pending.get(k) ?? undefined : committed.get(k)
              expect(text(store.get(b(k)))).toBe(expected)
            }
          }
          const entries = (await store.entries()).map(e => [e.key.toString(), e.value.toString()])
          expect(entries).toEqual([...committed].sort(([x], [y]) => x < y ? -1 : 1))
          expect(store.checkpoint).toBe(offset === 0 ? undefined : offset)
        } finally {
          await store.close()
        }
      })
    }), { numRuns: numRuns(30) })
  })
})
