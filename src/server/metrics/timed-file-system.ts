/**
 * A FileSystem that times every fdatasync (of segments, indexes, checkpoints) and every directory
 * fsync for the server's `weir_fsync_duration_seconds` histogram. Everything else passes through.
 */
import type { FileHandle, FileSystem, OpenMode } from '../../util/file-system.ts'

export function timedFileSystem(inner: FileSystem, observe: (seconds: number) => void):
FileSystem {
  const timed = async (sync: () => Promise<void>): Promise<void> => {
    const started = performance.now()
    await sync()
    observe((performance.now() - started) / 1000)
  }
  const timedHandle = (handle: FileHandle): FileHandle => ({
    path: handle.path,
    write: (data, position) => handle.write(data, position),
    writev: (buffers, position) => handle.writev(buffers, position),
    ...handle.writevSync === undefined ? {} : {
      writevSync: (buffers: readonly Uint8Array[], position: number) =>
        handle.writevSync!(buffers, position) },
    read: (target, targetOffset, length, position) =>
      handle.read(target, targetOffset, length, position),
    datasync: () => timed(() => handle.datasync()),
    truncate: length => handle.truncate(length),
    size: () => handle.size(),
    close: () => handle.close(),
  })
  return {
    open: async (path: string, mode: OpenMode) => timedHandle(await inner.open(path, mode)),
    list: directory => inner.list(directory),
    mkdir: directory => inner.mkdir(directory),
    rename: (from, to) => inner.rename(from, to),
    unlink: path => inner.unlink(path),
    syncDirectory: directory => timed(() => inner.syncDirectory(directory)),
    exists: path => inner.exists(path),
  }
}
