/**
 * Goal: the remote client's two data channels and its reconnects, end to end through
 * `Weir.connect`: `dataChannel` 'http' and the default 'websocket' carry the same records, over
 * POST /v1/produce and /v1/fetch or over /v1/rpc (the server's metrics tell which); an idempotent
 * producer sending through a server restart on the same port and directory — some of its calls
 * answered WEIR_ERR_SERVER_SHUTTING_DOWN, others refused while the server is down — leaves every
 * acknowledged record in the log exactly once.
 *
 * Method: real servers on 127.0.0.1 over temp dirs; the restart closes the server gracefully
 * while a long poll holds the close open, then starts a new one on the same port and directory.
 */
import { describe, expect, it } from 'vitest'
import { Weir } from '../../src/client/weir.ts'
import { WeirServer } from '../../src/server/weir-server.ts'
import { pull, readPartition, until } from '../helpers/client-fixtures.ts'
import { withTempDir } from '../helpers/log-fixtures.ts'
import { parsePrometheus, type Sample, sampled } from './prometheus-text.ts'
import { call, countCalls, withServer } from './server-fixtures.ts'

async function scrape(url: string): Promise<Sample[]> {
  return parsePrometheus((await call(url, 'GET', '/metrics')).body.toString('utf8'))
}

const total = (samples: readonly Sample[], name: string, labels: Record<string, string>): number =>
  sampled(samples, name, labels).reduce((a, b) => a + b, 0)

/** Produce and fetch requests the server answered over HTTP and over /v1/rpc. */
async function dataRequests(url: string): Promise<Record<string, number>> {
  const samples = await scrape(url)
  return {
    httpProduce: total(samples, 'weir_http_requests_total', { route: '/v1/produce' }),
    httpFetch: total(samples, 'weir_http_requests_total', { route: '/v1/fetch' }),
    rpcProduce: total(samples, 'weir_rpc_calls_total', { call: 'produce' }),
    rpcFetch: total(samples, 'weir_rpc_calls_total', { call: 'fetch' }),
  }
}

describe('client data channels', () => {
  it('produces and consumes the same records over dataChannel \'http\' (POST /v1/produce, '
    + '/v1/fetch) and the default \'websocket\' (/v1/rpc)', async () => {
    await withServer({}, async server => {
      await server.transport.createTopics([{ topic: 'dc' }])
      const sent: string[] = []
      for (const channel of ['http', 'websocket'] as const) {
        const before = await dataRequests(server.url)
        const weir = await Weir.connect(server.url,
          channel === 'http' ? { dataChannel: 'http' } : {})
        try {
          const values = [0, 1, 2].map(i => `${channel}-${i}`)
          const producer = weir.producer()
          await producer.send({ topic: 'dc', messages: values.map(value => ({ value })) })
          await producer.close()
          sent.push(...values)
          const consumer = weir.consumer({ autoOffsetReset: 'earliest', maxWaitMs: 50 })
          await consumer.assign([{ topic: 'dc', partition: 0 }])
          const records = await pull(consumer, sent.length)
          await consumer.close()
          expect(records.map(record => String(record.value))).toEqual(sent)
        } finally {
          await weir.close()
        }
        const after = await dataRequests(server.url)
        const used = Object.fromEntries(Object.entries(after).map(([name, count]) =>
          [name, count > before[name]!]))
        expect(used, channel).toEqual(channel === 'http'
          ? { httpProduce: true, httpFetch: true, rpcProduce: false, rpcFetch: false }
          : { httpProduce: false, httpFetch: false, rpcProduce: true, rpcFetch: true })
      }
    })
  })
})

describe('server restart', () => {
  it('an idempotent producer sending through a restart on the same port and directory leaves '
    + 'every acknowledged record in the log exactly once', async () => {
    await withTempDir('weir-rpc-restart-', async dir => {
      const internalErrors: unknown[] = []
      const start = (port: number): Promise<WeirServer> => WeirServer.start({ dir, port,
        onInternalError: error => { internalErrors.push(error) } })
      let server = await start(0)
      const first = server
      const weir = await Weir.connect(server.url)
      try {
        await weir.admin().createTopics([{ topic: 'r', partitions: 2 }, { topic: 'idle' }])
        const producer = weir.producer()
        const acknowledged: string[] = []
        const sends: Array<Promise<unknown>> = []
        // A send every 2 ms or so, before, during and for 50 after the restart.
        let restarted = false
        const sending = (async () => {
          for (let i = 0, after = 0; after < 50; i++, after += restarted ? 1 : 0) {
            const value = `r${i}`
            sends.push(producer.send({ topic: 'r', messages: [{ partition: i % 2, value }] })
              .then(() => acknowledged.push(value)))
            await new Promise(resolve => setTimeout(resolve, 2))
          }
        })()
        await until(() => acknowledged.length >= 50)
        // A long poll on the client's connection holds the close for 300 ms, in which the
        // server answers the producer's calls WEIR_ERR_SERVER_SHUTTING_DOWN.
        const counts = countCalls(server)
        const poll = weir.transport.fetch({ partitions: [{ topic: 'idle', partition: 0,
          offset: 0 }], maxWaitMs: 300, minBytes: 1 })
        await until(() => counts.fetches === 1)
        await server.close()
        expect(await poll).toMatchObject([{ topic: 'idle', bytes: Buffer.alloc(0) }])
        const atClose = acknowledged.length
        server = await start(Number(new URL(server.url).port))
        restarted = true
        await sending
        const outcomes = await Promise.allSettled(sends)
        expect(outcomes.filter(outcome => outcome.status === 'rejected')).toEqual([])
        await producer.close()
        expect(atClose).toBeLessThan(sends.length - 50)
        expect(sampled(parsePrometheus(first.metrics.registry.render()), 'weir_rpc_calls_total',
          { call: 'produce', status: '503' })[0]).toBeGreaterThan(0)
        const stored = [...await readPartition(weir.transport, 'r', 0),
          ...await readPartition(weir.transport, 'r', 1)].map(record => String(record.value))
        expect(stored.length, 'a record stored twice').toBe(new Set(stored).size)
        expect(new Set(stored)).toEqual(new Set(acknowledged))
        expect(acknowledged).toHaveLength(sends.length)
      } finally {
        await weir.close()
        await server.close()
      }
      expect(internalErrors).toEqual([])
    })
  })
})
