/**
 * The recovery-point checkpoint: one file per partition directory holding the offset below which
 * every batch is known to be fsynced (Kafka's recovery-point-offset-checkpoint, per log here).
 * Layout: magic "WRP1" u32, offset i64, crc32c u32 of the first 12 bytes.
 *
 * Written as tmp file, fdatasync, rename, fsync(directory), so a crash leaves the old or the
 * new checkpoint, never a torn one. A damaged or missing checkpoint reads as undefined: recovery
 * then validates the whole active segment instead (slower, loses nothing).
 */
import { join } from 'node:path'
import { readWholeFile, writeFileAtomically } from '../util/atomic-file.ts'
import { crc32c } from '../util/crc32c.ts'
import type { FileSystem } from '../util/file-system.ts'
import { readInt64, writeInt64 } from '../util/varint.ts'
import { RECOVERY_POINT_FILE } from './segment-files.ts'

const MAGIC = 0x57525031 // "WRP1"
const FILE_BYTES = 16

export async function readRecoveryPoint(fs: FileSystem, directory: string):
Promise<number | undefined> {
  const bytes = await readWholeFile(fs, join(directory, RECOVERY_POINT_FILE))
  if (bytes === undefined || bytes.length !== FILE_BYTES) return undefined
  if (bytes.readUInt32BE(0) !== MAGIC || bytes.readUInt32BE(12) !== crc32c(bytes, 0, 12)) {
    return undefined
  }
  const offset = readInt64(bytes, 4)
  return offset >= 0 ? offset : undefined
}

export async function writeRecoveryPoint(fs: FileSystem, directory: string, offset: number):
Promise<void> {
  const bytes = Buffer.alloc(FILE_BYTES)
  bytes.writeUInt32BE(MAGIC, 0)
  writeInt64(bytes, 4, offset)
  bytes.writeUInt32BE(crc32c(bytes, 0, 12), 12)
  await writeFileAtomically(fs, join(directory, RECOVERY_POINT_FILE), bytes)
}
