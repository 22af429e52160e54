/**
 * The writer the crash harness kills. Run as
 * `node --import tsx test/crash/crash-child.ts <directory> <seed>`: it opens (and so recovers) the
 * partition log in <directory> with `flush: 'always'` and small segments, then appends seeded
 * pseudo-random batches forever with up to APPENDS_IN_FLIGHT_MAX appends outstanding, so group
 * commit coalesces them, until it is SIGKILLed.
 *
 * Protocol on stdout, one line per event, each written only after the event happened:
 *
 *   ready                        (only with --wait-for-go) modules are loaded; waiting for a
 *                                `go` line on stdin, so the harness can spawn it ahead of time
 *   start                        about to open the log; the harness starts its kill timer now
 *   open <logStart> <logEnd>     the log is open and recovered; appends begin at <logEnd>
 *   ack <base> <last> <crc>      an append resolved (fsynced): offsets [base, last] hold the
 *                                records whose canonical checksum (below) is <crc>, in hex
 *
 * This module also owns what is appended (seeded PRNG, batch shape, log config) and the canonical
 * checksum of a batch, which the harness imports, so the writer and the checker cannot drift
 * apart. Canonical checksum: CRC-32C over, for each record in offset order, the key then the
 * value, each as a uint32 big-endian length (0xFFFFFFFF for null) followed by its bytes.
 *
 * stdout is a pipe, which Node writes synchronously on Linux, so a line is in the kernel's pipe
 * buffer before the next append can resolve; a line cut by the kill arrives without its newline
 * and the harness ignores it. Any append failure is a bug worth seeing: it is printed to stderr
 * and the process exits 2 (the harness reports a child that exits on its own).
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KiB } from '../../src/limits.ts'
import type { LogConfig } from '../../src/log/log-config.ts'
import { PartitionLog } from '../../src/log/partition-log.ts'
import { assert } from '../../src/util/assert.ts'
import { crc32c } from '../../src/util/crc32c.ts'
import { waitForGo } from '../helpers/child-process.ts'

const APPENDS_IN_FLIGHT_MAX = 8
const BATCH_RECORDS_MAX = 50
const KEY_BYTES_MAX = 32
const VALUE_BYTES_MAX = 2000
const SMALL_VALUE_BYTES_MAX = 100

/** Small segments so rolls happen every few hundred appends; a frequent checkpoint timer. */
export const CRASH_LOG_CONFIG: Partial<LogConfig> = {
  flush: 'always',
  segmentBytesMax: 256 * KiB,
  batchBytesMax: 160 * KiB,
  recordBytesMax: 64 * KiB,
  recoveryPointCheckpointIntervalMs: 50,
}

/** mulberry32: a tiny seeded PRNG, plenty for choosing sizes and bytes. */
export class CrashRandom {
  private state: number

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed) && seed >= 0, 'seed is a non-negative integer')
    this.state = seed >>> 0
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** Uniform integer in [0, bound). */
  below(bound: number): number {
    assert(Number.isSafeInteger(bound) && bound > 0 && bound <= 2 ** 32, 'bound in (0, 2^32]')
    return Math.floor((this.nextUint32() / 2 ** 32) * bound)
  }

  /** Uniform integer in [min, max]. */
  between(min: number, max: number): number {
    assert(min <= max, 'min ≤ max')
    return min + this.below(max - min + 1)
  }

  bytes(length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length)
    for (let i = 0; i < length; i += 4) {
      const word = this.nextUint32()
      for (let j = 0; j < 4 && i + j < length; j++) buffer[i + j] = (word >>> (8 * j)) & 0xff
    }
    return buffer
  }
}

interface KeyValue {
  readonly key?: Buffer | null
  readonly value: Buffer | null
}

/**
 * One batch of 1–50 records; keys of 0–32 bytes, values of 0–2000 bytes, both sometimes null.
 * Most values are small (1 in 8 is drawn from the whole range): what matters is how many append
 * and kill points a run covers, and a log that grows by gigabytes would make every check slow.
 */
export function generateBatch(random: CrashRandom): KeyValue[] {
  const count = random.between(1, BATCH_RECORDS_MAX)
  return Array.from({ length: count }, () => {
    const key = random.below(10) === 0 ? null : random.bytes(random.between(0, KEY_BYTES_MAX))
    const valueBytesMax = random.below(8) === 0 ? VALUE_BYTES_MAX : SMALL_VALUE_BYTES_MAX
    const value = random.below(20) === 0 ? null : random.bytes(random.between(0, valueBytesMax))
    return { key, value }
  })
}

/** Scratch for a length prefix; used synchronously only, so one buffer serves every call. */
const lengthScratch = Buffer.alloc(4)

function checksumField(previous: number, bytes: Buffer | null | undefined): number {
  lengthScratch.writeUInt32BE(bytes === null || bytes === undefined ? 0xffffffff : bytes.length)
  const crc = crc32c(lengthScratch, 0, 4, previous)
  return bytes === null || bytes === undefined ? crc : crc32c(bytes, 0, bytes.length, crc)
}

/** Continues a canonical checksum (see the file comment) with one more record. */
export function checksumRecord(previous: number, record: KeyValue): number {
  return checksumField(checksumField(previous, record.key), record.value)
}

export function canonicalChecksum(records: readonly KeyValue[]): number {
  return records.reduce(checksumRecord, 0)
}

function fail(error: unknown): never {
  process.stderr.write(`crash-child: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(2)
}

async function main(): Promise<void> {
  const [directory, seedText, flag] = process.argv.slice(2)
  if (directory === undefined || seedText === undefined || !/^\d{1,10}$/.test(seedText)
    || (flag !== undefined && flag !== '--wait-for-go')) {
    process.stderr.write('usage: crash-child.ts <directory> <seed (uint32)> [--wait-for-go]\n')
    process.exit(64)
  }
  if (flag === '--wait-for-go') {
    process.stdout.write('ready\n')
    await waitForGo()
  }
  process.stdout.write('start\n')
  const log = await PartitionLog.open({ directory, config: CRASH_LOG_CONFIG })
  process.stdout.write(`open ${log.logStartOffset} ${log.logEndOffset}\n`)
  const random = new CrashRandom(Number(seedText))
  let inFlight = 0

  // Each resolution tops the outstanding appends up to a fresh random target, so the writer sees
  // groups of every size from 1 to the maximum. The target is at least 1: appending never stops.
  const topUp = (): void => {
    const target = 1 + random.below(APPENDS_IN_FLIGHT_MAX)
    while (inFlight < target) {
      const records = generateBatch(random)
      const checksum = canonicalChecksum(records)
      inFlight++
      log.appendRecords(records).then(({ baseOffset, lastOffset }) => {
        assert(lastOffset - baseOffset + 1 === records.length, 'one offset per record appended')
        process.stdout.write(`ack ${baseOffset} ${lastOffset} ${checksum.toString(16)}\n`)
        inFlight--
        topUp()
      }).catch(fail)
    }
  }
  topUp()
}

// The harness imports the workload and checksum from here; only a direct run starts appending.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch(fail)
}
