/**
 * Small files replaced atomically and durably (metadata, snapshots): write `<path>.tmp`, fsync
 * it, rename over `<path>`, fsync the directory. A crash leaves either the old or the new file
 * whole, plus perhaps a stray `.tmp` that readers ignore and owners delete.
 */
import { dirname } from 'node:path'
import type { FileSystem } from './file-system.ts'

export async function writeFileAtomically(fs: FileSystem, path: string, data: Uint8Array):
Promise<void> {
  const handle = await fs.open(`${path}.tmp`, 'create')
  try {
    await handle.truncate(0)
    await handle.write(data, 0)
    await handle.datasync()
  } finally {
    await handle.close()
  }
  await fs.rename(`${path}.tmp`, path)
  await fs.syncDirectory(dirname(path))
}

/** The whole content of a file, or undefined when it does not exist. */
export async function readWholeFile(fs: FileSystem, path: string): Promise<Buffer | undefined> {
  if (!await fs.exists(path)) return undefined
  const handle = await fs.open(path, 'read')
  try {
    const size = await handle.size()
    const buffer = Buffer.alloc(size)
    const read = await handle.read(buffer, 0, size, 0)
    return buffer.subarray(0, read)
  } finally {
    await handle.close()
  }
}
