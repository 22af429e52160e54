/**
 * Goal (issue 9): kcat 1.7.1 (librdkafka 2.0.2) runs a balanced consumer group (`kcat -G`) on
 * Weir through the Kafka listener: librdkafka finds the coordinator (it needs FindCoordinator v0
 * in the advertised range), joins, syncs, consumes every record, commits, leaves; a second run
 * resumes from the committed offsets (OffsetFetch) and reads only the new record.
 * Method: an embedded broker in a temp dir, records produced with Weir's producer, kcat as a
 * child process (skipped, saying so, when `kcat` is not on PATH), offsets and group state read
 * with Weir's admin.
 */
import { execFile } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { kcatInstalled, listenerWorld, type ListenerWorld } from './kafka-wire.ts'

if (!kcatInstalled) {
  console.warn('kcat is not on PATH: skipping the kcat group test (apt-get install -y kcat)')
}

// Set in the describe below, so a skipped suite starts nothing; the helpers here read it
// only from its tests.
let world: ListenerWorld

/** `kcat -G group orders` until the end of every partition; resolves with its stdout lines. */
function consumeWithGroup(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('kcat', ['-b', `127.0.0.1:${world.listener.port}`, '-G', 'kg', '-X',
      'auto.offset.reset=earliest', '-e', '-f', '%p:%o %s\\n', 'orders'], { timeout: 30_000 },
    (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`kcat -G: ${error.message} ${stderr}`))
      else resolve(stdout.split('\n').filter(line => line !== '').sort())
    })
  })
}

const committed = async () => (await world.weir.admin().fetchOffsets('kg'))
  .map(({ partition, offset }) => [partition, offset])

describe.skipIf(!kcatInstalled)('kcat -G against the Kafka listener', () => {
  world = listenerWorld('weir-kcat-group-', { topics: [{ topic: 'orders', partitions: 3 }] })

  it('consumes and commits as a group, then resumes from the committed offsets', async () => {
    const producer = world.weir.producer()
    await producer.send({ topic: 'orders', messages: Array.from({ length: 6 },
      (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 3 })) })
    expect(await consumeWithGroup()).toEqual(['0:0 v0', '0:1 v3', '1:0 v1', '1:1 v4',
      '2:0 v2', '2:1 v5'])
    expect(await committed()).toEqual([[0, 2], [1, 2], [2, 2]])
    expect(await world.weir.admin().describeGroup('kg')).toMatchObject({ state: 'Empty',
      protocolType: 'consumer', members: [] })
    await producer.send({ topic: 'orders', messages: [{ value: 'new', partition: 1 }] })
    await producer.close()
    expect(await consumeWithGroup()).toEqual(['1:2 new'])
    expect(await committed()).toEqual([[0, 2], [1, 3], [2, 2]])
  }, 60_000)
})
