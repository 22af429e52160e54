/**
 * Goal (issue 9): kcat 1.7.1 (librdkafka 2.0.2, Debian package `kcat`) works against the Kafka
 * listener unchanged. Method: an embedded broker in a temp dir, the listener on 127.0.0.1:0,
 * kcat run as a child process (skipped, saying so, when `kcat` is not on PATH).
 * - `kcat -P` lines (keys with -K) then `kcat -C -o beginning -e` returns them identical at
 *   offsets 0..n−1 and exits at the end (the high watermark is right);
 * - `kcat -P -z gzip` stores gzip batches: librdkafka compresses only because Produce v0 is in
 *   the advertised range (reference §1.2), and the lines read back identical;
 * - `kcat -P -z snappy|lz4` batches (librdkafka's encoders) are stored with their codec and
 *   decoded by Weir, and `kcat -C` decodes the snappy and lz4 batches Weir's producer wrote;
 * - a pipelined burst (linger.ms=0, 10,000 lines) keeps its order;
 * - `kcat -P -X enable.idempotence=true` (when InitProducerId is served) stores each line once;
 * - `kcat -C` is read_committed by default: it skips an aborted Weir transaction, and with
 *   isolation.level=read_uncommitted sees it; the same for an aborted KafkaJS transaction (when
 *   the listener serves the transaction APIs);
 * - `kcat -L` lists the broker as controller at the advertised address, and the topics.
 */
import { execFile } from 'node:child_process'
import { Kafka, logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { advertisedVersions } from '../../../src/protocol/kafka/apis/index.ts'
import { kcatInstalled, listenerWorld, type ListenerWorld } from './kafka-wire.ts'
import { readWithWeir } from './kafkajs-oracle.ts'

if (!kcatInstalled) {
  console.warn('kcat is not on PATH: skipping the kcat tests (apt-get install -y kcat)')
}
const served = (key: number) => advertisedVersions().some(range => range.apiKey === key)
const initProducerIdServed = served(22)
/** FindCoordinator, InitProducerId, AddPartitionsToTxn, EndTxn: KafkaJS transactions. */
const transactionsServed = [10, 22, 24, 26].every(served)

// Set in the describe below, so a skipped suite starts nothing; the helpers here read it
// only from its tests.
let world: ListenerWorld

/** Runs kcat against the listener with `input` on stdin; resolves with its stdout. */
function kcat(args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', ['-b', `127.0.0.1:${world.listener.port}`, ...args],
      { timeout: 20_000 }, (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`kcat ${args.join(' ')}: ${error.message} ${stderr}`))
        else resolve(stdout)
      })
    child.stdin!.end(input)
  })
}

describe.skipIf(!kcatInstalled)('kcat against the Kafka listener', () => {
  world = listenerWorld('weir-kcat-', { topics: [{ topic: 'lines' }, { topic: 'zipped' },
    { topic: 'idempotent' }, { topic: 'txn' }, { topic: 'kjs-txn' }, { topic: 'burst' },
    { topic: 'by-kcat-snappy' }, { topic: 'by-kcat-lz4' }, { topic: 'by-weir-snappy' },
    { topic: 'by-weir-lz4' }] })

  it('kcat -P lines, then kcat -C -o beginning -e returns them identical', async () => {
    await kcat(['-P', '-t', 'lines', '-K:'], 'k1:v1\nk2:v2\nv3\nk4:ünïcödé value\n')
    const out = await kcat(['-C', '-t', 'lines', '-o', 'beginning', '-e', '-f', '%o %k=%s\n'])
    expect(out).toBe('0 k1=v1\n1 k2=v2\n2 =v3\n3 k4=ünïcödé value\n')
    const stored = await readWithWeir(world.weir.transport, 'lines', 0, 4)
    expect(stored.map(r => [r.key?.toString() ?? null, r.value?.toString()])).toEqual([
      ['k1', 'v1'], ['k2', 'v2'], [null, 'v3'], ['k4', 'ünïcödé value']])
  })

  it('kcat -P -z gzip stores gzip batches (Produce v0 is advertised) that read back identical',
    async () => {
      const lines = Array.from({ length: 200 }, (_, i) => `compressible ${i} ${'z'.repeat(40)}`)
      await kcat(['-P', '-t', 'zipped', '-z', 'gzip'], lines.join('\n') + '\n')
      const [result] = await world.weir.transport.fetch({ partitions: [{ topic: 'zipped',
        partition: 0, offset: 0 }] })
      expect(result!.bytes.readInt16BE(21) & 0x07).toBe(1) // the first batch's codec: gzip
      const out = await kcat(['-C', '-t', 'zipped', '-o', 'beginning', '-e', '-f', '%s\n'])
      expect(out).toBe(lines.join('\n') + '\n')
    })

  it.each(['snappy', 'lz4'] as const)('kcat -P -z %s stores batches of that codec, which '
    + 'Weir decodes (records read back identical with Weir and with kcat)', async codec => {
    const topic = `by-kcat-${codec}`
    const lines = Array.from({ length: 3000 }, (_, i) =>
      `{"order":${i},"customer":"c-${i % 37}","note":"${'compressible '.repeat(i % 5)}"}`)
    await kcat(['-P', '-t', topic, '-z', codec], lines.join('\n') + '\n')
    const [result] = await world.weir.transport.fetch({ partitions: [{ topic,
      partition: 0, offset: 0 }] })
    expect(result!.bytes.readInt16BE(21) & 0x07).toBe(codec === 'snappy' ? 2 : 3)
    const stored = await readWithWeir(world.weir.transport, topic, 0, lines.length)
    expect(stored.map(record => record.value?.toString())).toEqual(lines)
    const out = await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%s\n'])
    expect(out).toBe(lines.join('\n') + '\n')
  })

  it.each(['snappy', 'lz4'] as const)('kcat -C reads the %s batches Weir\'s producer wrote',
    async codec => {
      const topic = `by-weir-${codec}`
      const lines = Array.from({ length: 2000 }, (_, i) =>
        `weir ${i} ${'x'.repeat(i % 300)} ${i % 7 === 0 ? 'ünïcödé' : ''}`)
      const producer = world.weir.producer({ compression: codec, lingerMs: 5 })
      try {
        await Promise.all(lines.map(value => producer.send({ topic, messages: [{ value }] })))
      } finally {
        await producer.close()
      }
      const [result] = await world.weir.transport.fetch({ partitions: [{ topic,
        partition: 0, offset: 0 }] })
      expect(result!.bytes.readInt16BE(21) & 0x07).toBe(codec === 'snappy' ? 2 : 3)
      const out = await kcat(['-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%s\n'])
      expect(out).toBe(lines.join('\n') + '\n')
    })

  it('a pipelined burst of 10,000 lines (linger.ms=0) is stored in order', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `burst ${i}`)
    await kcat(['-P', '-t', 'burst', '-X', 'linger.ms=0'], lines.join('\n') + '\n')
    const stored = await readWithWeir(world.weir.transport, 'burst', 0, lines.length)
    expect(stored.map(r => r.value?.toString())).toEqual(lines)
  })

  it.skipIf(!initProducerIdServed)('kcat -P with enable.idempotence stores each line once',
    async () => {
      const lines = Array.from({ length: 50 }, (_, i) => `idempotent ${i}`)
      await kcat(['-P', '-t', 'idempotent', '-X', 'enable.idempotence=true'],
        lines.join('\n') + '\n')
      const [result] = await world.weir.transport.fetch({ partitions: [{ topic: 'idempotent',
        partition: 0, offset: 0 }] })
      expect(result!.bytes.readBigInt64BE(43)).toBeGreaterThanOrEqual(0n) // a producer id
      const out = await kcat(['-C', '-t', 'idempotent', '-o', 'beginning', '-e', '-f', '%s\n'])
      expect(out).toBe(lines.join('\n') + '\n')
    })

  it('kcat -C (read_committed by default) skips an aborted Weir transaction', async () => {
    const plain = world.weir.producer()
    const transactional = world.weir.producer({ transactionalId: 'kcat-tx' })
    await transactional.initTransactions()
    await plain.send({ topic: 'txn', messages: [{ value: 'before' }] })
    transactional.beginTransaction()
    await transactional.send({ topic: 'txn', messages: [{ value: 'aborted' }] })
    await transactional.abortTransaction()
    transactional.beginTransaction()
    await transactional.send({ topic: 'txn', messages: [{ value: 'committed' }] })
    await transactional.commitTransaction()
    await readWithWeir(world.weir.transport, 'txn', 0, 5) // both markers have landed
    const read = (isolation: string) => kcat(['-C', '-t', 'txn', '-o', 'beginning', '-e',
      '-X', `isolation.level=${isolation}`, '-f', '%o %s\n'])
    expect(await read('read_committed')).toBe('0 before\n3 committed\n')
    expect(await read('read_uncommitted')).toBe('0 before\n1 aborted\n3 committed\n')
  })

  it.skipIf(!transactionsServed)('kcat -C skips an aborted KafkaJS transaction', async () => {
    const kafka = new Kafka({ clientId: 'weir-kcat-test', logLevel: logLevel.NOTHING,
      brokers: [`127.0.0.1:${world.listener.port}`], retry: { retries: 3 } })
    const producer = kafka.producer({ transactionalId: 'kcat-kjs', idempotent: true,
      maxInFlightRequests: 1 })
    await producer.connect()
    try {
      const aborted = await producer.transaction()
      await aborted.send({ topic: 'kjs-txn', messages: [{ value: 'B aborted' }] })
      await aborted.abort()
      const committed = await producer.transaction()
      await committed.send({ topic: 'kjs-txn', messages: [{ value: 'A committed' }] })
      await committed.commit()
    } finally {
      await producer.disconnect()
    }
    await readWithWeir(world.weir.transport, 'kjs-txn', 0, 4) // both markers have landed
    const read = (isolation: string) => kcat(['-C', '-t', 'kjs-txn', '-o', 'beginning', '-e',
      '-X', `isolation.level=${isolation}`, '-f', '%o %s\n'])
    expect(await read('read_committed')).toBe('2 A committed\n')
    expect(await read('read_uncommitted')).toBe('0 B aborted\n2 A committed\n')
  })

  it('kcat -L lists the broker as controller and the topics', async () => {
    const out = await kcat(['-L'])
    expect(out).toContain(`broker 0 at 127.0.0.1:${world.listener.port} (controller)`)
    for (const topic of ['lines', 'zipped', 'idempotent', 'txn']) {
      expect(out).toContain(`topic "${topic}" with 1 partitions:`)
    }
    expect(out).not.toContain('__consumer_offsets')
  })
})
