/**
 * Goal: the record and admin commands against a real server: `weir produce` then `weir consume`
 * gives back the input byte for byte (unicode, empty lines, '\r', invalid UTF-8); keys taken
 * from a JSON field put each key's records in one partition, in order; a group consumes part of
 * a topic with --max and the rest on the next run, exactly once, and `lag`, `groups describe`
 * and `groups reset` agree with what was consumed; `--json` output parses; tables align;
 * runtime failures are exit 1 with the WeirError code.
 * Method: a WeirServer on a temp dir and port 0 in the test process; every command a child
 * process with --url. The tests of a describe run in order and share its topics.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WeirServer } from '../../src/server/weir-server.ts'
import { weir, weirOk } from './cli-helpers.ts'

let directory: string
let server: WeirServer
let url: string[]

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'weir-cli-records-'))
  server = await WeirServer.start({ dir: join(directory, 'data'), port: 0 })
  url = ['--url', server.url]
})

afterAll(async () => {
  await server?.close()
  await rm(directory, { recursive: true, force: true })
})

interface JsonRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: string | null
  readonly value: string | null
  readonly valueEncoding?: 'base64'
  readonly headers: unknown[]
}

const jsonLines = (text: string): JsonRecord[] => text.trim().split('\n')
  .map(line => JSON.parse(line) as JsonRecord)

describe('produce and consume', () => {
  it('a file produced then consumed back is byte-identical: every line a record, empty lines '
    + 'and invalid UTF-8 included', async () => {
    const special = [Buffer.from('héllo wörld ✓ 日本語 🚀'), Buffer.alloc(0), Buffer.from('crlf\r'),
      Buffer.from([0xff, 0xfe, 0x00, 0x41]), Buffer.from('  spaces\tand tab  '), Buffer.alloc(0)]
    const lines = [...special, ...Array.from({ length: 1500 }, (_, i) =>
      Buffer.from(`line ${i} ${'x'.repeat(i % 50)}`))]
    const content = Buffer.concat(lines.flatMap(line => [line, Buffer.from('\n')]))
    const file = join(directory, 'input.txt')
    await writeFile(file, content)

    const created = JSON.parse((await weirOk(['topics', 'create', 'bytes', '--partitions', '1',
      '--json', ...url])).text) as { created: boolean, topic: { partitions: number } }
    expect(created).toMatchObject({ created: true, topic: { partitions: 1 } })
    const produced = JSON.parse((await weirOk(['produce', 'bytes', '--file', file, '--batch',
      '400', '--json', ...url])).text) as { records: number, partitions: unknown[] }
    expect(produced).toMatchObject({ records: lines.length,
      partitions: [{ partition: 0, records: lines.length }] })

    const [consumed, asJson, described] = await Promise.all([
      weirOk(['consume', 'bytes', '--from-beginning', '--to-end', ...url]),
      weirOk(['consume', 'bytes', '--from-beginning', '--max', '4', '--json', ...url]),
      weirOk(['topics', 'describe', 'bytes', '--json', ...url])])
    expect(consumed.stdout.equals(content)).toBe(true)
    const records = jsonLines(asJson.text)
    expect(records.map(r => [r.offset, r.key, r.value, r.valueEncoding])).toEqual([
      [0, null, 'héllo wörld ✓ 日本語 🚀', undefined], [1, null, '', undefined],
      [2, null, 'crlf\r', undefined], [3, null, '//4AQQ==', 'base64']])
    expect(JSON.parse(described.text)).toMatchObject({ name: 'bytes', partitions: 1,
      partitionStates: [{ partition: 0, logStartOffset: 0, highWatermark: lines.length }] })
  }, 60_000)

  it('keys taken from a JSON field keep each key in one partition, in input order', async () => {
    await server.transport.createTopics([{ topic: 'keyed', partitions: 3 }])
    const input = Array.from({ length: 300 }, (_, n) =>
      JSON.stringify({ user: `user-${n % 7}`, n })).join('\n') // no final newline: still a line
    const produced = JSON.parse((await weirOk(['produce', 'keyed', '--key-field', 'user',
      '--json', ...url], { input })).text) as { records: number }
    expect(produced.records).toBe(300)

    const records = jsonLines((await weirOk(['consume', 'keyed', '--from-beginning', '--to-end',
      '--json', ...url])).text)
    expect(records).toHaveLength(300)
    const partitionOf = new Map<string, number>()
    const lastN = new Map<string, number>()
    for (const record of records) {
      const value = JSON.parse(record.value!) as { user: string, n: number }
      expect(record.key).toBe(value.user)
      expect(partitionOf.get(value.user) ?? record.partition).toBe(record.partition)
      partitionOf.set(value.user, record.partition)
      expect(value.n).toBeGreaterThan(lastN.get(value.user) ?? -1)
      lastN.set(value.user, value.n)
    }
  }, 60_000)

  it('a group reads 100 records with --max, the other 200 on its next run, each once; lag, '
    + 'groups describe and groups reset agree', async () => {
    const first = await weirOk(['consume', 'keyed', '--group', 'readers', '--from-beginning',
      '--max', '100', ...url])
    const lag = JSON.parse((await weirOk(['lag', '--json', ...url])).text) as
      { groups: Array<{ groupId: string, lag: number }> }
    expect(lag.groups.find(group => group.groupId === 'readers')?.lag).toBe(200)
    // --from-beginning again: a partition the first run read nothing of has no committed offset.
    const second = await weirOk(['consume', 'keyed', '--group', 'readers', '--from-beginning',
      '--to-end', ...url])
    const values = [...first.text.trim().split('\n'), ...second.text.trim().split('\n')]
    expect(values).toHaveLength(300)
    expect(new Set(values.map(v => (JSON.parse(v) as { n: number }).n)).size).toBe(300)

    const [listed, described] = await Promise.all([
      weirOk(['groups', 'list', '--json', ...url]),
      weirOk(['groups', 'describe', 'readers', '--json', ...url])])
    expect((JSON.parse(listed.text) as { groups: Array<{ groupId: string }> }).groups
      .map(group => group.groupId)).toContain('readers')
    const description = JSON.parse(described.text) as { members: unknown[],
      offsets: Array<{ committedOffset: number, logEndOffset: number, lag: number }> }
    expect(description.members).toEqual([])
    expect(description.offsets).toHaveLength(3)
    for (const offset of description.offsets) {
      expect(offset.lag).toBe(0)
      // Commits cover printed records: an empty partition (user-N hash to two of three) has none.
      if (offset.logEndOffset > 0) expect(offset.committedOffset).toBe(offset.logEndOffset)
    }

    const reset = JSON.parse((await weirOk(['groups', 'reset', 'readers', '--topic', 'keyed',
      '--to', 'earliest', '--json', ...url])).text) as { offsets: Array<{ offset: number }> }
    expect(reset.offsets.map(o => o.offset)).toEqual([0, 0, 0])
    const table = (await weirOk(['lag', 'readers', ...url])).text
    expect(table).toMatch(/^GROUP +TOPIC +PARTITION +COMMITTED +END +LAG$/m)
    expect(table).toMatch(/^readers +300$/m)
  }, 60_000)
})

describe('admin commands', () => {
  it('topics list is an aligned table; a deleted topic is gone: consuming it is exit 1 with '
    + 'UNKNOWN_TOPIC', async () => {
    const list = await weirOk(['topics', 'list', ...url])
    expect(list.text).toMatch(/^TOPIC +PARTITIONS +CONFIG\n/)
    expect(list.text).toMatch(/^keyed +3 +-$/m)
    expect(JSON.parse((await weirOk(['topics', 'delete', 'bytes', '--json', ...url])).text))
      .toEqual({ deleted: ['bytes'] })
    const consume = await weir(['consume', 'bytes', ...url])
    expect(consume.code).toBe(1)
    expect(consume.stderr).toMatch(/^weir: UNKNOWN_TOPIC: /)
    expect(consume.stderr.trim().split('\n')).toHaveLength(1)
  }, 60_000)
})
