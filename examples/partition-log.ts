/**
 * The partition log on its own: append keyed records with `flush: 'always'`, read them back by
 * offset and by time, and compact the log so only the latest value per key remains.
 *
 *   npx tsx examples/partition-log.ts [directory]
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PartitionLog } from '../src/index.ts'

const directory = process.argv[2] ?? await mkdtemp(join(tmpdir(), 'weir-example-'))
const log = await PartitionLog.open({ directory, config: { cleanupPolicy: 'compact' } })
try {
  const start = Date.UTC(2026, 0, 1)
  for (let minute = 0; minute < 5; minute++) {
    const { baseOffset, lastOffset } = await log.appendRecords(['alice', 'bob'].map(user => ({
      key: Buffer.from(user),
      value: Buffer.from(JSON.stringify({ user, balance: minute * 10 })),
      timestamp: start + minute * 60_000,
    })))
    console.log(`minute ${minute}: offsets ${baseOffset}-${lastOffset} fsynced`)
  }
  const fromMinute3 = await log.offsetForTimestamp(start + 3 * 60_000)
  console.log(`first record at or after minute 3: offset ${fromMinute3}`)
  const { records } = await log.readRecords(fromMinute3 ?? 0)
  for (const record of records) console.log(record.offset, record.value?.toString())

  await log.roll() // compaction never touches the active segment: close it first
  const result = await log.compact()
  console.log(`compaction rewrote ${result.segmentsRewritten} segment(s): `
    + `${result.bytesBefore} → ${result.bytesAfter} bytes`)
  const after = await log.readRecords(log.logStartOffset)
  for (const record of after.records) console.log(record.offset, record.value?.toString())
} finally {
  await log.close()
}
console.log(`log in ${directory}`)
