/**
 * Goal: every client command reaches a Kafka cluster with `--kafka host:port` (Weir.kafka):
 * topics are created and described, lines produced come back from `consume` byte for byte, a
 * topology module runs exactly-once with `weir run` to caught-up, and a group's lag is read —
 * all through the Kafka protocol; `--kafka` with `--url` is a usage error.
 * Method: a WeirServer on port 0 with its Kafka listener on a free port (kafkaPort 0) in the test
 * process; every command a child process given only `--kafka 127.0.0.1:<port>`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WeirServer } from '../../src/server/weir-server.ts'
import { weir, weirOk } from './cli-helpers.ts'

const SHOUT = 'test/cli/fixtures/shout.ts'
let directory: string
let server: WeirServer
let kafka: string[]

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-cli-kafka-'))
  server = await WeirServer.start({ dir: join(directory, 'data'), port: 0, kafkaPort: 0 })
  kafka = ['--kafka', `127.0.0.1:${server.kafkaPort!}`]
})

afterAll(async () => {
  await server?.close()
  await rm(directory, { recursive: true, force: true })
})

describe('weir <command> --kafka', () => {
  it('creates, produces, consumes and runs a topology through the Kafka protocol', async () => {
    const created = JSON.parse((await weirOk(['topics', 'create', 'cli-words', '--partitions',
      '2', '--json', ...kafka])).text) as { created: boolean }
    expect(created.created).toBe(true)
    const lines = 'alpha\nbeta\nγάμμα\n'
    await weirOk(['produce', 'cli-words', ...kafka], { input: lines })
    const back = await weirOk(['consume', 'cli-words', '--from-beginning', '--to-end',
      ...kafka])
    expect(back.text.trim().split('\n').sort()).toEqual(['alpha', 'beta', 'γάμμα'])

    await weirOk(['run', SHOUT, '--exit-when-caught-up', '--state-dir',
      join(directory, 'state'), ...kafka])
    const shouts = await weirOk(['consume', 'cli-shouts', '--from-beginning', '--to-end',
      ...kafka])
    expect(shouts.text.trim().split('\n').sort()).toEqual(['ALPHA', 'BETA', 'ΓΆΜΜΑ'])
    // The same records, read by the server's own broker: the Kafka path wrote them.
    const described = JSON.parse((await weirOk(['topics', 'describe', 'cli-shouts', '--json',
      '--url', server.url])).text) as { partitionStates: Array<{ highWatermark: number }> }
    expect(described.partitionStates.reduce((sum, p) => sum + p.highWatermark, 0))
      .toBeGreaterThanOrEqual(3)
    const { groups } = JSON.parse((await weirOk(['lag', 'cli-shout', '--json', ...kafka])).text) as
      { groups: Array<{ groupId: string, lag: number, partitions: unknown[] }> }
    expect(groups).toMatchObject([{ groupId: 'cli-shout', lag: 0 }])
    expect(groups[0]!.partitions.length).toBeGreaterThan(0)
  }, 60_000)

  it('refuses --kafka together with --url (exit 2)', async () => {
    const result = await weir(['topics', 'list', ...kafka, '--url', server.url])
    expect(result.code).toBe(2)
    expect(result.stderr.toString()).toMatch(/--kafka reaches a Kafka cluster/)
  })
})
