/**
 * Goal: the code in docs/testing.md runs as written: the driver example, the property without
 * faults and the property under crashes, broker faults and duplicated requests.
 * Method: the guide's snippets, imported only from 'weir' and 'weir/testing' as a user would.
 */
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { count, topology } from 'weir'
import {
  assertValid, faultSchedules, keys, records, simulate, stateEqualsFold, TopologyTestDriver,
} from 'weir/testing'

function wordCount() {
  const t = topology('word-count')
  t.stream<string>('words').pipe(count({ store: 'counts' })).to('counts')
  return t
}

test('the driver example', async () => {
  const driver = await TopologyTestDriver.start(wordCount(), { partitions: 2 })
  await driver.pipeInput('words', ['a', 'b', 'a'].map(word => ({ key: word, value: word })))
  expect((await driver.readOutput<string, number>('counts')).map(r => [r.key, r.value]))
    .toEqual(expect.arrayContaining([['a', 1], ['a', 2], ['b', 1]]))
  expect(await driver.store<number>('counts').get('a')).toBe(2)
  await driver.close()
})

test('property: the counts store holds each word\'s count', async () => {
  await fc.assert(fc.asyncProperty(records(fc.constant('w'), { keys: keys() }), async input => {
    const run = await simulate(wordCount(), { seed: 1, outputs: ['counts'], stores: ['counts'],
      inputs: input.map(record => ({ topic: 'words', record })), partitions: 3 })
    assertValid(stateEqualsFold(run.stores.counts!, input,
      (n: number | undefined) => (n ?? 0) + 1), 'counts')
  }), { numRuns: 5 })
})

test('property: counts are exact under crashes and broker faults', async () => {
  const input = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 4}`, value: 'w' }))
  await fc.assert(fc.asyncProperty(faultSchedules({ kinds: ['crash', 'broker-restart',
    'power-loss', 'duplicate-request'], maxFaults: 3, inputs: input.length }), async faults => {
    const run = await simulate(wordCount(), { seed: 1, faults, outputs: ['counts'],
      stores: ['counts'], inputs: input.map(record => ({ topic: 'words', record })) })
    assertValid(stateEqualsFold(run.stores.counts!, input,
      (n: number | undefined) => (n ?? 0) + 1), 'counts')
  }), { numRuns: 5 })
})
