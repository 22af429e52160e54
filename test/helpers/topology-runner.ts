/**
 * Runs a topology on a fresh embedded Weir for tests: topics created, records produced, the app
 * started with quick commit and rebalance settings, outputs read back with read_committed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type StartOptions, type StreamsApp, type Topology, Weir } from '../../src/index.ts'
import { readCommitted } from './txn-fixtures.ts'
import { openWeirUnderTest } from './remote-fixtures.ts'

export interface Harness {
  readonly weir: Weir
  readonly dir: string
  produce(topic: string, records: ReadonlyArray<{ key?: string | null,
    value: string | Buffer | null, partition?: number, timestamp?: number }>): Promise<void>
  start(t: Topology, options?: Partial<StartOptions>): Promise<StreamsApp>
  /** Every record a read_committed reader sees in `topic`, all partitions, as key → values. */
  read(topic: string): Promise<Array<{ key: string | null, value: string | null, partition: number,
    headers: Record<string, string> }>>
  close(): Promise<void>
}

export const quickApp: Partial<StartOptions> = {
  commitIntervalMs: 10,
  consumer: { sessionTimeoutMs: 3000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 3000,
    maxWaitMs: 20 },
}

export async function harness(topics: ReadonlyArray<{ topic: string, partitions?: number }>):
Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-streams-'))
  const weir = await openWeirUnderTest({ dir: join(dir, 'data') })
  await weir.admin().createTopics(topics.map(t => ({ partitions: 1, ...t })))
  const producer = weir.producer()
  const apps: StreamsApp[] = []
  return {
    weir,
    dir,
    async produce(topic, records) {
      await producer.send({ topic, messages: records.map(r => ({ key: r.key ?? null,
        value: r.value, ...(r.partition === undefined ? {} : { partition: r.partition }),
        ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }) })) })
    },
    async start(t, options = {}) {
      const app = await t.start({ weir, stateDir: join(dir, 'state'), ...quickApp, ...options })
      apps.push(app)
      return app
    },
    async read(topic) {
      const [description] = await weir.admin().describeTopics([topic])
      const out = []
      for (let p = 0; p < description!.partitions; p++) {
        for (const r of await readCommitted(weir.transport, topic, p)) {
          out.push({ key: r.key?.toString() ?? null, value: r.value?.toString() ?? null,
            partition: p, headers: Object.fromEntries(r.headers.map(h =>
              [h.key, h.value?.toString() ?? ''])) })
        }
      }
      return out
    },
    async close() {
      await Promise.allSettled(apps.map(app => app.close()))
      await producer.close()
      await weir.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
