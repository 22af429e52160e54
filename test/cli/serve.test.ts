/**
 * Goal: `weir serve` as people and scripts use it: it starts and prints where it listens,
 * answers /health, enforces its token, keeps a second broker off its directory, closes cleanly
 * on SIGTERM (exit 0) with the data still there for the next opener; with `--with-examples`
 * (`npm start`) the example topologies run and their output and groups can be looked at with
 * the commands it prints; with `--kafka-port` Kafka clients find the broker at the printed
 * address (off by default when a token is set: the Kafka listener has no authentication).
 * Method: `weir serve --port 0` as a child process on a temp dir; the other commands as child
 * processes against it, then against its directory once it has exited.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningWeir, spawnWeir, weir, weirOk } from './cli-helpers.ts'

const cleanups: Array<() => Promise<unknown>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function tempDir(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'weir-cli-serve-'))
  cleanups.push(() => rm(directory, { recursive: true, force: true }))
  return directory
}

function serve(args: readonly string[]): RunningWeir {
  const server = spawnWeir(['serve', '--port', '0', ...args])
  cleanups.push(() => server.stop('SIGKILL'))
  return server
}

describe('weir serve', () => {
  it('starts, answers /health, needs its token, keeps other brokers off its directory, and '
    + 'on SIGTERM exits 0 with the data kept', async () => {
    const dir = join(await tempDir(), 'data')
    const server = serve(['--dir', dir, '--token', 's3cret', '--json'])
    const addresses = JSON.parse(await server.line(/^\{/)) as { url: string, health: string,
      kafka?: string }
    expect(addresses.health).toBe(`${addresses.url}/health`)
    expect(addresses.kafka).toBeUndefined() // a token turns the unauthenticated listener off
    expect(await (await fetch(addresses.health)).json()).toEqual({ status: 'ok' })

    const url = ['--url', addresses.url]
    const [unauthorized, otherBroker] = await Promise.all([weir(['topics', 'list', ...url]),
      weir(['topics', 'list', '--dir', dir])])
    expect(unauthorized.code).toBe(1)
    expect(unauthorized.stderr).toMatch(/^weir: WEIR_ERR_SERVER_UNAUTHORIZED: /)
    expect(otherBroker.code).toBe(1)
    expect(otherBroker.stderr).toMatch(/^weir: INVALID_CONFIG: The data directory .* is in use /)
    await weirOk(['topics', 'create', 'kept', '--token', 's3cret', ...url])
    await weirOk(['produce', 'kept', ...url], { input: 'first\nsecond\n',
      env: { WEIR_TOKEN: 's3cret' } })

    expect(await server.stop('SIGTERM')).toBe(0)
    expect(server.stdout()).toMatch(/SIGTERM: closing the server\nserver closed\n$/)
    const after = await weirOk(['consume', 'kept', '--from-beginning', '--to-end', '--dir', dir])
    expect(after.text).toBe('first\nsecond\n')
  }, 60_000)

  it('--with-examples runs the example topologies and prints the commands to look at them',
    async () => {
      const dir = join(await tempDir(), 'data')
      const server = serve(['--dir', dir, '--with-examples', '--kafka-port', '0'])
      const url = (await server.line(/^weir server listening on /)).match(/http:\/\/\S+/)![0]
      await server.line(/^look at them/)
      expect(server.stdout()).toContain(`npx weir lag --url ${url}`)

      const summary = await weirOk(['consume', 'customer-summaries', '--from-beginning', '--max',
        '1', '--json', '--url', url])
      const [record] = summary.text.trim().split('\n').map(line =>
        JSON.parse(line) as { key: string, value: string })
      expect(JSON.parse(record!.value)).toMatchObject({ customerId: record!.key })
      const lag = JSON.parse((await weirOk(['lag', '--json', '--url', url])).text) as
        { groups: Array<{ groupId: string }> }
      expect(lag.groups.map(group => group.groupId)).toEqual(['inventory', 'orders-projection'])

      expect(await server.stop('SIGINT')).toBe(0)
      expect(server.stderr()).not.toMatch(/stopped|error/i)
    }, 60_000)

  it('--kafka-port serves the Kafka protocol: KafkaJS finds the broker at the printed address; '
    + 'with --auto-create-topics a KafkaJS producer creates its topic (--default-partitions)',
  async () => {
    const dir = join(await tempDir(), 'data')
    const port = await freePort()
    const server = serve(['--dir', dir, '--kafka-port', String(port), '--json',
      '--auto-create-topics', '--default-partitions', '3'])
    const addresses = JSON.parse(await server.line(/^\{/)) as { kafka: string }
    expect(addresses.kafka).toBe(`127.0.0.1:${port}`)
    const kafka = new Kafka({ brokers: [addresses.kafka], logLevel: logLevel.NOTHING,
      retry: { retries: 0 } })
    const admin = kafka.admin()
    const producer = kafka.producer({ allowAutoTopicCreation: true })
    await admin.connect()
    await producer.connect()
    try {
      expect((await admin.describeCluster()).brokers).toEqual([{ nodeId: 0,
        host: '127.0.0.1', port }])
      await producer.send({ topic: 'made-on-send', messages: [{ value: 'v' }] })
      const { topics } = await admin.fetchTopicMetadata({ topics: ['made-on-send'] })
      expect(topics[0]!.partitions).toHaveLength(3)
    } finally {
      await producer.disconnect()
      await admin.disconnect()
    }
    expect(await server.stop('SIGTERM')).toBe(0)
  }, 60_000)
})

/** A port nothing listens on right now (bound, then released). */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise(resolve => probe.close(resolve))
  return port
}
