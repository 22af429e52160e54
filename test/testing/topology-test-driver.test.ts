/**
 * Goal: the public test kit's TopologyTestDriver (src/testing) works as documented: records
 * piped in are processed and committed before pipeInput returns, readOutput gives each output
 * once (read_committed, since the last read), store reads see the committed state, advanceTime
 * fires wall-clock punctuators and nothing else moves time, the same calls give the same outputs
 * every time, and the marble helpers turn diagrams into timed records and back.
 * Method: small topologies (count per key, a wall-clock punctuator, tumbling-window counts)
 * through real drivers on temporary directories; determinism by running one script in two
 * drivers and comparing the JSON of everything read.
 */
import { describe, expect, it } from 'vitest'
import { count, process, string, topology } from '../../src/index.ts'
import { marbles, toMarbles } from '../../src/testing/marbles.ts'
import { TopologyTestDriver } from '../../src/testing/topology-test-driver.ts'

function counter() {
  const t = topology('driver-count')
  t.stream<string>('words').pipe(count({ store: 'counts' })).to('counts')
  return t
}

describe('TopologyTestDriver', () => {
  it('pipes input, reads each output once, and reads the store', async () => {
    const driver = await TopologyTestDriver.start(counter(), { partitions: 2 })
    try {
      await driver.pipeInput('words', ['a', 'b', 'a'].map(word => ({ key: word, value: word })))
      const first = await driver.readOutput<string, number>('counts')
      expect(first.map(r => [r.key, r.value]).sort()).toEqual([['a', 1], ['a', 2], ['b', 1]])
      expect(await driver.readOutput('counts')).toEqual([])
      await driver.pipeInput('words', [{ key: 'b', value: 'b' }])
      expect((await driver.readOutput<string, number>('counts')).map(r => [r.key, r.value]))
        .toEqual([['b', 2]])
      expect(await driver.store<number>('counts').get('a')).toBe(2)
      expect((await driver.store<number>('counts').all()).map(e => [e.key, e.value]))
        .toEqual([['a', 2], ['b', 2]])
    } finally {
      await driver.close()
    }
  })

  it('gives records the driver\'s time, and fires wall-clock punctuators only on advanceTime',
    async () => {
      const t = topology('driver-clock')
      t.stream<string>('ticks').pipe(process<string, number>({
        init(context) {
          context.schedule(1_000, 'wall-clock', time => context.forward(time, { key: 'beat' }))
        },
        process: (_value, context) => context.forward(context.record.timestamp),
      })).to('beats')
      const driver = await TopologyTestDriver.start(t, { startMs: 10_000 })
      try {
        await driver.pipeInput('ticks', [{ key: 'x', value: 'x' }])
        expect((await driver.readOutput<string, number>('beats')).map(r => r.value))
          .toEqual([10_000])
        expect(await driver.readOutput('beats')).toEqual([])
        await driver.advanceTime(2_500)
        const beats = await driver.readOutput<string, number>('beats')
        expect(beats.map(r => r.key)).toEqual(['beat'])
        expect(beats[0]!.value).toBe(12_500)
        expect(driver.nowMs).toBe(12_500)
      } finally {
        await driver.close()
      }
    })

  // A string serde: a null sent as the JSON text 'null' would be stored as that string.
  it('pipes a null value as a tombstone: a table deletes the key', async () => {
    const t = topology('driver-table')
    t.table<string>('customers', { store: 'customers', serde: string() })
    const driver = await TopologyTestDriver.start(t)
    try {
      await driver.pipeInput('customers', [{ key: 'c1', value: 'Ada' }, { key: 'c2',
        value: 'Bo' }])
      expect(await driver.store('customers').get('c1')).toBe('Ada')
      await driver.pipeInput('customers', [{ key: 'c1', value: null }])
      expect(await driver.store('customers').get('c1')).toBeUndefined()
      expect((await driver.store('customers').all()).map(e => e.key)).toEqual(['c2'])
    } finally {
      await driver.close()
    }
  })

  it('is deterministic: the same calls in two drivers read the same records', async () => {
    const script = async (): Promise<string> => {
      const driver = await TopologyTestDriver.start(counter(), { partitions: 3 })
      try {
        const reads: unknown[] = []
        for (const chunk of [['a', 'b', 'c', 'a'], ['c', 'c', 'ü', 'a b']]) {
          await driver.pipeInput('words', chunk.map(word => ({ key: word, value: word })))
          reads.push(await driver.readOutput('counts'))
          await driver.advanceTime(1_000)
        }
        reads.push(await driver.store('counts').all())
        return JSON.stringify(reads)
      } finally {
        await driver.close()
      }
    }
    const [first, second] = [await script(), await script()]
    expect(second).toBe(first)
  })
})

describe('marbles', () => {
  it('turns a diagram into timed records and records back into the diagram', () => {
    const values = { a: 1, b: 2, c: 3, d: 4 }
    const records = marbles('a-b--(cd)|', values, { key: 'k', frameMs: 100, startMs: 1_000 })
    expect(records).toEqual([
      { key: 'k', value: 1, timestamp: 1_000 }, { key: 'k', value: 2, timestamp: 1_200 },
      { key: 'k', value: 3, timestamp: 1_500 }, { key: 'k', value: 4, timestamp: 1_500 }])
    const read = records.map((record, offset) => ({ topic: 't', partition: 0, offset,
      timestamp: record.timestamp!, key: record.key, value: record.value }))
    expect(toMarbles(read, values, { frameMs: 100, startMs: 1_000 })).toBe('a-b--(cd)')
    expect(() => marbles('a(b', values)).toThrow(expect.objectContaining(
      { code: 'INVALID_REQUEST' }))
    expect(() => marbles('z', values)).toThrow(/'z' has no value/)
  })
})
