import { map } from 'rxjs'
import { afterEach, describe, expect, test } from 'vitest'
import { count, type ErrorLogEntry, topology, WeirError } from '../../src/index.ts'
import { harness, type Harness } from '../helpers/topology-runner.ts'

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

/** Values 'boom' throw in user code; values that are not JSON fail to deserialize. */
function fragile(appId: string) {
  const t = topology(appId)
  t.stream<string>('in').pipe(map(value => {
    if (value === 'boom') throw new Error('user code exploded')
    return value.toUpperCase()
  }), count({ store: 'c' })).to('out')
  return t
}

const input = [{ key: 'a', value: '"x"' }, { key: 'b', value: '"boom"' },
  { key: 'c', value: 'not json' }, { key: 'd', value: '"y"' }]

describe('errors in topologies', () => {
  test("'fail' (the default) stops the app with the record's origin and the cause", async () => {
    h = await harness([{ topic: 'in' }, { topic: 'out' }])
    await h.produce('in', input.slice(0, 2))
    const app = await h.start(fragile('failing'))
    const failure = await app.done.then(() => undefined, (error: unknown) => error)
    expect(WeirError.is(failure, 'WEIR_ERR_STREAMS_PROCESSING')).toBe(true)
    expect((failure as Error).message).toContain('in/0 offset 1')
    expect(((failure as Error).cause as Error).message).toBe('user code exploded')
    // nothing of the failed interval was committed
    expect(await h.read('out')).toEqual([])
  })

  test('a deserialization error fails the app with the serde error by default', async () => {
    h = await harness([{ topic: 'in' }, { topic: 'out' }])
    await h.produce('in', [input[2]!])
    const app = await h.start(fragile('bad-bytes'))
    const failure = await app.done.then(() => undefined, (error: unknown) => error)
    expect(WeirError.is(failure, 'WEIR_ERR_SERDE_FAILED')).toBe(true)
  })

  test("'skip' logs each failed record and processes the others", async () => {
    h = await harness([{ topic: 'in' }, { topic: 'out' }])
    await h.produce('in', input)
    const logged: ErrorLogEntry[] = []
    const app = await h.start(fragile('skipping'), { processingErrors: 'skip',
      deserializationErrors: 'skip', logger: entry => logged.push(entry) })
    await app.caughtUp()
    expect((await h.read('out')).map(r => r.key)).toEqual(['a', 'd'])
    expect(logged.map(entry => [entry.stage, entry.record.offset])).toEqual([
      ['processing', 1], ['deserialization', 2]])
  })

  test('a dead-letter topic gets the original record with the error in headers', async () => {
    h = await harness([{ topic: 'in' }, { topic: 'out' }, { topic: 'dlq' }])
    await h.produce('in', input)
    const app = await h.start(fragile('dead-letters'), { logger: () => undefined,
      processingErrors: { deadLetterTopic: 'dlq' },
      deserializationErrors: { deadLetterTopic: 'dlq' } })
    await app.caughtUp()
    expect((await h.read('out')).map(r => r.key)).toEqual(['a', 'd'])
    const dead = await h.read('dlq')
    expect(dead.map(r => [r.key, r.value])).toEqual([['b', '"boom"'], ['c', 'not json']])
    expect(dead[0]!.headers).toMatchObject({ 'weir.error.stage': 'processing',
      'weir.error.message': 'user code exploded', 'weir.error.topic': 'in',
      'weir.error.partition': '0', 'weir.error.offset': '1' })
    expect(dead[1]!.headers).toMatchObject({ 'weir.error.stage': 'deserialization',
      'weir.error.code': 'WEIR_ERR_SERDE_FAILED', 'weir.error.offset': '2' })
  })
})

describe('start-time checks', () => {
  test('sources of one sub-topology with different partition counts: WEIR_ERR_STREAMS_COPARTITION',
    async () => {
      h = await harness([{ topic: 'a', partitions: 2 }, { topic: 'b', partitions: 3 }])
      const t = topology('copart')
      t.stream('a').merge(t.stream('b')).pipe(count({ store: 'n' }))
      await expect(h.start(t)).rejects.toSatisfy(error =>
        WeirError.is(error, 'WEIR_ERR_STREAMS_COPARTITION')
        && /a: 2, b: 3/.test((error as Error).message))
    })

  test('a missing source or sink topic is UNKNOWN_TOPIC naming it', async () => {
    h = await harness([{ topic: 'a' }])
    const t = topology('missing')
    t.stream('a').to('nowhere')
    await expect(h.start(t)).rejects.toSatisfy(error => WeirError.is(error, 'UNKNOWN_TOPIC')
      && (error as Error).message.includes('nowhere'))
  })

  test('an internal topic with another partition count is refused', async () => {
    h = await harness([{ topic: 'a', partitions: 2 }, { topic: 'stale-n-changelog' }])
    const t = topology('stale')
    t.stream('a').pipe(count({ store: 'n' }))
    await expect(h.start(t)).rejects.toSatisfy(error =>
      WeirError.is(error, 'WEIR_ERR_STREAMS_COPARTITION'))
  })

  test('query of an undeclared store is WEIR_ERR_STREAMS_STATE', async () => {
    h = await harness([{ topic: 'a' }])
    const t = topology('q')
    t.stream('a').pipe(count({ store: 'n' }))
    const app = await h.start(t)
    expect(() => app.query('nope')).toThrow(/has no store 'nope'; its stores: n/)
  })
})
