/**
 * Goal: the run checkers of the public test kit (src/testing/checkers.ts) flag exactly the
 * anomaly each one is about and nothing on a clean run, so users can trust a green result and
 * read a red one; `assertValid` prints the anomalies.
 * Method: for each checker and each anomaly type, a hand-made bad run next to its clean twin.
 * Then properties: a run built correctly from generated inputs is valid, and one injected
 * duplicate, loss or reordering is always flagged with its type.
 */
import { fc, test } from '@fast-check/vitest'
import { describe, expect, it } from 'vitest'
import { assertValid, checkResult, stableJson } from '../../src/testing/check-result.ts'
import {
  exactlyOnce, noAbortedReads, noLostAcknowledged, perKeyOrder, stateEqualsFold,
} from '../../src/testing/checkers.ts'
import type { ReadRecord, TestRecord } from '../../src/testing/model.ts'
import { numRuns as defaultNumRuns } from '../helpers/num-runs.ts'

const numRuns = defaultNumRuns(100)

interface Order { readonly orderId: string, readonly n: number }

/** Output records as a topic read would return them: one partition, offsets in order. */
function outputsOf<V>(entries: readonly (readonly [string, V])[]): ReadRecord<string, V>[] {
  return entries.map(([key, value], offset) =>
    ({ topic: 'out', partition: 0, offset, timestamp: 0, key, value }))
}

function inputsOf<V>(entries: readonly (readonly [string, V])[]): TestRecord<string, V>[] {
  return entries.map(([key, value]) => ({ key, value }))
}

const types = (result: { anomalies: readonly { type: string }[] }) =>
  result.anomalies.map(anomaly => anomaly.type)

describe('check-result', () => {
  it('assertValid passes a valid result and lists anomalies of an invalid one', () => {
    expect(() => assertValid(checkResult([]))).not.toThrow()
    const many = Array.from({ length: 25 }, (_, i) => ({ type: 'lost', message: `m${i}` }))
    expect(() => assertValid(checkResult(many), 'orders')).toThrow(
      /^orders: 25 anomalies\n {2}lost: m0\n[\s\S]*lost: m19\n {2}\.\.\. and 5 more$/)
  })

  it('stableJson ignores key order and keeps types apart', () => {
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }))
    expect(stableJson(1n)).not.toBe(stableJson(1))
    expect(stableJson(new Map([['x', 1]]))).toBe('[["x",1]]')
  })
})

describe('exactlyOnce', () => {
  const inputs = inputsOf<Order>([['a', { orderId: 'o1', n: 1 }], ['b', { orderId: 'o2', n: 2 }]])
  const id = (record: { value: Order }) => record.value.orderId

  it('passes when each input has exactly one output', () => {
    const outputs = outputsOf([['a', { orderId: 'o2', n: 20 }], ['b', { orderId: 'o1', n: 10 }]])
    expect(exactlyOnce(outputs, inputs, { id }).anomalies).toEqual([])
  })

  it('flags a duplicate', () => {
    const outputs = outputsOf([['a', { orderId: 'o1', n: 1 }], ['b', { orderId: 'o2', n: 2 }],
      ['a', { orderId: 'o1', n: 1 }]])
    const result = exactlyOnce(outputs, inputs, { id })
    expect(types(result)).toEqual(['duplicate'])
    expect(result.anomalies[0]).toMatchObject({ topic: 'out', partition: 0, offset: 2 })
  })

  it('flags a lost input', () => {
    const result = exactlyOnce(outputsOf([['a', { orderId: 'o1', n: 1 }]]), inputs, { id })
    expect(types(result)).toEqual(['lost'])
    expect(result.anomalies[0]!.message).toContain('"o2"')
  })

  it('flags an unexpected output', () => {
    const outputs = outputsOf([['a', { orderId: 'o1', n: 1 }], ['b', { orderId: 'o2', n: 2 }],
      ['c', { orderId: 'o3', n: 3 }]])
    expect(types(exactlyOnce(outputs, inputs, { id }))).toEqual(['unexpected'])
  })

  it('matches by the whole value by default and treats equal inputs as a multiset', () => {
    const twice = inputsOf([['a', { x: 1, y: 2 }], ['a', { x: 1, y: 2 }]])
    expect(exactlyOnce(outputsOf([['a', { y: 2, x: 1 }], ['a', { x: 1, y: 2 }]]), twice).valid)
      .toBe(true)
    expect(types(exactlyOnce(outputsOf([['a', { y: 2, x: 1 }]]), twice))).toEqual(['lost'])
  })

  it('takes separate identities for inputs and outputs', () => {
    const outputs = outputsOf([['a', 'o1:done'], ['b', 'o2:done']])
    const result = exactlyOnce(outputs, inputs, {
      inputId: input => input.value.orderId,
      outputId: output => output.value.split(':')[0],
    })
    expect(result.valid).toBe(true)
  })

  test.prop([fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 30 }), fc.nat(), fc.boolean()],
    { numRuns })('a permuted copy is valid; one duplicate or one loss is always flagged',
    (values, at, duplicate) => {
      const inputs = inputsOf(values.map(v => ['k', v] as const))
      const outputs = outputsOf([...values].reverse().map(v => ['k', v] as const))
      expect(exactlyOnce(outputs, inputs).valid).toBe(true)
      const victim = outputs[at % outputs.length]!
      const broken = duplicate
        ? [...outputs, { ...victim, offset: outputs.length }]
        : outputs.filter(output => output !== victim)
      expect(types(exactlyOnce(broken, inputs))).toEqual([duplicate ? 'duplicate' : 'lost'])
    })
})

describe('perKeyOrder', () => {
  const sequence = (record: ReadRecord<string, number>) => record.value

  it('passes when each key increases, whatever the interleaving of keys', () => {
    const outputs = outputsOf([['a', 1], ['b', 5], ['a', 2], ['b', 6], ['a', 9]])
    expect(perKeyOrder(outputs, { sequence }).anomalies).toEqual([])
  })

  it('flags a record that goes back in its key, at the later record', () => {
    const outputs = outputsOf([['a', 1], ['b', 5], ['a', 3], ['a', 2]])
    const result = perKeyOrder(outputs, { sequence })
    expect(types(result)).toEqual(['out-of-order'])
    expect(result.anomalies[0]).toMatchObject({ key: 'a', value: 2, offset: 3 })
  })

  it('reads in (partition, offset) order, not in array order', () => {
    const outputs = outputsOf([['a', 1], ['a', 2]]).reverse()
    expect(perKeyOrder(outputs, { sequence }).valid).toBe(true)
  })

  it('flags a repeated sequence number (strictly increasing)', () => {
    expect(types(perKeyOrder(outputsOf([['a', 1], ['a', 1]]), { sequence })))
      .toEqual(['out-of-order'])
  })

  it('follows an expected per-key order and ignores identities it does not list', () => {
    const expected = new Map([['a', ['x', 'y', 'z']], ['b', ['z', 'x']]])
    const clean = outputsOf([['a', 'x'], ['b', 'z'], ['a', 'q'], ['a', 'z'], ['b', 'x']])
    expect(perKeyOrder(clean, { expected }).valid).toBe(true)
    const bad = outputsOf([['a', 'x'], ['b', 'x'], ['b', 'z']])
    expect(types(perKeyOrder(bad, { expected }))).toEqual(['out-of-order'])
  })

  test.prop([fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat()), { maxLength: 40 })],
    { numRuns })('outputs numbered per key in order pass; swapping two of one key is flagged',
    entries => {
      const counters = new Map<string, number>()
      const numbered = entries.map(([key]) => {
        const next = (counters.get(key) ?? 0) + 1
        counters.set(key, next)
        return [key, next] as const
      })
      expect(perKeyOrder(outputsOf(numbered), { sequence }).valid).toBe(true)
      const first = numbered.findIndex(([, n]) => n === 2)
      if (first < 0) return
      const key = numbered[first]![0]
      const earlier = numbered.findIndex(([k, n]) => k === key && n === 1)
      const swapped = [...numbered]
      ;[swapped[earlier], swapped[first]] = [swapped[first]!, swapped[earlier]!]
      expect(types(perKeyOrder(outputsOf(swapped), { sequence }))).toEqual(['out-of-order'])
    })
})

describe('noAbortedReads', () => {
  const reads = outputsOf([['a', 'c1'], ['a', 'c2']])

  it('passes when no read value is aborted', () => {
    expect(noAbortedReads(reads, ['x1', 'x2']).valid).toBe(true)
    expect(noAbortedReads(reads, record => record.value.startsWith('x')).valid).toBe(true)
  })

  it('flags a read of an aborted value, given as a set or a predicate', () => {
    const bad = outputsOf([['a', 'c1'], ['a', 'x1']])
    expect(types(noAbortedReads(bad, new Set(['x1', 'x2'])))).toEqual(['aborted-read'])
    const byPredicate = noAbortedReads(bad, record => record.value.startsWith('x'))
    expect(byPredicate.anomalies).toMatchObject([{ type: 'aborted-read', offset: 1 }])
  })

  it('matches aborted identities through an id function', () => {
    const orders = outputsOf([['a', { orderId: 'o1', n: 1 }]])
    const id = (record: { value: Order }) => record.value.orderId
    expect(types(noAbortedReads(orders, ['o1'], { id }))).toEqual(['aborted-read'])
    expect(noAbortedReads(orders, ['o2'], { id }).valid).toBe(true)
  })
})

describe('stateEqualsFold', () => {
  const inputs = inputsOf([['a', 1], ['b', 2], ['a', 3], ['c', 0]])
  /** Sums per key; a 0 deletes the key (a tombstone). */
  const fold = (sum: number | undefined, input: TestRecord<string, number>) =>
    input.value === 0 ? undefined : (sum ?? 0) + input.value

  it('passes when the store equals the fold', () => {
    expect(stateEqualsFold([{ key: 'b', value: 2 }, { key: 'a', value: 4 }], inputs, fold).valid)
      .toBe(true)
  })

  it('flags a missing key', () => {
    expect(types(stateEqualsFold([{ key: 'a', value: 4 }], inputs, fold)))
      .toEqual(['state-missing'])
  })

  it('flags an extra key, and a key held twice', () => {
    const extra = [{ key: 'a', value: 4 }, { key: 'b', value: 2 }, { key: 'c', value: 0 }]
    expect(types(stateEqualsFold(extra, inputs, fold))).toEqual(['state-extra'])
    const twice = [{ key: 'a', value: 4 }, { key: 'b', value: 2 }, { key: 'a', value: 4 }]
    expect(types(stateEqualsFold(twice, inputs, fold))).toEqual(['state-extra'])
  })

  it('flags a differing value, compared deeply', () => {
    expect(types(stateEqualsFold([{ key: 'a', value: 5 }, { key: 'b', value: 2 }], inputs, fold)))
      .toEqual(['state-differs'])
    const lists = inputsOf([['k', 1], ['k', 2]])
    const append = (list: number[] | undefined, input: TestRecord<string, number>) =>
      [...(list ?? []), input.value]
    expect(stateEqualsFold([{ key: 'k', value: [1, 2] }], lists, append).valid).toBe(true)
    expect(types(stateEqualsFold([{ key: 'k', value: [2, 1] }], lists, append)))
      .toEqual(['state-differs'])
  })

  test.prop([fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1 })),
    { minLength: 1, maxLength: 30 }), fc.nat()], { numRuns })(
    'a store of counts folded separately is valid; a corrupted entry is state-differs',
    (entries, at) => {
      const counts = new Map<string, number>()
      for (const [key] of entries) counts.set(key, (counts.get(key) ?? 0) + 1)
      const store = [...counts].map(([key, value]) => ({ key, value }))
      const countFold = (count: number | undefined) => (count ?? 0) + 1
      expect(stateEqualsFold(store, inputsOf(entries), countFold).valid).toBe(true)
      const corrupted = store.map((entry, i) =>
        i === at % store.length ? { ...entry, value: entry.value + 1 } : entry)
      expect(types(stateEqualsFold(corrupted, inputsOf(entries), countFold)))
        .toEqual(['state-differs'])
    })
})

describe('noLostAcknowledged', () => {
  const acknowledged = inputsOf([['a', 1], ['b', 2]])

  it('passes when every acknowledged send is read, extra reads allowed', () => {
    expect(noLostAcknowledged(acknowledged, outputsOf([['b', 2], ['a', 1], ['c', 3]])).valid)
      .toBe(true)
  })

  it('flags an acknowledged send that is not read', () => {
    const result = noLostAcknowledged(acknowledged, outputsOf([['a', 1]]))
    expect(result.anomalies).toMatchObject([{ type: 'lost-acknowledged', key: 'b', value: 2 }])
  })

  it('matches by an id function', () => {
    const acked = inputsOf([['a', { orderId: 'o1', n: 1 }]])
    const id = (record: { value: Order }) => record.value.orderId
    expect(noLostAcknowledged(acked, outputsOf([['a', { orderId: 'o1', n: 9 }]]), { id }).valid)
      .toBe(true)
  })
})
