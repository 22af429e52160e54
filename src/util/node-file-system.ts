/**
 * `FileSystem` on the real disk through `node:fs/promises`. `datasync` is fdatasync(2) and
 * `syncDirectory` opens the directory read-only and fsyncs it, which is how Linux makes directory
 * entries durable.
 */
import { writeSync, writevSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import type { FileHandle, FileSystem, OpenMode } from './file-system.ts'

const flagsByMode: Record<Exclude<OpenMode, 'create'>, string> = { read: 'r', readWrite: 'r+' }

class NodeFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  async write(data: Uint8Array, position: number): Promise<void> {
    let written = 0
    while (written < data.length) {
      const { bytesWritten } = await this.handle.write(data, written, data.length - written,
        position + written)
      written += bytesWritten
    }
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    const total = buffers.reduce((sum, b) => sum + b.length, 0)
    const { bytesWritten } = await this.handle.writev(buffers as Uint8Array[], position)
    if (bytesWritten === total) return
    // A short vectored write is legal: finish it buffer by buffer from where it stopped.
    let skip = bytesWritten
    let at = position + bytesWritten
    for (const buffer of buffers) {
      if (skip >= buffer.length) {
        skip -= buffer.length
        continue
      }
      const rest = buffer.subarray(skip)
      skip = 0
      await this.write(rest, at)
      at += rest.length
    }
  }

  writevSync(buffers: readonly Uint8Array[], position: number): void {
    let written = writevSync(this.handle.fd, buffers as Uint8Array[], position)
    let at = position
    for (const buffer of buffers) {
      // A short vectored write is legal: finish it buffer by buffer from where it stopped.
      const skip = Math.min(written, buffer.length)
      written -= skip
      for (let done = skip; done < buffer.length;) {
        done += writeSync(this.handle.fd, buffer, done, buffer.length - done, at + done)
      }
      at += buffer.length
    }
  }

  async read(target: Uint8Array, targetOffset: number, length: number, position: number):
  Promise<number> {
    let total = 0
    while (total < length) {
      const { bytesRead } = await this.handle.read(target, targetOffset + total, length - total,
        position + total)
      if (bytesRead === 0) break
      total += bytesRead
    }
    return total
  }

  datasync(): Promise<void> {
    return this.handle.datasync()
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length)
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size
  }

  close(): Promise<void> {
    return this.handle.close()
  }
}

export class NodeFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    // 'a+' would force appends to the end on Linux and ignore positions; open for create then
    // reopen 'r+' so positional writes land where asked.
    if (mode === 'create') {
      const created = await fs.open(path, 'a')
      await created.close()
      return new NodeFileHandle(path, await fs.open(path, 'r+'))
    }
    return new NodeFileHandle(path, await fs.open(path, flagsByMode[mode]))
  }

  async list(directory: string): Promise<string[]> {
    return (await fs.readdir(directory)).sort()
  }

  async mkdir(directory: string): Promise<void> {
    await fs.mkdir(directory, { recursive: true })
  }

  rename(from: string, to: string): Promise<void> {
    return fs.rename(from, to)
  }

  async unlink(path: string): Promise<void> {
    await fs.rm(path, { force: true })
  }

  async syncDirectory(directory: string): Promise<void> {
    const handle = await fs.open(directory, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await fs.stat(path)
      return true
    } catch {
      return false
    }
  }
}
