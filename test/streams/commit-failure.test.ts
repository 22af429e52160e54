/**
 * Failed commits under exactly-once: the transaction is aborted and the interval processed again
 * from the committed offsets, so a read_committed reader still sees each output once, in order —
 * including when a batch was already taken from the consumer while the failing commit ran.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { map } from 'rxjs'
import { expect, test } from 'vitest'
import { string, topology, type Transport, Weir, WeirError } from '../../src/index.ts'
import { harness } from '../helpers/topology-runner.ts'
import { readCommitted } from '../helpers/txn-fixtures.ts'

/** The transport, with every `every`-th TxnOffsetCommit slow and then rejected as stale. */
function rejectingOffsetCommits(transport: Transport, every: number):
Transport & { calls: number } {
  const counter = { calls: 0 }
  return new Proxy(transport, {
    get(target, name, receiver) {
      if (name === 'calls') return counter.calls
      const value = Reflect.get(target, name, receiver) as unknown
      if (name === 'txnOffsetCommit') {
        return async (request: Parameters<Transport['txnOffsetCommit']>[0]) => {
          counter.calls++
          if (counter.calls % every === 0) {
            await sleep(100)
            throw new WeirError('ILLEGAL_GENERATION', 'injected: the generation moved on')
          }
          return target.txnOffsetCommit(request)
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as Transport & { calls: number }
}

test('rejected offset commits are aborted and redone: every output once, in order', async () => {
  const h = await harness([{ topic: 'in' }, { topic: 'out' }])
  try {
    const transport = rejectingOffsetCommits(h.weir.transport, 4)
    const weir = new Weir(transport)
    const t = topology('redo')
    t.stream('in', { serde: string() }).pipe(map(value => value)).to('out', { serde: string() })
    const app = await h.start(t, { weir, commitIntervalMs: 30 })
    const inputs = 300
    for (let i = 0; i < inputs; i++) {
      await h.produce('in', [{ key: 'k', value: String(i) }])
      if (i % 10 === 0) await sleep(5)
    }
    await app.caughtUp({ timeoutMs: 30_000 })
    await app.close()
    expect(transport.calls).toBeGreaterThanOrEqual(4) // at least one commit was rejected
    const out = (await readCommitted(h.weir.transport, 'out', 0))
      .map(r => Number(r.value!.toString()))
    expect(out).toEqual(Array.from({ length: inputs }, (_, i) => i))
  } finally {
    await h.close()
  }
}, 60_000)
