/**
 * For the tests of `topologies/`: a fresh embedded Weir with a topology's topics, events
 * produced keyed in order, an app run until caught up, and the latest committed value of each
 * key of an output topic.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CreateTopicRequest, type StreamsApp, type Topology, Weir,
} from '../../src/index.ts'
import { CAUGHT_UP_TIMEOUT_MS, quickStart } from './streams-fixtures.ts'
import { readCommitted } from './txn-fixtures.ts'
import { openWeirUnderTest } from './remote-fixtures.ts'

export interface TopologyRun {
  readonly weir: Weir
  readonly app: StreamsApp
}

/**
 * Creates `topics`, produces `events` to `input` keyed by `keyOf` (one send, so each key's
 * events stay in order), starts `t` and waits until it has caught up; then runs `check`.
 */
export async function runTopology<E, T>(options: {
  readonly topology: Topology
  readonly topics: readonly CreateTopicRequest[]
  readonly input: string
  readonly events: readonly E[]
  readonly keyOf: (event: E) => string
}, check: (run: TopologyRun) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-topology-'))
  const weir = await openWeirUnderTest({ dir: join(dir, 'data') })
  let app: StreamsApp | undefined
  try {
    await weir.admin().createTopics(options.topics)
    if (options.events.length > 0) {
      const producer = weir.producer()
      await producer.send({ topic: options.input, messages: options.events.map(event => ({
        key: options.keyOf(event), value: JSON.stringify(event) })) })
      await producer.close()
    }
    app = await options.topology.start({ weir, stateDir: join(dir, 'state'), ...quickStart })
    await app.caughtUp({ timeoutMs: CAUGHT_UP_TIMEOUT_MS })
    return await check({ weir, app })
  } finally {
    await app?.close()
    await weir.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Every value a read_committed reader sees in `topic`, per key, in partition order. */
export async function committedByKey<V>(weir: Weir, topic: string): Promise<Map<string, V[]>> {
  const [description] = await weir.admin().describeTopics([topic])
  const byKey = new Map<string, V[]>()
  for (let partition = 0; partition < description!.partitions; partition++) {
    for (const record of await readCommitted(weir.transport, topic, partition)) {
      const key = record.key!.toString('utf8')
      const values = byKey.get(key) ?? []
      values.push(JSON.parse(record.value!.toString('utf8')) as V)
      byKey.set(key, values)
    }
  }
  return byKey
}

/** Entries sorted by key bytes, as a store scan (`app.query(store).all()`) returns them. */
export function byKeyBytes<V>(entries: Iterable<readonly [string, V]>):
Array<{ key: string, value: V }> {
  return [...entries].map(([key, value]) => ({ key, value }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
}

/**
 * Reads until `done` says the value is complete, every 20 ms, at most 250 times (5 s); returns
 * the last value read either way, for the caller's assertion to show what was missing.
 */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean):
Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const value = await read()
    if (done(value) || attempt >= 250) return value
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
