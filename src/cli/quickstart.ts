/**
 * `weir quickstart`: the main job until the streams runtime exists. Appends records to a partition
 * log under `--dir` on the embedded default (real files, `flush: 'always'`), reads them all back,
 * verifies them and prints what it did. Running it again appends more: the log persists.
 */
import { join } from 'node:path'
import { PartitionLog } from '../log/partition-log.ts'
import { systemClock } from '../util/clock.ts'

export interface QuickstartOptions {
  readonly dir: string
  readonly records: number
  readonly batchRecords: number
  readonly log: (line: string) => void
}

export async function quickstart(options: QuickstartOptions): Promise<void> {
  const directory = join(options.dir, 'quickstart-0')
  const log = await PartitionLog.open({ directory })
  try {
    const startOffset = log.logEndOffset
    options.log(`opened ${directory}: log start ${log.logStartOffset}, log end ${startOffset}`)
    const started = performance.now()
    for (let written = 0; written < options.records; written += options.batchRecords) {
      const count = Math.min(options.batchRecords, options.records - written)
      await log.appendRecords(Array.from({ length: count }, (_, i) => ({
        key: Buffer.from(`user-${(written + i) % 100}`),
        value: Buffer.from(JSON.stringify({ n: startOffset + written + i,
          at: systemClock.nowMs() })),
      })))
      if ((written / options.batchRecords) % 20 === 0) {
        options.log(`appended ${written + count}/${options.records} (fsynced)`)
      }
    }
    const appendMs = performance.now() - started
    let offset = startOffset
    let verified = 0
    while (offset < log.highWatermark) {
      const { records, nextOffset } = await log.readRecords(offset)
      for (const record of records) {
        const body = JSON.parse(record.value!.toString()) as { n: number }
        if (body.n !== record.offset) throw new Error(`offset ${record.offset} holds ${body.n}`)
        verified++
      }
      offset = nextOffset
    }
    options.log(`read back and verified ${verified} records from offset ${startOffset}`)
    options.log(JSON.stringify({ appended: options.records, verified, logEndOffset:
      log.logEndOffset, segments: log.segmentCount, appendMs: Math.round(appendMs) }))
  } finally {
    await log.close()
  }
}
