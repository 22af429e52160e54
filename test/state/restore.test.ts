/**
 * Goal: restoring a store from its changelog yields exactly the fold of the committed changelog
 * records (aborted transactions never applied), continues from a trusted checkpoint, starts over
 * from an untrusted one, reports progress, and always terminates — also when the changelog ends in
 * a commit marker, which is never delivered as a record.
 */
import fc from 'fast-check'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Weir } from '../../src/client/weir.ts'
import { KeyValueStore } from '../../src/state/key-value-store.ts'
import { type RestoreProgress, restoreStore } from '../../src/state/restore.ts'
import { withWeir } from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { numRuns } from '../helpers/num-runs.ts'

const TOPIC = 'app-counts-changelog'

interface Write { readonly key: string, readonly value: string | null }

/** Writes each transaction's records to the changelog, committing or aborting it. */
async function writeChangelog(weir: Weir, transactions: ReadonlyArray<{ writes: readonly Write[],
  commit: boolean }>): Promise<void> {
  const producer = weir.producer({ transactionalId: 'changelog-writer' })
  await producer.initTransactions()
  for (const { writes, commit } of transactions) {
    producer.beginTransaction()
    await producer.send({ topic: TOPIC, messages: writes.map(w => ({ key: w.key, value: w.value,
      partition: 0 })) })
    if (commit) await producer.commitTransaction()
    else await producer.abortTransaction()
  }
  await producer.close()
}

function fold(transactions: ReadonlyArray<{ writes: readonly Write[], commit: boolean }>):
Array<[string, string]> {
  const state = new Map<string, string>()
  for (const { writes, commit } of transactions) {
    if (!commit) continue
    for (const w of writes) w.value === null ? state.delete(w.key) : state.set(w.key, w.value)
  }
  return [...state].sort(([a], [b]) => a < b ? -1 : 1)
}

const contents = async (store: KeyValueStore) =>
  (await store.entries()).map(e => [e.key.toString(), e.value.toString()])

/** Waits until the changelog has no undecided transaction (markers are written after commit). */
async function settled(weir: Weir): Promise<number> {
  for (;;) {
    const [stable] = await weir.transport.listOffsets([{ topic: TOPIC, partition: 0,
      spec: 'latest', isolationLevel: 'read_committed' }])
    const [high] = await weir.transport.listOffsets([{ topic: TOPIC, partition: 0,
      spec: 'latest' }])
    if (stable!.offset === high!.offset) return high!.offset
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

describe('restoring a store from its changelog', () => {
  it('applies committed records only, ends on a marker without hanging, and resumes from its checkpoint', async () => {
    await withWeir('weir-restore-', async weir => {
      await weir.admin().createTopics([{ topic: TOPIC, partitions: 1,
        config: { cleanupPolicy: 'compact' } }])
      const first = [
        { writes: [{ key: 'a', value: '1' }, { key: 'b', value: '1' }], commit: true },
        { writes: [{ key: 'a', value: 'aborted' }], commit: false },
        { writes: [{ key: 'b', value: null }, { key: 'c', value: '3' }], commit: true },
      ]
      await writeChangelog(weir, first)
      const end = await settled(weir) // the last offset is the commit marker
      await withStore(async (store, dir) => {
        const progress: RestoreProgress[] = []
        const result = await restoreStore(store, { transport: weir.transport, topic: TOPIC,
          partition: 0, fetchBytes: 1, onProgress: p => progress.push(p) })
        expect(result).toMatchObject({ from: 0, endOffset: end, fromScratch: true })
        expect(await contents(store)).toEqual(fold(first))
        expect(store.checkpoint).toBe(end)
        expect(progress.at(-1)).toMatchObject({ position: end, endOffset: end })
        expect(progress.map(p => p.position)).toEqual([...progress.map(p => p.position)].sort(
          (x, y) => x - y))
        await store.close()

        const second = [{ writes: [{ key: 'd', value: '4' }], commit: true }]
        await writeChangelog(weir, second)
        const reopened = await KeyValueStore.open({ name: 'counts', directory: dir })
        try {
          const again = await restoreStore(reopened, { transport: weir.transport, topic: TOPIC,
            partition: 0 })
          expect(again).toMatchObject({ from: end, fromScratch: false, records: 1 })
          expect(await contents(reopened)).toEqual(fold([...first, ...second]))
        } finally {
          await reopened.close()
        }
      })
    })
  })

  it('starts over when the checkpoint lies beyond the changelog end', async () => {
    await withWeir('weir-restore-', async weir => {
      await weir.admin().createTopics([{ topic: TOPIC, partitions: 1 }])
      const transactions = [{ writes: [{ key: 'a', value: '1' }], commit: true }]
      await writeChangelog(weir, transactions)
      await settled(weir)
      await withStore(async store => {
        await store.apply([{ key: Buffer.from('stale'), value: Buffer.from('x') }], 10_000)
        const result = await restoreStore(store, { transport: weir.transport, topic: TOPIC,
          partition: 0 })
        expect(result.fromScratch).toBe(true)
        expect(await contents(store)).toEqual(fold(transactions))
      })
    })
  })

  it('property: the restored store equals the fold of the committed changelog records', async () => {
    const write = fc.record({ key: fc.constantFrom('a', 'b', 'c'),
      value: fc.option(fc.string({ maxLength: 3 }), { nil: null }) })
    const transaction = fc.record({ writes: fc.array(write, { minLength: 1, maxLength: 4 }),
      commit: fc.boolean() })
    await fc.assert(fc.asyncProperty(fc.array(transaction, { maxLength: 8 }),
      fc.integer({ min: 1, max: 400 }), async (transactions, fetchBytes) => {
        await withWeir('weir-restore-', async weir => {
          await weir.admin().createTopics([{ topic: TOPIC, partitions: 1 }])
          await writeChangelog(weir, transactions)
          await settled(weir)
          await withStore(async store => {
            await restoreStore(store, { transport: weir.transport, topic: TOPIC, partition: 0,
              fetchBytes })
            expect(await contents(store)).toEqual(fold(transactions))
          })
        })
      }), { numRuns: numRuns(15) })
  })
})

/** Runs `run` with a fresh store in a temp dir (`dir` is the store's own directory). */
async function withStore(run: (store: KeyValueStore, dir: string) => Promise<void>):
Promise<void> {
  await withTempDir('weir-store-', async dir => {
    const directory = join(dir, 'db')
    const store = await KeyValueStore.open({ name: 'counts', directory })
    try {
      await run(store, directory)
    } finally {
      await store.close()
    }
  })
}
